"""Fixed-horizon MuJoCo envs: Gymnasium's v5 envs without early termination, with snapshots.

Importing this module imports MuJoCo; ``hfrl_gym`` reaches it only through the string entry
points, when a MuJoCo suite env is made. Each class fixes the v5 keyword arguments that
define the suite version (``terminate_when_unhealthy=False`` for Hopper and Walker2d) and
accepts only ``render_mode``, ``width`` and ``height``.

Four changes to Gymnasium's v5 behaviour, shared by every class here (``MujocoSnapshots``):

- After each step the derived quantities (body positions, the tracking camera's target) are
  recomputed with ``mj_forward``. Gymnasium leaves them one physics substep behind the
  state, so a frame rendered live would differ from the frame of the restored state.
  Dynamics are unchanged (``mj_step`` recomputes them from the state anyway); Reacher's
  fingertip-to-target observation and reward now use the current positions.
- Shadow maps are 1024 px instead of MuJoCo's default 4096 (``SHADOW_MAP_PX``): frames look
  the same at clip sizes and render about 2.5x faster with software OpenGL.
- MuJoCo's model-compiler warnings go to this module's logger (DEBUG), not to stderr and a
  ``MUJOCO_LOG.TXT`` in the working directory.
- ``get_state()`` returns ``[time, qpos, qvel, act, qacc_warmstart]`` (MuJoCo's
  ``mj_getState`` with those parts) and ``set_state(state)`` restores it and calls
  ``mj_forward``; the solver warm start makes the next step bit-identical.

The ``-v1`` locomotion envs (``Tracked*``) add a camera that follows the torso: Gymnasium's
free camera stays where the robot started, so a robot that moves a few metres leaves the
picture. Their camera's look-at point is ``(torso x, 0, height)`` on every frame, a pure
function of the state (restored snapshots still render the live frames), seen from the
side at the v5 distance; the floor is drawn far enough for the longest run and the lights
follow the torso (``TorsoCamera``). The ``-v0`` envs keep the fixed camera so stored clips
re-render as they were recorded.

Classes:
    MujocoSnapshots: mixin with the snapshot and rendering behaviour above.
    TorsoCamera: where a tracking camera looks (the tracked body, height, distance).
    FixedHalfCheetahEnv: HalfCheetah-v5 (it never terminated).
    FixedHopperEnv: Hopper-v5 that keeps simulating after a fall.
    FixedWalker2dEnv: Walker2d-v5 that keeps simulating after a fall.
    FixedInvertedPendulumEnv: InvertedPendulum-v5; reward 1 only while upright.
    FixedReacherEnv: Reacher-v5 (it never terminated).
    TrackedHalfCheetahEnv, TrackedHopperEnv, TrackedWalker2dEnv: the same with the camera
        following the torso (``hfrl/*-v1``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import mujoco
import numpy as np
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv
from gymnasium.envs.mujoco.hopper_v5 import HopperEnv
from gymnasium.envs.mujoco.inverted_pendulum_v5 import InvertedPendulumEnv
from gymnasium.envs.mujoco.mujoco_env import DEFAULT_SIZE
from gymnasium.envs.mujoco.reacher_v5 import ReacherEnv
from gymnasium.envs.mujoco.walker2d_v5 import Walker2dEnv

from hfrl_gym.envs.snapshots import checked_state
from hfrl_gym.envs.suite import GL_HELP, ensure_gl_backend
from hfrl_gym.errors import HfrlError, RenderError

Step = tuple[np.ndarray, float, bool, bool, dict[str, Any]]

_LOG = logging.getLogger(__name__)

SHADOW_MAP_PX = 1024
"""Shadow map size in pixels; MuJoCo's default of 4096 costs about 2.5x the render time with
software OpenGL (no GPU) for shadows that look the same at clip sizes."""

STATE_PARTS = (
    mujoco.mjtState.mjSTATE_TIME
    | mujoco.mjtState.mjSTATE_QPOS
    | mujoco.mjtState.mjSTATE_QVEL
    | mujoco.mjtState.mjSTATE_ACT
    | mujoco.mjtState.mjSTATE_WARMSTART
)


FLOOR_HALF_SIZE_M = 2000.0
"""Half-size of the drawn floor with a tracking camera: a cheetah running 15 m/s for 1000
steps of 0.05 s covers 750 m; the models' floors end at 20-40 m (collision with a plane is
infinite either way, so only the picture changes)."""


@dataclass(frozen=True)
class TorsoCamera:
    """A free camera that looks at ``(x of body, 0, height_m)`` from ``distance_m`` away.

    The floor is drawn out to ``FLOOR_HALF_SIZE_M`` with the checkers of the original size,
    and the world's lights move with the body along x, so its shadow stays under it.

    Attributes:
        body: name of the MuJoCo body whose x position the camera follows.
        height_m: height of the look-at point (fixed, so hops and falls show as height).
        distance_m: distance from the look-at point.
        elevation_deg: camera elevation (negative: looking down).
    """

    body: str
    height_m: float
    distance_m: float
    elevation_deg: float

    def widen_floor(self, model: mujoco.MjModel) -> None:
        """Draw the plane named ``floor`` to ``FLOOR_HALF_SIZE_M`` (rendering only)."""
        floor = model.geom("floor").id
        scale = FLOOR_HALF_SIZE_M / model.geom_size[floor, 0]
        model.geom_size[floor, :2] *= scale
        model.mat_texrepeat[model.geom_matid[floor]] *= scale  # same checker size

    def aim(self, camera: mujoco.MjvCamera, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        """Point ``camera`` and the world's lights at the body as it is in ``data``.

        Only the lights' drawn positions (``data.light_xpos``, which no dynamics read and
        ``mj_forward`` recomputes) change; the frame is a function of the state alone.
        """
        body_x = data.body(self.body).xpos[0]
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.lookat[:] = (body_x, 0.0, self.height_m)
        camera.distance = self.distance_m
        camera.elevation = self.elevation_deg
        camera.azimuth = 90.0  # looking along +y: forward (+x) is to the right
        in_world = model.light_bodyid == 0
        data.light_xpos[in_world, 0] = model.light_pos[in_world, 0] + body_x


class MujocoSnapshots:
    """Mixin for Gymnasium ``MujocoEnv`` subclasses: snapshots and up-to-date rendering.

    ``set_state`` keeps MujocoEnv's two-argument form ``set_state(qpos, qvel)`` (used by
    ``reset_model``); with one argument it restores a snapshot from :meth:`get_state`.

    Example:
        >>> env = FixedHalfCheetahEnv()
        >>> _ = env.reset(seed=0)
        >>> snapshot = env.get_state()
        >>> snapshot.shape, snapshot.dtype
        ((28,), dtype('float64'))
    """

    model: mujoco.MjModel
    data: mujoco.MjData
    torso_camera: ClassVar[TorsoCamera | None] = None
    """The tracking camera of the ``-v1`` locomotion envs; ``None``: Gymnasium's camera."""

    @property
    def state_dim(self) -> int:
        """Length of the snapshot: ``1 + nq + nv + na + nv``."""
        return int(mujoco.mj_stateSize(self.model, STATE_PARTS))

    def get_state(self) -> np.ndarray:
        """``(state_dim,)`` float64 snapshot ``[time, qpos, qvel, act, qacc_warmstart]``."""
        state = np.empty(self.state_dim, dtype=np.float64)
        mujoco.mj_getState(self.model, self.data, state, STATE_PARTS)
        return state

    def set_state(self, state: np.ndarray, qvel: np.ndarray | None = None) -> None:
        """Restore a snapshot, or set ``(qpos, qvel)`` as MujocoEnv does.

        Args:
            state: ``(state_dim,)`` snapshot from :meth:`get_state`, or ``qpos`` ``(nq,)``
                when ``qvel`` is given.
            qvel: ``(nv,)`` joint velocities for MujocoEnv's form; ``None`` for a snapshot.
        """
        if qvel is not None:
            super().set_state(state, qvel)  # type: ignore[misc]
            return
        array = checked_state(state, self.state_dim, type(self).__name__)
        mujoco.mj_setState(self.model, self.data, array, STATE_PARTS)
        mujoco.mj_forward(self.model, self.data)

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        # Compiler warnings (HalfCheetah's XML uses a deprecated attribute) go to logging
        # instead of stderr and a MUJOCO_LOG.TXT in the working directory.
        previous = mujoco.get_mju_user_warning()
        mujoco.set_mju_user_warning(_LOG.debug)
        try:
            model, data = super()._initialize_simulation()  # type: ignore[misc]
        finally:
            mujoco.set_mju_user_warning(previous)
        model.vis.quality.shadowsize = SHADOW_MAP_PX
        if self.torso_camera is not None:
            self.torso_camera.widen_floor(model)
        return model, data

    def _step_mujoco_simulation(self, ctrl: np.ndarray, n_frames: int) -> None:
        self.data.ctrl[:] = ctrl
        mujoco.mj_step(self.model, self.data, nstep=n_frames)
        mujoco.mj_forward(self.model, self.data)  # positions of the state just reached
        mujoco.mj_rnePostConstraint(self.model, self.data)

    def render(self) -> np.ndarray | None:
        """Render as ``render_mode`` says; ``RenderError`` when no GL backend works."""
        ensure_gl_backend()
        try:
            if self.torso_camera is not None:
                # Gymnasium makes the viewer on the first render and keeps it; its camera is
                # re-aimed from the current state before every frame.
                renderer = self.mujoco_renderer  # type: ignore[attr-defined]
                viewer = renderer._get_viewer(self.render_mode)  # type: ignore[attr-defined]
                self.torso_camera.aim(viewer.cam, self.model, self.data)
            return super().render()  # type: ignore[misc]
        except HfrlError:
            raise
        except Exception as exc:
            raise RenderError(f"MuJoCo could not render ({exc}); {GL_HELP}") from exc


class _MadeWithV5Kwargs:
    """Made with render settings and the class's own v5 keyword arguments ``v5_kwargs``."""

    v5_kwargs: ClassVar[dict[str, Any]] = {}

    def __init__(
        self, render_mode: str | None = None, width: int = DEFAULT_SIZE, height: int = DEFAULT_SIZE
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            render_mode=render_mode, width=width, height=height, **self.v5_kwargs
        )


class _NeverTerminates(_MadeWithV5Kwargs):
    """The v5 env's step and reward, with ``terminated`` always False."""

    def step(self, action: np.ndarray) -> Step:
        """Apply ``action`` for one control step of the env; never terminates."""
        obs, reward, _, truncated, info = super().step(action)  # type: ignore[misc]
        return obs, float(reward), False, truncated, info


class FixedHalfCheetahEnv(_NeverTerminates, MujocoSnapshots, HalfCheetahEnv):
    """HalfCheetah-v5 with snapshots; reward ``forward velocity - 0.1 * |action|^2``.

    Example:
        >>> env = FixedHalfCheetahEnv()
        >>> _ = env.reset(seed=0)
        >>> env.step(env.action_space.sample())[2]
        False
    """


class FixedHopperEnv(_NeverTerminates, MujocoSnapshots, HopperEnv):
    """Hopper-v5 that keeps simulating after a fall; healthy reward only while healthy.

    Example:
        >>> env = FixedHopperEnv()
        >>> _ = env.reset(seed=0)
        >>> env.set_state(env.init_qpos + [0, 0, 1.0, 0, 0, 0], env.init_qvel)  # torso tilted
        >>> _, reward, terminated, _, info = env.step(np.zeros(3, dtype=np.float32))
        >>> terminated, float(info["reward_survive"])
        (False, 0.0)
    """

    v5_kwargs: ClassVar[dict[str, Any]] = {"terminate_when_unhealthy": False}


class FixedWalker2dEnv(_NeverTerminates, MujocoSnapshots, Walker2dEnv):
    """Walker2d-v5 that keeps simulating after a fall; healthy reward only while healthy.

    Example:
        >>> env = FixedWalker2dEnv()
        >>> _ = env.reset(seed=0)
        >>> env.get_state().shape
        (28,)
    """

    v5_kwargs: ClassVar[dict[str, Any]] = {"terminate_when_unhealthy": False}


class FixedInvertedPendulumEnv(_MadeWithV5Kwargs, MujocoSnapshots, InvertedPendulumEnv):
    """InvertedPendulum-v5 that keeps simulating: reward 1 while |pole angle| <= 0.2 rad.

    Example:
        >>> env = FixedInvertedPendulumEnv()
        >>> _ = env.reset(seed=0)
        >>> env.set_state(np.array([0.0, 0.5]), np.zeros(2))  # pole tilted past 0.2 rad
        >>> _, reward, terminated, _, _ = env.step(np.zeros(1, dtype=np.float32))
        >>> reward, terminated
        (0.0, False)
    """

    def step(self, action: np.ndarray) -> Step:
        """Push the cart with force ``action`` for 0.04 s (2 substeps); never terminates."""
        obs, _, fallen, truncated, info = super().step(action)
        reward = 0.0 if fallen else 1.0
        info["reward_survive"] = reward
        return obs, reward, False, truncated, info


class FixedReacherEnv(_NeverTerminates, MujocoSnapshots, ReacherEnv):
    """Reacher-v5 with snapshots; reward ``-|fingertip - target| - |action|^2``.

    The target's position is part of ``qpos``, so the snapshot holds it.

    Example:
        >>> env = FixedReacherEnv()
        >>> _ = env.reset(seed=0)
        >>> env.get_state().shape
        (13,)
    """


class TrackedHalfCheetahEnv(FixedHalfCheetahEnv):
    """``hfrl/HalfCheetah-v1``: HalfCheetah-v0 with the camera following the torso.

    Example:
        >>> TrackedHalfCheetahEnv.torso_camera.body
        'torso'
    """

    torso_camera: ClassVar[TorsoCamera | None] = TorsoCamera(
        body="torso", height_m=0.35, distance_m=4.0, elevation_deg=-20.0
    )


class TrackedHopperEnv(FixedHopperEnv):
    """``hfrl/Hopper-v1``: Hopper-v0 with the camera following the torso.

    Example:
        >>> TrackedHopperEnv.torso_camera.height_m
        1.15
    """

    torso_camera: ClassVar[TorsoCamera | None] = TorsoCamera(
        body="torso", height_m=1.15, distance_m=3.0, elevation_deg=-20.0
    )


class TrackedWalker2dEnv(FixedWalker2dEnv):
    """``hfrl/Walker2d-v1``: Walker2d-v0 with the camera following the torso.

    Example:
        >>> TrackedWalker2dEnv.torso_camera.distance_m
        4.0
    """

    torso_camera: ClassVar[TorsoCamera | None] = TorsoCamera(
        body="torso", height_m=1.15, distance_m=4.0, elevation_deg=-20.0
    )
