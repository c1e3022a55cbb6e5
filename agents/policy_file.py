"""Policies on disk as tensors plus JSON: loading one never runs code.

Format ``hfrl-policy``, version 1, two files side by side (``policy.pt``, ``policy.json``):

- ``policy.pt``: ``torch.save`` of ``{"policy": state dict, "optimizer": state dict}``
  (tensors, numbers, strings, lists and dicts only), read back with
  ``torch.load(..., weights_only=True)``, which refuses any other pickled object. A SAC
  policy's ``optimizer`` is ``{"actor": ..., "critic": ..., "ent_coef": ...}`` (the last
  ``None`` for a fixed entropy coefficient), and ``log_ent_coef`` holds its learned
  temperature.
- ``policy.json``: ``format``, ``format_version``, ``env_id``, ``algorithm`` (``"PPO"``,
  ``"SAC"`` or ``"DQN"``), ``policy_class``, ``observation_space`` and ``action_space``
  (``describe_space``), ``ppo_settings``, ``sac_settings`` or ``dqn_settings`` (where the env's
  settings come from) and ``versions``. A DQN's ``policy`` holds its Q-network and target.
  Nothing in it changes between the saves of one run, so a kill between writing the two files
  leaves a consistent pair; each file is replaced atomically.

A policy is loaded into a new PPO, SAC or DQN built for its env (``agents.ppo.untrained_ppo``,
``agents.sac.untrained_sac``, ``agents.dqn.untrained_dqn`` or the run's own), never through
SB3's ``load`` / ``load_from_zip_file``: SB3's zip keeps its settings as cloudpickle, so a
crafted ``policy.zip`` in a shared run folder would run code. Run folders written before this
format keep working: their SB3 ``policy.zip`` is opened with ``zipfile`` and only its
``policy.pth`` and ``policy.optimizer.pth`` members (torch state dicts) are read, with
``weights_only=True``; its pickled ``data`` member is never read.

Functions:
    save_policy: write ``policy.pt`` and ``policy.json`` for a PPO, a SAC or a DQN.
    read_policy: the tensors (and metadata) of a ``.pt`` policy or a legacy SB3 ``.zip``.
    load_policy: put a saved policy into a PPO, SAC or DQN of the same env (resume).
    load_policy_weights: put a saved policy's weights into an SB3 policy (a KL reference).
    policy_ppo: a new PPO of an env holding a saved policy.
    policy_model: a new PPO, SAC or DQN (as the file says) holding a saved policy
        (``hfrl video``).
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.dqn.policies import DQNPolicy
from stable_baselines3.sac.policies import SACPolicy

from agents.dqn import dqn_settings, untrained_dqn
from agents.ppo import ppo_settings, untrained_ppo
from agents.sac import sac_settings, untrained_sac
from agents.summary import versions
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model.features import describe_space

FORMAT_NAME = "hfrl-policy"
FORMAT_VERSION = 1
MAX_MEMBER_BYTES = 1 << 30
"""Largest ``policy.pth`` member read from a legacy zip (a guard against zip bombs)."""
_FIX = "pass a policy saved by `hfrl train` or `hfrl lesson 8` for the same env"


@dataclass(frozen=True)
class SavedPolicy:
    """What a policy file holds.

    Attributes:
        policy: parameter name -> tensor (the SB3 policy's state dict).
        optimizer: the optimizer's state dict, or ``None`` when the file has none.
        meta: ``policy.json``'s contents, or ``None`` (a legacy SB3 zip has none).
    """

    policy: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None
    meta: dict[str, Any] | None
    log_ent_coef: torch.Tensor | None = None

    @property
    def algorithm(self) -> str:
        """``"PPO"`` or ``"SAC"`` (a legacy zip, which has no metadata, is PPO's)."""
        return "PPO" if self.meta is None else str(self.meta.get("algorithm", "PPO"))


def meta_path(path: Path) -> Path:
    """The metadata file of the policy file ``path`` (``policy.pt`` -> ``policy.json``)."""
    return path.with_suffix(".json")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:160] + ("..." if len(text) > 160 else "")


def _replace(path: Path, write: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    write(temporary)
    os.replace(temporary, path)


def save_policy(ppo: BaseAlgorithm, path: str | os.PathLike[str], *, env_id: str | None) -> Path:
    """Write ``ppo``'s policy (and optimizers) as ``path`` (``.pt``) and its ``.json``.

    Args:
        ppo: the PPO (or SAC, or DQN) whose policy is saved.
        path: the ``.pt`` file to write; the ``.json`` beside it is written too.
        env_id: the suite env the policy acts in (checked when it is loaded).

    Returns:
        ``path``.
    """
    path = Path(path)
    if path.suffix != ".pt":
        raise ConfigError(f"a policy file ends in .pt, got {path}")
    state: dict[str, Any] = {
        "policy": {name: t.detach().cpu() for name, t in ppo.policy.state_dict().items()},
    }
    if isinstance(ppo, SAC):
        state.update(_sac_extra_state(ppo))
    else:
        state["optimizer"] = ppo.policy.optimizer.state_dict()
    algorithm = _algorithm(ppo)
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "env_id": env_id,
        "algorithm": algorithm,
        "policy_class": type(ppo.policy).__name__,
        "observation_space": describe_space(ppo.observation_space),
        "action_space": describe_space(ppo.action_space),
    }
    settings = {"SAC": sac_settings, "DQN": dqn_settings, "PPO": ppo_settings}[algorithm]
    meta[f"{algorithm.lower()}_settings"] = None if env_id is None else settings(env_id).source
    meta["versions"] = versions()
    _replace(path, lambda temporary: torch.save(state, temporary))
    text = json.dumps(meta, indent=2, allow_nan=False) + "\n"
    _replace(meta_path(path), lambda temporary: temporary.write_text(text, encoding="utf-8"))
    return path


def _algorithm(model: BaseAlgorithm) -> str:
    return "SAC" if isinstance(model, SAC) else "DQN" if isinstance(model, DQN) else "PPO"


def _policy_algorithm(policy: BasePolicy) -> str:
    """The algorithm whose policy class ``policy`` is."""
    if isinstance(policy, SACPolicy):
        return "SAC"
    return "DQN" if isinstance(policy, DQNPolicy) else "PPO"


def _sac_extra_state(sac: SAC) -> dict[str, Any]:
    """SAC's optimizers (actor, critic, temperature) and its learned log temperature."""
    ent = sac.ent_coef_optimizer
    extra: dict[str, Any] = {
        "optimizer": {
            "actor": sac.actor.optimizer.state_dict(),
            "critic": sac.critic.optimizer.state_dict(),
            "ent_coef": None if ent is None else ent.state_dict(),
        }
    }
    if sac.log_ent_coef is not None:
        extra["log_ent_coef"] = sac.log_ent_coef.detach().cpu()
    return extra


def _load_tensors(source: Any, where: Path, member: str = "") -> Any:
    """``torch.load(weights_only=True)``: every failure (a pickled object too) one ConfigError."""
    try:
        with warnings.catch_warnings():  # e.g. on the pickle protocol: one error line, no more
            warnings.simplefilter("ignore")
            return torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for bad or hostile files
        raise ConfigError(
            f"{where}{member} is not a PPO policy of plain tensors ({_one_line(error)}); {_FIX}"
        ) from None


def _read_meta(path: Path) -> dict[str, Any]:
    where = meta_path(path)
    if not where.is_file():
        raise ConfigError(f"{where} is missing beside {path.name}; {_FIX}")
    try:
        meta = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ConfigError(f"cannot read {where} ({_one_line(error)}); {_FIX}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ConfigError(f"{where} is not an {FORMAT_NAME} description; {_FIX}")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise ConfigError(
            f"{where} has policy format_version {version!r}; this hfrl reads up to "
            f"{FORMAT_VERSION}: upgrade hfrl"
        )
    return meta


def _read_legacy_zip(path: Path) -> tuple[Any, Any]:
    """The ``policy.pth`` and ``policy.optimizer.pth`` members of SB3's zip (no ``data``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if "policy.pth" not in members:
                raise ConfigError(f"{path} is not a PPO policy (no policy.pth in it); {_FIX}")
            loaded = []
            for name in ("policy.pth", "policy.optimizer.pth"):
                info = members.get(name)
                if info is None:
                    loaded.append(None)
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ConfigError(f"{path}: {name} is too large for a policy; {_FIX}")
                data = archive.read(name)
                loaded.append(_load_tensors(io.BytesIO(data), path, f" ({name})"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"{path} is not a PPO policy ({_one_line(error)}); {_FIX}") from None
    return loaded[0], loaded[1]


def read_policy(path: str | os.PathLike[str], *, env_id: str | None = None) -> SavedPolicy:
    """Read a policy file: ``.pt`` (with its ``.json``), or an SB3 ``.zip`` of an older run.

    Args:
        path: the file.
        env_id: refuse a ``.pt`` policy saved for another env (``None``: any).

    Raises:
        ConfigError: the file is missing, damaged, of another format or env, or holds
            anything but tensors (a pickled object is refused, never run).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no policy file {path}; {_FIX}")
    if path.suffix == ".zip":
        policy, optimizer = _read_legacy_zip(path)
        meta = log_ent_coef = None
    else:
        meta = _read_meta(path)
        content = _load_tensors(path, path)
        if not isinstance(content, dict):
            raise ConfigError(f"{path} holds no policy state; {_FIX}")
        policy, optimizer = content.get("policy"), content.get("optimizer")
        log_ent_coef = content.get("log_ent_coef")
        if log_ent_coef is not None and not isinstance(log_ent_coef, torch.Tensor):
            raise ConfigError(f"{path} holds a damaged log_ent_coef; {_FIX}")
    if not isinstance(policy, dict) or not all(
        isinstance(name, str) and isinstance(value, torch.Tensor) for name, value in policy.items()
    ):
        raise ConfigError(f"{path} is not a PPO policy (no dict of named tensors); {_FIX}")
    if optimizer is not None and not isinstance(optimizer, dict):
        raise ConfigError(f"{path} holds a damaged optimizer state; {_FIX}")
    if env_id is not None and meta is not None and meta.get("env_id") not in (None, env_id):
        raise ConfigError(
            f"{path} is a policy of {meta.get('env_id')!r}, not {env_id!r}; pass a policy "
            "saved for the same env"
        )
    return SavedPolicy(policy=policy, optimizer=optimizer, meta=meta, log_ent_coef=log_ent_coef)


def _check_meta(saved: SavedPolicy, policy: BasePolicy, path: Path) -> None:
    meta = saved.meta
    if meta is None:
        return
    expected = _policy_algorithm(policy)
    if saved.algorithm != expected:
        raise ConfigError(
            f"{path} is a {saved.algorithm} policy, not a {expected} one; pass a policy "
            f"trained with --algo {expected.lower()}"
        )
    for name, space in (
        ("observation_space", policy.observation_space),
        ("action_space", policy.action_space),
    ):
        if meta.get(name) != describe_space(space):
            raise ConfigError(
                f"{path}'s {name} is {meta.get(name)!r}, the env's {describe_space(space)!r}; "
                "pass a policy saved for the same env"
            )


def _put_weights(policy: BasePolicy, saved: SavedPolicy, path: Path) -> None:
    try:
        policy.load_state_dict(saved.policy)
    except (RuntimeError, KeyError, ValueError, TypeError) as error:
        raise ConfigError(
            f"{path} is not a {_policy_algorithm(policy)} policy of "
            f"this env's architecture ({_one_line(error)[:120]}); "
            "pass a policy saved for the same env"
        ) from None


def load_policy_weights(
    policy: ActorCriticPolicy, path: str | os.PathLike[str], *, env_id: str | None = None
) -> ActorCriticPolicy:
    """Load the weights of a saved policy (``.pt``, or an older run's SB3 ``.zip``).

    Only tensors are read (``torch.load(weights_only=True)``), never pickled objects.

    Raises:
        ConfigError: the file is missing, damaged, or holds another env's or architecture's
            policy.
    """
    path = Path(path)
    saved = read_policy(path, env_id=env_id)
    _check_meta(saved, policy, path)
    _put_weights(policy, saved, path)
    return policy


def load_policy(ppo: BaseAlgorithm, path: str | os.PathLike[str], *, env_id: str | None) -> None:
    """Put a saved policy and its optimizer state into ``ppo`` (a run being resumed).

    A SAC gets its actor's, critics' and temperature's optimizers and its learned
    temperature back too.
    """
    path = Path(path)
    saved = read_policy(path, env_id=env_id)
    _check_meta(saved, ppo.policy, path)
    _put_weights(ppo.policy, saved, path)
    if saved.optimizer is None:
        return
    try:
        if isinstance(ppo, SAC):
            _put_sac_extra(ppo, saved)
        else:
            ppo.policy.optimizer.load_state_dict(saved.optimizer)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as error:
        raise ConfigError(
            f"{path}'s optimizer state does not fit this policy ({_one_line(error)}); {_FIX}"
        ) from None


def _put_sac_extra(sac: SAC, saved: SavedPolicy) -> None:
    """SAC's optimizers and log temperature from ``saved`` (errors as the loaders raise)."""
    assert saved.optimizer is not None
    sac.actor.optimizer.load_state_dict(saved.optimizer["actor"])
    sac.critic.optimizer.load_state_dict(saved.optimizer["critic"])
    ent_state = saved.optimizer.get("ent_coef")
    if (sac.ent_coef_optimizer is None) != (ent_state is None):
        raise ValueError("the entropy coefficient is learned in one and fixed in the other")
    if sac.ent_coef_optimizer is not None:
        if sac.log_ent_coef is None or saved.log_ent_coef is None:
            raise KeyError("log_ent_coef")
        sac.ent_coef_optimizer.load_state_dict(ent_state)
        with torch.no_grad():
            sac.log_ent_coef.copy_(saved.log_ent_coef.reshape(sac.log_ent_coef.shape))


def policy_ppo(env_id: str, path: str | os.PathLike[str], *, seed: int = 0) -> PPO:
    """A new PPO of ``env_id``'s settings holding the policy saved in ``path`` (CPU).

    The file is read and checked before the PPO is built.
    """
    path = Path(path)
    saved = read_policy(path, env_id=env_id)
    ppo = untrained_ppo(env_id, seed=seed)
    _check_meta(saved, ppo.policy, path)
    _put_weights(ppo.policy, saved, path)
    return ppo


def policy_model(env_id: str, path: str | os.PathLike[str], *, seed: int = 0) -> BaseAlgorithm:
    """A new PPO, SAC or DQN (the file's ``algorithm``) of ``env_id`` holding the saved policy
    (CPU).

    The file is read and checked before the model is built.
    """
    path = Path(path)
    saved = read_policy(path, env_id=env_id)
    if saved.algorithm == "PPO":
        return policy_ppo(env_id, path, seed=seed)
    untrained = {"SAC": untrained_sac, "DQN": untrained_dqn}.get(saved.algorithm)
    if untrained is None:
        raise ConfigError(f"{path} is a policy of an unknown algorithm {saved.algorithm!r}; {_FIX}")
    model = untrained(env_id, seed=seed)
    _check_meta(saved, model.policy, path)
    _put_weights(model.policy, saved, path)
    return model
