"""A disk cache of rendered clip frames, keyed by clip uid and frame size.

Rendering a clip from its snapshots costs 4-5 ms a frame for classic control and 10-90 ms
for MuJoCo in software OpenGL: seconds for a pair. Anything that shows clips to people (the
comparison window, several windows on one store, a label server) renders them ahead of
demand into one :class:`FrameCache` and reads them back in milliseconds, and a clip shown
again (undo, review, a second annotator) is never rendered twice.

Format, and why: one uncompressed ``.npy`` file per ``(clip uid, width, height)``, holding
the ``(T+1, H, W, 3)`` uint8 frames, read with ``np.load(allow_pickle=False)`` (no pickle,
nothing from the file runs code). Uncompressed because the cache sits on the path between an
answer and the next pair: reading it is a copy out of the page cache (0.15-0.2 ms a frame at
600x400-600x540, measured here), where ``np.savez_compressed`` takes 2-3 ms a frame to inflate
and 5-17 ms to write (as long as rendering a classic-control frame), and a video file
(imageio-ffmpeg) is lossy and needs a decoder process per read. The price is disk space
(36-50 MB for a 51-frame clip), which ``max_bytes`` bounds: the least recently read or
written files go first.

Several processes may share a cache folder (windows on one store): a file is written under a
temporary name unique to the writer and renamed into place (``os.replace``, atomic), so a
reader sees a whole file or none; a file that does not read back as the frames its name
promises (a disk error, a stray file) is deleted and reported as missing.

Classes:
    FrameCache: the cache.

Functions:
    cache_folder_for: the cache folder that belongs with a label store.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import numpy as np

from hfrl_gym.errors import ConfigError
from hfrl_gym.store_codec import check_uid

DEFAULT_MAX_BYTES = 2 * 2**30
"""Default size limit of a cache folder: 2 GiB (about 40 MuJoCo clips of 51 frames at 600x540)."""


def cache_folder_for(store_path: str | os.PathLike[str], variant: str = "window") -> Path:
    """The frame cache folder of a label store: ``<store>.frames/<variant>`` beside it.

    Args:
        store_path: the store's SQLite file.
        variant: render settings the frames were made with (frames of other settings are
            kept apart).

    Example:
        >>> cache_folder_for("runs/a/store.sqlite").as_posix()
        'runs/a/store.sqlite.frames/window'
    """
    path = Path(store_path)
    return path.with_name(f"{path.name}.frames") / variant


class FrameCache:
    """Rendered frames on disk, keyed by ``(clip uid, width, height)``, at most ``max_bytes``.

    Args:
        folder: where the files live (made when missing).
        max_bytes: size limit of the folder's frame files; the least recently used go first.

    Raises:
        ConfigError: the folder cannot be made, or ``max_bytes`` < 1.

    Example:
        >>> import tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> cache = FrameCache(folder.name)
        >>> cache.put("clip1", np.zeros((3, 4, 6, 3), np.uint8))
        >>> cache.get("clip1", width=6, height=4).shape, cache.get("clip1", width=12, height=8)
        ((3, 4, 6, 3), None)
        >>> folder.cleanup()
    """

    def __init__(self, folder: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1:
            raise ConfigError(f"max_bytes must be at least 1 byte, got {max_bytes}")
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"cannot make the frame cache folder {self.folder} ({error.strerror}); pass a "
                "folder you can write"
            ) from None

    def path(self, uid: str, width: int, height: int) -> Path:
        """The file of one clip's frames at one size."""
        return self.folder / f"{check_uid(uid)}-{int(width)}x{int(height)}.npy"

    def __contains__(self, key: tuple[str, int, int]) -> bool:
        return self.path(*key).is_file()

    def get(self, uid: str, width: int, height: int) -> np.ndarray | None:
        """The ``(T+1, height, width, 3)`` uint8 frames of a clip, or ``None`` if not cached."""
        path = self.path(uid, width, height)
        try:
            frames = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # cut short or not an array: render it again
            path.unlink(missing_ok=True)
            return None
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[1:] != (height, width, 3):
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return frames

    def put(self, uid: str, frames: np.ndarray) -> None:
        """Store a clip's ``(T+1, H, W, 3)`` uint8 frames (its size is read from them).

        Written under a temporary name and renamed, so readers in other threads or processes
        never see part of a file; then the oldest files go until the folder fits
        ``max_bytes``. A full or read-only disk leaves the cache as it was.
        """
        array = np.ascontiguousarray(frames)
        if array.dtype != np.uint8 or array.ndim != 4 or array.shape[3] != 3:
            raise ConfigError(
                f"frames must be uint8 of shape (N, H, W, 3), got {array.dtype} {array.shape}"
            )
        target = self.path(uid, array.shape[2], array.shape[1])
        temporary = target.with_name(
            f".{target.stem}.{os.getpid()}-{threading.get_ident()}.writing.npy"
        )
        try:
            with open(temporary, "wb") as file:
                np.save(file, array, allow_pickle=False)
            os.replace(temporary, target)
        except OSError:
            temporary.unlink(missing_ok=True)
            return
        self.evict()

    def evict(self) -> None:
        """Delete the least recently used files until the folder fits ``max_bytes``."""
        entries = []
        for path in self.folder.glob("*.npy"):
            if path.name.startswith("."):
                continue
            with contextlib.suppress(OSError):
                info = path.stat()
                entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries, key=lambda entry: entry[0]):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)  # another process may have deleted it first
            total -= size
