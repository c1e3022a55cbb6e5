"""Film a run's trained agent: one episode re-rendered from simulator snapshots.

Functions:
    write_policy_video: MP4 (or GIF) of the policy saved in a run folder.
"""

from __future__ import annotations

from pathlib import Path

from agents.policy_file import policy_model
from agents.run_folder import RunFolder
from hfrl_gym.envs import get_spec
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import record_clips
from hfrl_gym.render import ClipRenderer, video_target, write_video


def write_policy_video(
    run_dir: Path | str,
    out: Path | str,
    *,
    num_steps: int | None = None,
    width: int = 480,
    height: int = 320,
    fps: int = 30,
    seed: int = 0,
) -> Path:
    """Play the run's policy for one episode and write the frames to ``out``.

    Args:
        run_dir: a run folder with a saved policy (``policy.pt``, or an older ``policy.zip``:
            only its tensors are read, so a run folder from someone else runs no code).
        out: ``.mp4`` or ``.gif`` file to write.
        num_steps: steps to film; the whole horizon for classic control, 300 for MuJoCo
            (software rendering is slow) when ``None``.
        width, height: frame size in pixels.
        fps: frames per second of the video.
        seed: seed of the filmed episode.
    """
    run = RunFolder(run_dir).require()
    out = video_target(out)  # checked before the episode is played and rendered
    policy_path = run.saved_policy()
    if policy_path is None:
        raise ConfigError(f"{run.root} has no policy.pt yet; train it first")
    env_id = run.read_json(run.config_path).get("env")
    if not isinstance(env_id, str):
        raise ConfigError(f"{run.config_path} names no env; restore the run's config.json")
    spec = get_spec(env_id)
    if num_steps is None:
        num_steps = min(spec.horizon, 300) if spec.mujoco else spec.horizon
    model = policy_model(env_id, policy_path)  # PPO or SAC, as saved

    def act(obs, rng):
        return model.predict(obs, deterministic=True)[0]

    (clip,) = record_clips(
        env_id, num_clips=1, clip_num_steps=num_steps, seed=seed, policy=act, policy_name="ppo"
    )
    with ClipRenderer() as renderer:
        frames = renderer.render_frames(clip, width=width, height=height)
    write_video(out, frames, fps=fps)
    return out
