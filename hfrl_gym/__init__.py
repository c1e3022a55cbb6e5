"""hfrl_gym: reinforcement learning from human feedback on control tasks.

Importing the package registers the suite's ``hfrl/<Name>-v0`` environments with Gymnasium
(string entry points: nothing heavy is imported until an env is made).

Modules:
    envs: the suite (fixed-horizon envs, snapshots, goals).
    clips, answers: the data a person or teacher sees and gives.
    wrappers: RecordClips, LearnedReward.
    render: frames of a clip from its snapshots; GIF/MP4 export.
    recording: rollout_clips (the one rollout function) and record_clips.
    store: LabelStore, the SQLite hub of clips, queries and answers (store_sqlite holds its
        schema and SQL; store_io exports and imports).
    teachers, queries: scripted teachers and pair selection.
    reward_model: the Bradley-Terry ensemble.
    cli: the foundation's ``hfrl`` sub-commands (the command is composed in ``human_ui.cli``).
"""

from hfrl_gym.envs import register_suite

__version__ = "0.1.0"

register_suite()
