"""Clip videos: rendered ahead of demand for the pending queries, cached on disk, served as
they were written."""

from __future__ import annotations

import time
from pathlib import Path

from hfrl_gym.store import LabelStore
from tests.human_ui.server.api_helpers import make_store, running_server


def test_pending_clips_are_rendered_ahead_and_served_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=3)
    with LabelStore(path, create=False) as store:
        uids = [uid for q in store.queries() for uid in (q.left_uid, q.right_uid)]
    with running_server(path, ahead_every_s=0.05) as server:
        folder = tmp_path / "labels.sqlite.frames" / "web"
        wanted = [folder / f"{uid}-320.webm" for uid in uids]
        deadline = time.monotonic() + 120  # a bound for a loaded machine, not a speed check
        while not all(video.exists() for video in wanted):
            assert time.monotonic() < deadline, sorted(p.name for p in folder.iterdir())
            time.sleep(0.05)
        written = {video: video.stat().st_mtime_ns for video in wanted}
        ana = server.join("Ana")  # nobody asked for a clip before this
        pairs = server.client.post("/api/v1/leases", headers=ana, json={"count": 3}).json()
        for pair in pairs["pairs"]:
            for side in ("left", "right"):
                reply = server.client.get(pair[side]["video_url"], headers=ana)
                assert reply.status_code == 200
                video = folder / f"{pair[side]['clip_uid']}-320.webm"
                assert reply.content == video.read_bytes()
        assert {video: video.stat().st_mtime_ns for video in wanted} == written  # not redone
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left
