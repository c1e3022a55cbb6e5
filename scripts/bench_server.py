"""A class on one run: simulated students label through ``hfrl serve`` while the run trains.

Over real TCP on loopback: ``hfrl train --teacher store --async`` on CartPole trains in one
process, ``hfrl serve`` (uvicorn) serves its run folder in another, and simulated students in
this one (a thread each: ``human_ui.simulated_students``, on the standard library's HTTP client)
join the class and label as the browser page does: lease a pair, fetch both clips' videos,
answer. For each class size (``--students``, default 30 then 60), every student answers every
``--interval-s`` seconds for ``--minutes`` minutes, then as fast as they can for ``--burst-s``
seconds. Measured:

- answers lost or duplicated: every answer the server acknowledged (201) must be in the
  store exactly once, and the store must hold no student answer that was not acknowledged
  (target 0 and 0);
- answer latency, from sending the answer to its acknowledgement (target p95 <= 100 ms);
- next clip ready: from asking for the next pair to having both its videos (target p95 <=
  200 ms; no prefetch, which the page does on top);
- true rewards in any response to a student (the raw bodies of leases, answers and, for one
  pair in ten, a clip's snapshot are searched for ``true_`` and for keys naming a return or a
  reward; target: none).

The run alone does not post queries fast enough for a class (it tops its queue up between
PPO rollouts), so the bench also posts ``--queries`` queries of ``--clips`` random-policy
CartPole clips into the run's store before the class starts (pairs of the pool, as the run's
own pair selector pairs its newest clips), and has the server render the pool's videos
before the class (as the teacher, one clip at a time: the time a clip takes is reported):
queries posted in bulk leave the server's render-ahead no time, which queries posted by a
run at its own pace do.

With ``--write`` (or its old name ``--write-docs``) the results replace the section between the
``bench:server`` markers in docs/BENCHMARKS.md.

Usage: ``nice -n 10 python scripts/bench_server.py --students 30 60 --minutes 2``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from _bench import add_write_option, header, publish, table  # noqa: E402

from hfrl_gym.recording import record_random_clips  # noqa: E402
from hfrl_gym.store import LabelStore  # noqa: E402
from human_ui.simulated_students import RandomChooser, SimulatedStudent, Tally  # noqa: E402
from tests.server_process import HFRL, ServerProcess  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def start_training(run: Path, log: Path) -> subprocess.Popen[bytes]:
    """``hfrl train --teacher store --async`` on CartPole with budgets the class cannot spend;
    its first fit waits for 100 answers (the first of 1,000 even rounds' labels)."""
    args = [
        str(HFRL), "train", "--env", "hfrl/CartPole-v0", "--teacher", "store", "--async",
        "--labels", "100000", "--rounds", "1000", "--label-decay", "1.0", "--queue-low", "32",
        "--steps", "20000000",
        "--explore-fraction", "0", "--initial-steps", "1000", "--device", "cpu",
        "--no-video", "--no-progress", "--out", str(run),
    ]  # fmt: skip
    env = {**os.environ, "HFRL_TORCH_THREADS": "1"}
    return subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)


def _phase(run: Path) -> str | None:
    try:
        return json.loads((run / "status.json").read_text()).get("phase")
    except (OSError, ValueError):
        return None


def post_queries(store_path: Path, num_clips: int, num_queries: int, seed: int) -> None:
    """Pairs of a pool of random-policy clips, posted into the run's store."""
    clips = record_random_clips(
        "hfrl/CartPole-v0", num_clips=num_clips, clip_num_steps=25, seed=seed
    )
    rng = random.Random(seed)
    with LabelStore(store_path, create=False) as store:
        uids = store.add_clips(clips)
        pairs = [tuple(rng.sample(uids, 2)) for _ in range(num_queries)]
        store.add_queries(pairs, round=0)


def warm_videos(server: ServerProcess, store_path: Path) -> tuple[int, float]:
    """Have the server render the video of every clip of a posted query (as the teacher);
    the clips and the seconds a clip took."""
    with LabelStore(store_path, create=False) as store:
        queries = store.queries()
    uids = list(dict.fromkeys(uid for q in queries for uid in (q.left_uid, q.right_uid)))
    teacher = server.teacher()
    start = time.perf_counter()
    for uid in uids:
        teacher.video(f"/api/v1/clips/{uid}/video.webm")
    return len(uids), (time.perf_counter() - start) / max(1, len(uids))


def class_phase(
    server: ServerProcess,
    training: subprocess.Popen[bytes],
    size: int,
    args: argparse.Namespace,
    tag: str,
) -> dict:
    """``size`` students at a pace for ``--minutes``, then a burst; their tallies merged."""
    students = [
        SimulatedStudent(server.join(name), name, chooser=RandomChooser(), seed=i)
        for i, name in enumerate(f"{tag}{i:02d}" for i in range(size))
    ]
    start = time.monotonic()
    steady_end = start + args.warmup_s + 60 * args.minutes
    for student in students:
        student.interval_s, student.stop_at = args.interval_s, steady_end + args.burst_s
        student.start()
    time.sleep(args.warmup_s)
    for student in students:
        student.counting = True
    pids = {"server": server.process.pid, "training": training.pid, "clients": os.getpid()}
    cpu_start, loads = {k: _cpu_seconds(pid) for k, pid in pids.items()}, []
    while time.monotonic() < steady_end:
        time.sleep(min(5.0, max(0.0, steady_end - time.monotonic())))
        loads.append(os.getloadavg()[0])
    cpu = {k: (_cpu_seconds(pid) - cpu_start[k]) / (60 * args.minutes) for k, pid in pids.items()}
    steady = _merge(students)
    for student in students:
        student.interval_s = 0.0
    for student in students:
        student.join(timeout=60)
    whole = _merge(students)
    burst_answers = len(whole.acknowledged) - len(steady.acknowledged)
    return {
        "students": students,
        "steady": steady,
        "whole": whole,
        "burst_rate": burst_answers / args.burst_s,
        "steady_rate": len(steady.answer_ms) / (60 * args.minutes),
        "load": statistics.mean(loads) if loads else float("nan"),
        "cpu": cpu,
    }


def _cpu_seconds(pid: int) -> float:
    """CPU seconds a process has used, its threads included (Linux; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _merge(students: list[SimulatedStudent]) -> Tally:
    merged = Tally()
    for student in students:
        tally = student.tally
        merged.acknowledged += list(tally.acknowledged)
        merged.answer_ms += list(tally.answer_ms)
        merged.ready_ms += list(tally.ready_ms)
        merged.burst_answer_ms += list(tally.burst_answer_ms)
        merged.burst_ready_ms += list(tally.burst_ready_ms)
        merged.empty_leases += tally.empty_leases
        merged.refused += tally.refused
        merged.errors += list(tally.errors)
        merged.forbidden += list(tally.forbidden)
    return merged


def lost_and_duplicated(store_path: Path, students: list[SimulatedStudent]) -> tuple[int, int, int]:
    """(acknowledged answers missing from the store, answers stored twice or unacknowledged,
    acknowledged answers)."""
    with LabelStore(store_path, create=False) as store:
        lost = duplicated = total = 0
        for student in students:
            stored = store.answers(annotator=student.annotator)
            stored_ids = [record.id for record in stored]
            acked = {answer_id for answer_id, _ in student.tally.acknowledged}
            total += len(acked)
            lost += len(acked - set(stored_ids))
            queries = [record.query_id for record in stored]
            duplicated += len(queries) - len(set(queries)) + len(set(stored_ids) - acked)
    return lost, duplicated, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[30, 60])
    parser.add_argument("--minutes", type=float, default=5.0, help="paced labelling per size")
    parser.add_argument("--interval-s", type=float, default=2.0, help="seconds between answers")
    parser.add_argument("--burst-s", type=float, default=10.0, help="as fast as they can")
    parser.add_argument("--warmup-s", type=float, default=10.0, help="not counted")
    parser.add_argument("--clips", type=int, default=300, help="clip pool of the posted queries")
    parser.add_argument("--queries", type=int, default=0, help="posted (0: enough for all)")
    parser.add_argument("--keep", type=Path, help="keep the run folder here")
    add_write_option(parser, "server", "--write-docs")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench_server_"))
    run = args.keep or folder / "run"
    training = start_training(run, folder / "train.log")
    server = None
    try:
        store_path = run / "store.sqlite"
        deadline = time.monotonic() + 300
        while _phase(run) != "waiting" or not store_path.is_file():  # its first queries
            if training.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"training did not start: {(folder / 'train.log').read_text()}")
            time.sleep(1)
        paced = sum(args.students) * (args.warmup_s + 60 * args.minutes) / args.interval_s
        num_queries = args.queries or int(2 * paced + 200 * sum(args.students))
        post_queries(store_path, args.clips, num_queries, seed=0)
        server = ServerProcess(run, cwd=folder).start()
        warm_clips, warm_s = warm_videos(server, store_path)
        rows, checks = [], []
        for index, size in enumerate(args.students):
            result = class_phase(server, training, size, args, tag=f"s{index}n")
            lost, duplicated, total = lost_and_duplicated(store_path, result["students"])
            steady, whole = result["steady"], result["whole"]
            rows.append(
                {
                    "students": size,
                    "answers/s paced": f"{result['steady_rate']:.1f}",
                    "answer p50 / p95 ms": f"{percentile(steady.answer_ms, 50):.0f} / "
                    f"{percentile(steady.answer_ms, 95):.0f}",
                    "next clip ready p50 / p95 ms": f"{percentile(steady.ready_ms, 50):.0f} / "
                    f"{percentile(steady.ready_ms, 95):.0f}",
                    "burst answers/s": f"{result['burst_rate']:.1f}",
                    "burst answer / clip p95 ms": f"{percentile(whole.burst_answer_ms, 95):.0f}"
                    f" / {percentile(whole.burst_ready_ms, 95):.0f}",
                    "load avg": f"{result['load']:.1f}",
                    "CPU s/s server / training / clients": " / ".join(
                        f"{value:.2f}" for value in result["cpu"].values()
                    ),
                    "acknowledged": total,
                    "lost / duplicated": f"{lost} / {duplicated}",
                    "true rewards seen": len(whole.forbidden),
                    "409 / errors / empty leases": f"{whole.refused} / {len(whole.errors)} / "
                    f"{whole.empty_leases}",
                }
            )
            checks.append((lost, duplicated, whole.forbidden, whole.errors[:5]))
        status = json.loads((run / "status.json").read_text())
        report = "\n".join(
            [
                header("Label server: a class on one training run"),
                f"- {args.minutes:g} min paced ({args.interval_s:g} s an answer) after "
                f"{args.warmup_s:g} s not counted, then a {args.burst_s:g} s burst, per size; "
                f"{num_queries} queries of {args.clips} CartPole clips posted; the videos of "
                f"the {warm_clips} clips of every posted query (the run's too) rendered before "
                f"the class ({warm_s:.2f} s a clip, one at a time); the run's "
                f"status at the end: {status.get('phase')}, {status.get('refits')} refits, "
                f"{status.get('env_steps')} env steps",
                "",
                table(rows),
                "",
            ]
        )
        publish(report, args)
        if not status.get("refits"):
            print("WARNING: the run never fit its reward model: it did not train beside the class")
        for lost, duplicated, forbidden, errors in checks:
            if lost or duplicated or forbidden or errors:
                print(
                    f"FAILED: lost {lost}, duplicated {duplicated}, forbidden {forbidden[:3]}, "
                    f"errors {errors}"
                )
        return 0 if all(not (c[0] or c[1] or c[2]) for c in checks) else 1
    finally:
        if server is not None:
            server.stop()
        training.terminate()
        training.wait(timeout=60)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
