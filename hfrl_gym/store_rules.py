"""What a label store accepts: one set of rules for its API and for import alike.

An import is the API called with records from files, so both paths refuse the same things
(``StoreError`` naming the value and how to fix it), before anything is written:

- a clip that is not a :class:`~hfrl_gym.clips.Clip`, has a uid that could not name a file
  (:func:`~hfrl_gym.store_codec.check_uid`), or, for a suite env, observations, actions or
  snapshots of other shapes than the env's, or observations or actions that are not finite
  numbers (the next reward fit would fail on it, and the store deletes no clip);
- a query of a negative round or a non-finite creation time, or one that pairs clips not
  stored, a clip with itself, or clips of two envs;
- an answer whose choice is not ``left``/``right``/``equal``/``skip``, whose annotator is
  empty, whose ``seconds`` is negative, infinite or not a number, or whose confidence is
  not ``much``/``slightly``/``None`` or is given on an ``equal`` or ``skip`` answer.

The store does not validate env ids that are not in the suite: its callers do.

Functions:
    check_clip: the clip, if the store may hold it.
    check_pairs: refuse pairs of unknown clips, of a clip with itself, or of two envs.
    check_query: a query's round, if it is a round number (and its creation time).
    check_answer: an answer's fields, if the store may hold them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hfrl_gym.answers import Choice, check_confidence
from hfrl_gym.clips import Clip
from hfrl_gym.envs.suite import SUITE
from hfrl_gym.errors import ConfigError, StoreError
from hfrl_gym.store_codec import check_uid

MAX_ANNOTATOR_CHARS = 200


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def check_clip(clip: object, fix: str) -> Clip:
    """``clip``, if the store may hold it (see the module docstring); else ``StoreError``.

    Example:
        >>> clip = Clip("hfrl/CartPole-v0", np.zeros((3, 5)), np.zeros(2, np.int64),
        ...             np.ones(2), states=np.zeros((3, 4)), uid="c1")
        >>> check_clip(clip, "fix it")
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.StoreError: clip c1 of 'hfrl/CartPole-v0' has observations of shape \
(5,) per step, the env's are (4,); fix it
    """
    if not isinstance(clip, Clip):
        raise StoreError(f"the store takes hfrl_gym.clips.Clip objects, got {type(clip).__name__}")
    check_uid(clip.uid)
    spec = SUITE.get(clip.env_id)
    if spec is None:
        return clip
    where = f"clip {clip.uid} of {clip.env_id!r}"
    obs_shape = tuple(clip.observations.shape[1:])
    if obs_shape != spec.observation_shape:
        raise StoreError(
            f"{where} has observations of shape {obs_shape} per step, the env's are "
            f"{spec.observation_shape}; {fix}"
        )
    action_size = math.prod(clip.actions.shape[1:])
    if action_size != max(1, math.prod(spec.action_shape)):
        raise StoreError(
            f"{where} has actions of shape {tuple(clip.actions.shape[1:])} per step, the env's "
            f"are {spec.action_shape}; {fix}"
        )
    if clip.states is not None and clip.states.shape[1] != spec.state_dim:
        raise StoreError(
            f"{where} has snapshots of {clip.states.shape[1]} numbers, the env's have "
            f"{spec.state_dim}; {fix}"
        )
    for name in ("observations", "actions"):  # snapshots may hold NaN (Pendulum's last torque)
        array = getattr(clip, name)
        if array is None or array.dtype.hasobject:  # refused by the codec: it needs pickle
            continue
        if array.dtype.kind not in "biuf" or not np.all(np.isfinite(array)):
            raise StoreError(f"{where} has {name} that are not finite numbers; {fix}")
    return clip


def check_pairs(
    pairs: Sequence[tuple[str, str]], env_of: Mapping[str, str], where: str, fix: str
) -> None:
    """Refuse pairs of clips not in ``env_of`` (uid -> env id), of a clip with itself, or of
    two envs (``StoreError`` naming the store ``where`` and ending with ``fix``)."""
    missing = sorted({uid for pair in pairs for uid in pair if uid not in env_of})
    if missing:
        raise StoreError(
            f"cannot post queries: {len(missing)} clip uid(s) are not in {where}, "
            f"e.g. {missing[:3]}; {fix}"
        )
    for left, right in pairs:
        if left == right or env_of[left] != env_of[right]:
            raise StoreError(
                f"cannot post the pair ({left}, {right}): a query compares two different "
                f"clips of one env, got {env_of[left]!r} and {env_of[right]!r}; {fix}"
            )


def _finite(value: object) -> bool:
    try:
        return _is_number(value) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def check_query(round_index: object, fix: str, *, created: object = 0.0) -> int:
    """A query's round as an ``int`` (a whole number >= 0), else ``StoreError``.

    ``created`` (seconds since the epoch) must be a finite number.

    Example:
        >>> check_query(3, "fix it")
        3
    """
    whole = _finite(round_index) and round_index == int(round_index)
    if not whole or not 0 <= round_index < 2**63:  # SQLite's integers
        raise StoreError(f"a query's round must be a whole number >= 0, got {round_index!r}; {fix}")
    if not _finite(created):
        raise StoreError(f"a query's created time must be a finite number, got {created!r}; {fix}")
    return int(round_index)


def check_answer(
    choice: object,
    annotator: object,
    seconds: object,
    fix: str,
    *,
    created: object = 0.0,
    confidence: object = None,
) -> tuple[str, str, float, str | None]:
    """``(choice, annotator, seconds, confidence)`` of an answer the store may hold; else
    ``StoreError``.

    Args:
        choice: ``left``, ``right``, ``equal`` or ``skip`` (a :class:`Choice` or its value).
        annotator: who answered: a non-empty name of at most 200 characters.
        seconds: the time it took, a finite number >= 0.
        fix: what to do about a refused answer (ends the message).
        created: when it was given (seconds since the epoch; a finite number).
        confidence: ``much``, ``slightly`` (``left``/``right`` answers only) or ``None``.

    Example:
        >>> check_answer("left", "ana", 1.5, "fix it", confidence="slightly")
        ('left', 'ana', 1.5, 'slightly')
        >>> check_answer("left", "ana", -1, "fix it")
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.StoreError: an answer's seconds must be a finite number >= 0, got -1; \
fix it
    """
    values = {choice.value for choice in Choice}
    if str(choice) not in values or not isinstance(choice, str):
        raise StoreError(
            f"an answer's choice must be one of {sorted(values)}, got {choice!r}; {fix}"
        )
    if not isinstance(annotator, str) or not annotator.strip():
        raise StoreError(f"an answer needs an annotator's name, got {annotator!r}; {fix}")
    if len(annotator) > MAX_ANNOTATOR_CHARS or not annotator.isprintable():
        raise StoreError(
            f"an annotator's name must be printable and at most {MAX_ANNOTATOR_CHARS} "
            f"characters, got {annotator[:40]!r}...; {fix}"
        )
    if not _finite(seconds) or seconds < 0:
        raise StoreError(
            f"an answer's seconds must be a finite number >= 0, got {seconds!r}; {fix}"
        )
    if not _finite(created):
        raise StoreError(
            f"an answer's created time must be a finite number, got {created!r}; {fix}"
        )
    try:
        checked = check_confidence(confidence, str(choice))
    except ConfigError as exc:
        raise StoreError(f"{exc}; {fix}") from None
    value = None if checked is None else checked.value
    return str(Choice(choice).value), annotator, float(seconds), value
