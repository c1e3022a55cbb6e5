"""The suite: which ``hfrl/*`` ids exist, their horizons, and how to make them.

Every suite env has a fixed horizon: it never returns ``terminated=True`` and is truncated
after ``horizon`` steps (Gymnasium's ``TimeLimit``, added by ``gym.make`` from
``max_episode_steps``). An episode that ends early leaks reward information: with early
termination any positive constant reward solves CartPole. Each spec says in words what
replaces termination.

Classes:
    SuiteSpec: what one suite id is (horizon, description, termination text, spaces).

Functions:
    register_suite: register every suite id with Gymnasium (idempotent, imports nothing heavy).
    get_spec: the spec of one id, or ``UnknownEnvError`` naming the valid ids.
    suite_ids: the suite's ids in a stable order (superseded versions included).
    current_ids: the ids without superseded versions (what new work should use).
    task_id: the first version of an id's task (same dynamics, reward and goals).
    make_env: validate an id and make the env (choosing a headless GL backend for MuJoCo).
    ensure_gl_backend: set ``MUJOCO_GL=egl`` when no display and no backend was chosen.

Attributes:
    SUITE: ``dict[str, SuiteSpec]`` keyed by env id.
    ABSORBED: the ``info`` key, true on every step of an absorbing state (CartPole's crash),
        by which training may end an episode early (``hfrl_gym.wrappers.TruncateAbsorbed``).
"""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass, replace

import gymnasium as gym

from hfrl_gym.errors import RenderError, UnknownEnvError

ABSORBED = "absorbed"
GL_HELP = (
    "set MUJOCO_GL=egl (or osmesa) for headless rendering and install libegl1 (or "
    "libosmesa6 for osmesa); with a display, MUJOCO_GL=glfw"
)


@dataclass(frozen=True)
class SuiteSpec:
    """One suite environment.

    Attributes:
        env_id: the Gymnasium id, ``"hfrl/<Name>-v0"``.
        horizon: number of steps in every episode (truncation, never termination).
        description: one line on the task.
        termination: what replaces the original env's early termination.
        mujoco: whether the env needs MuJoCo (and a GL backend to render).
        entry_point: ``"module:Class"`` string Gymnasium imports when the env is made.
        observation: the observation space in words, e.g. ``"Box(4,) float32"``.
        action: the action space in words, e.g. ``"Discrete(2)"``.
        state_dim: length of the flat float64 snapshot from ``get_state``.
        same_task_as: the earlier id whose dynamics, reward, observations, snapshot and
            goals this version keeps (only its frames differ); ``None`` for a first version.
        superseded_by: the newer id to use instead (this one stays so stored clips
            re-render as recorded); ``None`` for a current version.

    Example:
        >>> spec = SUITE["hfrl/CartPole-v0"]
        >>> spec.horizon, spec.mujoco, spec.state_dim
        (500, False, 4)
        >>> spec.observation_shape, spec.action_shape
        ((4,), ())
    """

    env_id: str
    horizon: int
    description: str
    termination: str
    mujoco: bool
    entry_point: str
    observation: str
    action: str
    state_dim: int
    same_task_as: str | None = None
    superseded_by: str | None = None

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """The shape of one observation (from :attr:`observation`, tested against the env)."""
        return _space_shape(self.observation)

    @property
    def action_shape(self) -> tuple[int, ...]:
        """The shape of one action: ``()`` for a discrete space."""
        return _space_shape(self.action)


def _space_shape(text: str) -> tuple[int, ...]:
    """``"Box(4,) float32"`` -> ``(4,)``; ``"Discrete(2)"`` -> ``()``."""
    if text.startswith("Discrete("):
        return ()
    inside = text[text.index("(") + 1 : text.index(")")]
    return tuple(int(size) for size in inside.split(",") if size.strip())


_CLASSIC = "hfrl_gym.envs.classic"
_MUJOCO = "hfrl_gym.envs.mujoco"

_SPECS = (
    SuiteSpec(
        env_id="hfrl/CartPole-v0",
        horizon=500,
        description="push a cart left or right to keep its pole upright",
        termination=(
            "keeps simulating until the pole falls to 90 deg and crashes, then stays still "
            "(absorbing); walls stop the cart at the track ends |x| = 2.4; reward 1 only "
            "while |theta| < 12 deg and |x| < 2.4, else 0"
        ),
        mujoco=False,
        entry_point=f"{_CLASSIC}:FixedCartPoleEnv",
        observation="Box(4,) float32, |x| <= 2.4, |theta| <= pi/2",
        action="Discrete(2)",
        state_dim=4,
    ),
    SuiteSpec(
        env_id="hfrl/Pendulum-v0",
        horizon=200,
        description="swing a torque-limited pendulum up and hold it upright",
        termination="none needed: Pendulum never terminates; reward unchanged",
        mujoco=False,
        entry_point=f"{_CLASSIC}:FixedPendulumEnv",
        observation="Box(3,) float32",
        action="Box(1,) float32 in [-2, 2]",
        state_dim=3,
    ),
    SuiteSpec(
        env_id="hfrl/MountainCarContinuous-v0",
        horizon=999,
        description="rock an underpowered car up the right hill to the flag",
        termination=(
            "keeps simulating after the flag is reached; instead of +100 once, reward +1 "
            "on every step with position >= 0.45 and velocity >= 0, minus 0.1 * action^2"
        ),
        mujoco=False,
        entry_point=f"{_CLASSIC}:FixedMountainCarContinuousEnv",
        observation="Box(2,) float32",
        action="Box(1,) float32 in [-1, 1]",
        state_dim=2,
    ),
    SuiteSpec(
        env_id="hfrl/Acrobot-v0",
        horizon=500,
        description="swing the tip of a two-link arm above the line",
        termination=(
            "keeps simulating after the tip crosses the line; reward -1 per step while "
            "the tip is below the line, 0 while above"
        ),
        mujoco=False,
        entry_point=f"{_CLASSIC}:FixedAcrobotEnv",
        observation="Box(6,) float32",
        action="Discrete(3)",
        state_dim=4,
    ),
    SuiteSpec(
        env_id="hfrl/InvertedPendulum-v0",
        horizon=1000,
        description="MuJoCo cart-pole: keep the pole upright",
        termination=(
            "keeps simulating after the pole passes 0.2 rad; reward 1 only while "
            "|pole angle| <= 0.2, else 0"
        ),
        mujoco=True,
        entry_point=f"{_MUJOCO}:FixedInvertedPendulumEnv",
        observation="Box(4,) float64",
        action="Box(1,) float32 in [-3, 3]",
        state_dim=7,
    ),
    SuiteSpec(
        env_id="hfrl/Reacher-v0",
        horizon=50,
        description="move a two-joint arm's fingertip to a random target",
        termination="none needed: Reacher never terminates; reward unchanged",
        mujoco=True,
        entry_point=f"{_MUJOCO}:FixedReacherEnv",
        observation="Box(10,) float64",
        action="Box(2,) float32 in [-1, 1]",
        state_dim=13,
    ),
    SuiteSpec(
        env_id="hfrl/HalfCheetah-v0",
        horizon=1000,
        description="run a planar cheetah forward",
        termination="none needed: HalfCheetah never terminates; reward unchanged",
        mujoco=True,
        entry_point=f"{_MUJOCO}:FixedHalfCheetahEnv",
        observation="Box(17,) float64",
        action="Box(6,) float32 in [-1, 1]",
        state_dim=28,
        superseded_by="hfrl/HalfCheetah-v1",
    ),
    SuiteSpec(
        env_id="hfrl/Hopper-v0",
        horizon=1000,
        description="hop a one-legged robot forward",
        termination=(
            "keeps simulating after a fall (terminate_when_unhealthy=False); the healthy "
            "reward of 1 is paid only while healthy"
        ),
        mujoco=True,
        entry_point=f"{_MUJOCO}:FixedHopperEnv",
        observation="Box(11,) float64",
        action="Box(3,) float32 in [-1, 1]",
        state_dim=19,
        superseded_by="hfrl/Hopper-v1",
    ),
    SuiteSpec(
        env_id="hfrl/Walker2d-v0",
        horizon=1000,
        description="walk a planar biped forward",
        termination=(
            "keeps simulating after a fall (terminate_when_unhealthy=False); the healthy "
            "reward of 1 is paid only while healthy"
        ),
        mujoco=True,
        entry_point=f"{_MUJOCO}:FixedWalker2dEnv",
        observation="Box(17,) float64",
        action="Box(6,) float32 in [-1, 1]",
        state_dim=28,
        superseded_by="hfrl/Walker2d-v1",
    ),
)


def _tracked(spec: SuiteSpec, entry_point: str) -> SuiteSpec:
    """The ``-v1`` of a ``-v0`` locomotion spec: the same task, a camera that follows it."""
    return replace(
        spec,
        env_id=spec.env_id.replace("-v0", "-v1"),
        entry_point=f"{_MUJOCO}:{entry_point}",
        same_task_as=spec.env_id,
        superseded_by=None,
    )


_SPECS += tuple(
    _tracked(spec, f"Tracked{spec.entry_point.split(':Fixed')[1]}")
    for spec in _SPECS
    if spec.superseded_by is not None
)

SUITE: dict[str, SuiteSpec] = {spec.env_id: spec for spec in _SPECS}


def suite_ids() -> list[str]:
    """The suite's env ids, classic control first, in a stable order.

    Superseded versions are included: stored clips of them must still open and render.

    Returns:
        A new list of ids such as ``"hfrl/CartPole-v0"``.
    """
    return list(SUITE)


def current_ids() -> list[str]:
    """The ids to use for new work: the suite without its superseded versions.

    Example:
        >>> [env_id for env_id in current_ids() if "Hopper" in env_id]
        ['hfrl/Hopper-v1']
    """
    return [spec.env_id for spec in _SPECS if spec.superseded_by is None]


def task_id(env_id: str) -> str:
    """The first version of ``env_id``'s task: goals and task words are keyed by it.

    Example:
        >>> task_id("hfrl/Walker2d-v1"), task_id("hfrl/CartPole-v0")
        ('hfrl/Walker2d-v0', 'hfrl/CartPole-v0')
    """
    spec = get_spec(env_id)
    return task_id(spec.same_task_as) if spec.same_task_as is not None else env_id


def get_spec(env_id: str) -> SuiteSpec:
    """Look up one suite env.

    Args:
        env_id: a suite id such as ``"hfrl/Pendulum-v0"``.

    Returns:
        Its :class:`SuiteSpec`.

    Raises:
        UnknownEnvError: the id is not in the suite; the message lists the valid ids.
    """
    spec = SUITE.get(env_id)
    if spec is None:
        raise UnknownEnvError(
            f"unknown env id {env_id!r}; the suite has: {', '.join(SUITE)} "
            "(run `hfrl envs` to see them)"
        )
    return spec


def register_suite() -> None:
    """Register every suite id with Gymnasium; calling it again does nothing.

    Entry points are strings, so no env module (and no MuJoCo) is imported here.
    """
    for spec in _SPECS:
        if spec.env_id in gym.registry:
            continue
        gym.register(
            id=spec.env_id,
            entry_point=spec.entry_point,
            max_episode_steps=spec.horizon,
        )


def ensure_gl_backend() -> None:
    """Choose EGL for MuJoCo when the process has no display and no backend was chosen.

    Sets ``os.environ["MUJOCO_GL"] = "egl"`` only when neither ``MUJOCO_GL`` nor ``DISPLAY`` is
    set; it must run before MuJoCo creates its first rendering context.
    """
    if not os.environ.get("MUJOCO_GL") and not os.environ.get("DISPLAY"):
        os.environ["MUJOCO_GL"] = "egl"


def make_env(
    env_id: str,
    *,
    render_mode: str | None = None,
    width: int | None = None,
    height: int | None = None,
) -> gym.Env:
    """Make a suite env (with Gymnasium's ``TimeLimit`` at the horizon).

    Args:
        env_id: a suite id such as ``"hfrl/CartPole-v0"``.
        render_mode: ``None``, ``"rgb_array"`` or ``"human"``.
        width: frame width in pixels for MuJoCo envs; classic control envs render at their
            own size and ignore it.
        height: frame height in pixels for MuJoCo envs (ignored by classic control).

    Returns:
        The made env.

    Raises:
        UnknownEnvError: the id is not in the suite.
        RenderError: MuJoCo cannot load the GL backend ``MUJOCO_GL`` names, or a MuJoCo
            window was asked for without a display.

    Example:
        >>> env = make_env("hfrl/Pendulum-v0")
        >>> env.spec.max_episode_steps
        200
        >>> env.close()
    """
    spec = get_spec(env_id)
    register_suite()
    if not spec.mujoco:
        return _make(spec, render_mode=render_mode)
    if render_mode == "human" and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise RenderError(
            f"{env_id} cannot open a window: no DISPLAY is set (GLFW would abort the process); "
            "use render_mode='rgb_array', or run under a display or Xvfb (xvfb-run)"
        )
    ensure_gl_backend()
    try:
        importlib.import_module("mujoco")  # it loads its GL backend on import
    except Exception as exc:
        backend = os.environ.get("MUJOCO_GL")
        raise RenderError(
            f"MuJoCo failed to import with MUJOCO_GL={backend!r} ({exc}); {GL_HELP}"
        ) from exc
    sizes = {
        name: value for name, value in (("width", width), ("height", height)) if value is not None
    }
    return _make(spec, render_mode=render_mode, **sizes)


def _make(spec: SuiteSpec, **kwargs: object) -> gym.Env:
    """``gym.make``, without Gymnasium's "out of date" warning for a superseded version: the
    suite keeps those on purpose, to re-render stored clips (``hfrl envs`` says so)."""
    with warnings.catch_warnings():
        if spec.superseded_by is not None:
            warnings.filterwarnings("ignore", ".*is out of date", DeprecationWarning)
        return gym.make(spec.env_id, **kwargs)
