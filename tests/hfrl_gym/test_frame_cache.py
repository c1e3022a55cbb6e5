"""The disk cache of rendered frames: round trip, keyed by size, atomic, bounded, no pickle."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.errors import ConfigError, StoreError
from hfrl_gym.frame_cache import FrameCache, cache_folder_for


def _frames(num: int, height: int, width: int, value: int) -> np.ndarray:
    rng = np.random.default_rng(value)
    return rng.integers(0, 256, size=(num, height, width, 3), dtype=np.uint8)


def test_round_trip_keyed_by_uid_and_size(tmp_path: Path) -> None:
    cache = FrameCache(tmp_path / "frames")
    small, large = _frames(4, 10, 20, 1), _frames(4, 20, 40, 2)
    cache.put("clip1", small)
    cache.put("clip1", large)
    np.testing.assert_array_equal(cache.get("clip1", width=20, height=10), small)
    np.testing.assert_array_equal(cache.get("clip1", width=40, height=20), large)
    assert cache.get("clip1", width=30, height=10) is None
    assert cache.get("clip2", width=20, height=10) is None
    assert ("clip1", 20, 10) in cache
    assert ("clip2", 20, 10) not in cache
    assert not [p for p in (tmp_path / "frames").iterdir() if p.name.startswith(".")]


def test_a_damaged_or_foreign_file_reads_as_missing_and_is_removed(tmp_path: Path) -> None:
    cache = FrameCache(tmp_path)
    cache.put("cut", _frames(3, 8, 8, 0))
    path = cache.path("cut", 8, 8)
    path.write_bytes(path.read_bytes()[:100])  # cut short
    assert cache.get("cut", 8, 8) is None
    assert not path.exists()
    wrong = cache.path("shape", 8, 8)
    np.save(wrong, np.zeros((3, 8, 9, 3), np.uint8))  # not the size its name says
    assert cache.get("shape", 8, 8) is None
    assert not wrong.exists()
    pickled = cache.path("objects", 8, 8)
    np.save(pickled, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    assert cache.get("objects", 8, 8) is None  # never unpickled


def test_oldest_files_are_evicted_to_fit_max_bytes(tmp_path: Path) -> None:
    one = _frames(2, 10, 10, 0)
    cache = FrameCache(tmp_path, max_bytes=int(2.5 * (one.nbytes + 128)))
    for index, uid in enumerate(("a", "b")):
        cache.put(uid, one)
        os.utime(cache.path(uid, 10, 10), (1000 + index, 1000 + index))
    assert cache.get("a", 10, 10) is not None  # read: now the most recently used
    cache.put("c", one)
    assert ("b", 10, 10) not in cache
    assert ("a", 10, 10) in cache
    assert ("c", 10, 10) in cache


def test_concurrent_writers_of_one_clip_leave_a_whole_file(tmp_path: Path) -> None:
    caches = [FrameCache(tmp_path) for _ in range(4)]  # as several windows on one store
    frames = _frames(6, 30, 40, 3)
    errors: list[BaseException] = []

    def write(cache: FrameCache) -> None:
        try:
            for _ in range(5):
                cache.put("shared", frames)
                got = cache.get("shared", 40, 30)
                assert got is not None
                np.testing.assert_array_equal(got, frames)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(cache,)) for cache in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared-40x30.npy"]


def test_bad_input_is_refused_with_one_clear_error(tmp_path: Path) -> None:
    cache = FrameCache(tmp_path)
    with pytest.raises(StoreError, match="uid"):
        cache.put("../escape", _frames(1, 2, 2, 0))
    with pytest.raises(ConfigError, match="uint8"):
        cache.put("clip", np.zeros((1, 2, 2, 3), np.float32))
    with pytest.raises(ConfigError, match="max_bytes"):
        FrameCache(tmp_path, max_bytes=0)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="frame cache folder"):
        FrameCache(blocker / "frames")


def test_cache_folder_sits_beside_the_store(tmp_path: Path) -> None:
    folder = cache_folder_for(tmp_path / "run" / "store.sqlite")
    assert folder == tmp_path / "run" / "store.sqlite.frames" / "window"
