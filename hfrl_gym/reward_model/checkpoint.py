"""Reward-model checkpoints: a folder holding ``weights.pt`` and ``meta.json``.

Format version 1:

- ``weights.pt``: ``torch.save`` of a dict from parameter name to CPU tensor (the ensemble's
  state dict, nothing else), read back with ``torch.load(..., weights_only=True)``, which
  never unpickles arbitrary objects.
- ``meta.json``: ``format`` (``"hfrl-reward-model"``), ``format_version``, ``env_id``,
  ``observation_space`` and ``action_space`` (see ``describe_space``), ``num_members``,
  ``hidden_sizes``, ``activation``, ``seed``, ``input_normalization`` (``mean``, ``std``
  lists), ``reward_normalization`` (``mean``, ``std``), ``num_fits``, ``fit_report`` (the
  last ``FitReport`` or ``null``), ``versions`` (hfrl_gym, torch, numpy, python) and
  ``weights_sha256``, the SHA-256 of ``weights.pt``, so that a torn or corrupt pair of files
  is refused rather than loaded.

The two files are replaced as a pair: a new checkpoint is written into a sibling folder
(``.NAME.new``), the old folder is renamed aside (``.NAME.old``), the new one renamed into
place, and the old one removed. A save killed between the two renames is finished by the next
read or write (:func:`finish_interrupted_save`): the folder always holds one whole checkpoint.

Functions:
    write_checkpoint: write the two files (replacing both, or neither).
    finish_interrupted_save: complete or undo a save that a kill interrupted.
    read_checkpoint: read and verify them (``CheckpointError`` when missing or corrupt).
    check_matches: refuse a checkpoint made for another env id or other spaces.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

from hfrl_gym.errors import CheckpointError
from hfrl_gym.reward_model.features import describe_space

FORMAT_NAME = "hfrl-reward-model"
FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.pt"
META_FILE = "meta.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_checkpoint(
    directory: str | os.PathLike[str], state: dict[str, torch.Tensor], meta: dict[str, Any]
) -> Path:
    """Write a checkpoint folder (created if missing; existing files are replaced).

    Args:
        directory: the folder.
        state: parameter name -> tensor (moved to the CPU before saving).
        meta: JSON-serialisable metadata; ``format``, ``format_version`` and
            ``weights_sha256`` are added.

    Returns:
        The folder's path.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_checkpoint(folder, {"w": torch.ones(2)}, {"env_id": "x"})
        ...     state, meta = read_checkpoint(path)
        >>> state["w"].tolist(), meta["env_id"]
        ([1.0, 1.0], 'x')
    """
    folder = Path(directory)
    folder.parent.mkdir(parents=True, exist_ok=True)
    finish_interrupted_save(folder)
    new, old = _aside(folder, "new"), _aside(folder, "old")
    shutil.rmtree(new, ignore_errors=True)  # a save killed before its first rename
    new.mkdir()
    cpu_state = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
    weights = new / WEIGHTS_FILE
    torch.save(cpu_state, weights)
    full_meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        **meta,
        "weights_sha256": _sha256(weights),
    }
    text = json.dumps(full_meta, indent=2, allow_nan=False) + "\n"
    (new / META_FILE).write_text(text, encoding="utf-8")
    for path in (weights, new / META_FILE, new):
        _fsync(path)
    if folder.exists():
        os.rename(folder, old)
    os.rename(new, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def _aside(folder: Path, role: str) -> Path:
    return folder.with_name(f".{folder.name}.{role}")


def _fsync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def finish_interrupted_save(directory: str | os.PathLike[str]) -> None:
    """Finish a save killed between its renames, or drop one killed before them.

    The new folder is moved into place only when the old one was already moved aside (so
    the new one is whole); a folder that cannot be written is left as it is.
    """
    folder = Path(directory)
    new, old = _aside(folder, "new"), _aside(folder, "old")
    try:
        if not folder.exists() and old.is_dir():
            os.rename(new if new.is_dir() else old, folder)
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass  # a read-only run folder: read what is there


def read_checkpoint(directory: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict]:
    """Read and verify a checkpoint folder.

    Returns:
        ``(state, meta)``: parameter name -> CPU tensor, and the parsed ``meta.json``.

    Raises:
        CheckpointError: a missing folder or file, unreadable JSON, another format or a newer
            version, or weights that do not match their recorded hash or cannot be read.
    """
    folder = Path(directory)
    finish_interrupted_save(folder)
    meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
    for path in (meta_path, weights_path):
        if not path.is_file():
            raise CheckpointError(
                f"{path} is missing: {folder} is not a reward-model checkpoint (it needs "
                f"{META_FILE} and {WEIGHTS_FILE}, written by RewardModel.save)"
            )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{meta_path} is not readable JSON ({error}); re-save it") from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{meta_path} is not a {FORMAT_NAME} description")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{folder} has checkpoint format version {version!r}; this hfrl_gym reads up to "
            f"{FORMAT_VERSION}: upgrade hfrl_gym"
        )
    if meta.get("weights_sha256") != _sha256(weights_path):
        raise CheckpointError(
            f"{weights_path} does not match the hash in {META_FILE}: the checkpoint is corrupt "
            "or half-written; save the model again"
        )
    try:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for bad files
        raise CheckpointError(f"{weights_path} cannot be read as tensors: {error}") from error
    if not isinstance(state, dict) or not all(
        isinstance(name, str) and isinstance(value, torch.Tensor) for name, value in state.items()
    ):
        raise CheckpointError(f"{weights_path} must hold a dict of named tensors")
    return state, meta


def check_matches(
    meta: dict[str, Any],
    *,
    env_id: str | None,
    observation_space: gym.Space | None,
    action_space: gym.Space | None,
) -> None:
    """Refuse a checkpoint made for another env id or other spaces (``CheckpointError``).

    Arguments left ``None`` are not checked.

    Example:
        >>> check_matches({"env_id": "hfrl/Pendulum-v0"}, env_id="hfrl/CartPole-v0",
        ...               observation_space=None, action_space=None)
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.CheckpointError: the checkpoint was trained for 'hfrl/Pendulum-v0', \
not 'hfrl/CartPole-v0'; load a checkpoint of this env
    """
    if env_id is not None and meta.get("env_id") != env_id:
        raise CheckpointError(
            f"the checkpoint was trained for {meta.get('env_id')!r}, not {env_id!r}; "
            "load a checkpoint of this env"
        )
    for name, space in (("observation_space", observation_space), ("action_space", action_space)):
        if space is not None and meta.get(name) != describe_space(space):
            raise CheckpointError(
                f"the checkpoint's {name} is {meta.get(name)!r} but the env's is "
                f"{describe_space(space)!r}; it was trained on another env"
            )
