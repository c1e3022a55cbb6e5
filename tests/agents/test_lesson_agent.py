"""The lessons' agent (``agents.lessons.common.lesson_agent``): the loop's envs and PPO."""

from __future__ import annotations

from agents.lessons.common import lesson_agent
from agents.rewards import ConstantReward


def _episode_returns(absorbing_steps: int) -> list[float]:
    agent = lesson_agent(
        "hfrl/CartPole-v0", ConstantReward(), seed=0, absorbing_steps=absorbing_steps
    )
    try:
        agent.train(agent.rollout_env_steps, round_index=0)  # one rollout of a new policy
        return [true_return for _, true_return in agent.pop_episodes()]
    finally:
        agent.close()


def test_training_episodes_end_in_the_absorbing_state_as_a_runs_do(one_torch_thread) -> None:
    truncated = _episode_returns(absorbing_steps=5)
    # a new policy drops the pole within a few dozen steps; 5 steps later the episode ends
    assert len(truncated) >= 5
    assert max(truncated) < 100
    # control: without truncation every episode runs to CartPole's horizon of 500 steps,
    # longer than one rollout of each sub-env, so none has ended yet
    assert _episode_returns(absorbing_steps=0) == []
