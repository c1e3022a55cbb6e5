"""The label store's value codec: clips to and from ``clips`` rows, metadata to JSON.

Arrays are stored as the bytes of ``.npy`` files (``np.save(..., allow_pickle=False)``: never
pickle), provenance and metadata as JSON text. No SQL here: the rows are written and read by
:mod:`hfrl_gym.store_sqlite`, whose ``clips`` table has the columns of :func:`clip_row`.

Functions:
    check_uid: refuse a clip uid that could not name a file.
    to_json: JSON text of metadata (numpy scalars allowed, NaN refused).
    clip_row, clip_from_row: a :class:`~hfrl_gym.clips.Clip` to and from a ``clips`` row.
"""

from __future__ import annotations

import ast
import functools
import io
import json
import math
import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.errors import HfrlError, StoreError
from hfrl_gym.store_file import FIX_CORRUPT

ARRAY_COLUMNS = ("observations", "actions", "true_rewards", "states", "frames")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value: Any) -> str:
    """JSON text of ``value`` (numpy scalars become numbers; NaN is refused).

    Example:
        >>> to_json({"seed": np.int64(3)})
        '{"seed": 3}'
    """
    return json.dumps(value, default=_json_default, allow_nan=False)


def _npy(array: np.ndarray | None) -> bytes | None:
    if array is None:
        return None
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@functools.lru_cache(maxsize=512)
def _npy_layout(header: bytes) -> tuple[np.dtype, tuple[int, ...], bool]:
    fields = ast.literal_eval(header.decode("latin1"))
    dtype = np.lib.format.descr_to_dtype(fields["descr"])
    return dtype, tuple(fields["shape"]), bool(fields["fortran_order"])


def _from_npy(blob: bytes) -> np.ndarray:
    """Read ``.npy`` bytes: like ``np.load(allow_pickle=False)``, with the header cached.

    Clips of one env share a few headers, and parsing them was most of ``np.load``'s time.
    """
    version = blob[6] if blob[:6] == b"\x93NUMPY" else 0
    if version not in (1, 2, 3):
        return np.load(io.BytesIO(blob), allow_pickle=False)
    width = 2 if version == 1 else 4
    start = 8 + width + int.from_bytes(blob[8 : 8 + width], "little")
    dtype, shape, fortran = _npy_layout(blob[8 + width : start])
    if dtype.hasobject:
        return np.load(io.BytesIO(blob), allow_pickle=False)  # raises: no pickle here
    flat = np.frombuffer(blob, dtype, count=math.prod(shape), offset=start)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def check_uid(uid: object) -> str:
    """``uid`` when it is a safe id (1-64 of ``A-Z a-z 0-9 _ -``: it names export files)."""
    if not isinstance(uid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", uid):
        raise StoreError(
            f"clip uid {uid!r} is not 1-64 letters, digits, '_' or '-'; keep Clip's default uid"
        )
    return uid


def clip_row(clip: Clip) -> tuple[Any, ...]:
    """The ``clips`` row of a clip: uid, env_id, num_steps, provenance, created, arrays.

    The arrays are the ``.npy`` bytes of :data:`ARRAY_COLUMNS` (``None`` when absent).

    Raises:
        StoreError: not a Clip, an unsafe uid, or arrays (object dtype) or provenance that
            would need pickle.
    """
    if not isinstance(clip, Clip):
        raise StoreError(f"the store takes hfrl_gym.clips.Clip objects, got {type(clip).__name__}")
    check_uid(clip.uid)
    try:
        provenance = to_json(clip.provenance())
        blobs = [_npy(getattr(clip, name)) for name in ARRAY_COLUMNS]
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"clip {clip.uid} cannot be stored ({exc}); give numeric arrays and "
            "JSON-serialisable provenance (int seed, str policy)"
        ) from exc
    return (clip.uid, clip.env_id, clip.num_steps, provenance, time.time(), *blobs)


def clip_from_row(row: Sequence[Any]) -> Clip:
    """Rebuild a clip from a row of uid, provenance and the :data:`ARRAY_COLUMNS`.

    Raises:
        StoreError: the row's bytes are damaged (SQLite keeps no checksums of its data).

    Example:
        >>> clip = Clip("hfrl/CartPole-v0", np.zeros((3, 4)), np.zeros(2), np.ones(2),
        ...             states=np.zeros((3, 4)))
        >>> row = clip_row(clip)
        >>> sorted(clip_from_row((row[0], row[3], *row[5:])).arrays())
        ['actions', 'observations', 'states', 'true_rewards']
    """
    try:
        arrays = {
            name: _from_npy(blob)
            for name, blob in zip(ARRAY_COLUMNS, row[2:], strict=True)
            if blob is not None
        }
        return Clip.from_parts(json.loads(row[1]), arrays)
    except (ValueError, SyntaxError, KeyError, TypeError, HfrlError) as exc:
        raise StoreError(f"stored clip {row[0]} is damaged ({exc}); {FIX_CORRUPT}") from exc
