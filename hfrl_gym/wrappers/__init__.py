"""Wrappers that record clips and replace the reward.

Classes:
    RecordClips: cut experience into fixed-length clips with simulator snapshots.
    LearnedReward: give the agent a learned reward, keeping the env's in ``info``.
    TruncateAbsorbed: end a training episode a few steps into an absorbing state.
"""

from hfrl_gym.wrappers.end_absorbed import TruncateAbsorbed
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction, LearnedReward
from hfrl_gym.wrappers.record_clips import RecordClips

__all__ = ["BatchRewardFunction", "LearnedReward", "RecordClips", "TruncateAbsorbed"]
