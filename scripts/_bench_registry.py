"""The registry of ``make bench`` (``scripts/bench_all.py``): every generated section of
docs/BENCHMARKS.md and the command that writes it.

Each ``Entry`` names a section (the ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end
-->`` markers around it), the command the docs document for it and a rough cost on the 2-core
development machine; before the sections that tabulate finished runs (``bench_robust.py
--compare``), the documented commands that make those runs, as entries that write no section
(``doc`` None). The order is the order they run in.

Classes:
    Entry: one section of the docs and the command that writes it.

Attributes:
    REGISTRY: every entry, in the order ``make bench`` runs them.
    BENCHMARKS: the docs file the entries write into unless they say otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

BENCHMARKS = "docs/BENCHMARKS.md"


@dataclass(frozen=True)
class Entry:
    """One section of a docs file and the command that writes it.

    ``name``: the section (``bench:NAME`` markers in ``doc``). ``command``: the command line the
    section documents (``python`` stands for this interpreter; leading ``VAR=value`` settings
    and ``nice`` are kept). ``cost``: rough wall time on the 2-core development machine.
    ``write``: the flag that makes the script write its section (None: it writes unless given
    ``--no-write``). ``doc``: the file it writes into; None for an entry that writes nothing
    (runs a later entry tabulates: its command says ``--no-write``, and ``write`` is None).
    """

    name: str
    command: str
    cost: str
    write: str | None = "--write"
    doc: str | None = BENCHMARKS


ROBUST = "python scripts/bench_robust.py"
FOUR = "--teachers oracle noisy mistake skip"
BEFORE = "--set explore_fraction=0 --set label_decay=0.8"
"""The defaults before the ablation (no exploration, label decay 0.8)."""
NOW = "--set explore_fraction=0.1 --set label_decay=0.6"
"""The defaults the ablation chose (exploration, label decay 0.6)."""


def _runs(
    variant: str, envs: str, seeds: str, teachers: str, settings: str, cost: str, name: str = ""
) -> Entry:
    """The runs of one ``bench_robust.py`` variant that a ``--compare`` entry reads (no section).

    >>> _runs("x", "cartpole", "0", "", "--set revisit=true", "1 min").command.split(".py ")[1]
    '--envs cartpole --seeds 0 --jobs 2 --variant x --set revisit=true --no-write'
    """
    words = [ROBUST, "--envs", envs, "--seeds", seeds, teachers, "--jobs 2", "--variant", variant]
    command = " ".join(word for word in [*words, settings, "--no-write"] if word)
    return Entry(name or f"ablation-{variant}-runs", command, cost, write=None, doc=None)


REGISTRY: tuple[Entry, ...] = (
    Entry(
        "acrobot-ceiling",
        "python scripts/bench_acrobot_ceiling.py --episodes 2",
        "a few minutes (the planner simulates 1,000 steps per step)",
    ),
    Entry(
        "sac",
        "python scripts/bench_sac.py --steps 5000",
        "30-60 min (six SAC runs of 5,000 steps, one gradient step per env step)",
    ),
    Entry(
        "sac-20k",
        "python scripts/bench_sac.py --steps 20000 --seeds 0 --section sac-20k",
        "about 25 min (three SAC runs of 20,000 steps)",
    ),
    Entry(
        "ui-person",
        "SDL_VIDEODRIVER=dummy MUJOCO_GL=egl nice -n 10 .venv/bin/python scripts/bench_ui.py "
        "--load --answers 8",
        "15-30 min (nine envs, MuJoCo rendered in software, a training run beside it)",
    ),
    Entry(
        "ui-window",
        "SDL_VIDEODRIVER=dummy MUJOCO_GL=egl .venv/bin/python scripts/bench_ui.py --mode window",
        "a few minutes",
    ),
    Entry(
        "page",
        "nice -n 10 python scripts/bench_page.py --answers 30",
        "2-5 min (renders 66 clips first; needs chromium and Playwright)",
    ),
    Entry(
        "recording",
        "python scripts/bench_recording.py --steps 10000 --clips 300",
        "about a minute",
    ),
    Entry(
        "camera",
        "python scripts/bench_camera.py --size 300 200 --repeat 5",
        "1-2 min",
    ),
    Entry(
        "reward-model",
        "python scripts/bench_reward_model.py",
        "about 3 min (fits on 100, 500 and 2,000 pairs)",
    ),
    Entry(
        "refit-cartpole",
        "nice -n 10 python scripts/bench_refit.py --envs hfrl/CartPole-v0 --section refit-cartpole",
        "5-8 min (22 refits per mode)",
    ),
    Entry(
        "refit-pendulum",
        "nice -n 10 python scripts/bench_refit.py --envs hfrl/Pendulum-v0 --section refit-pendulum",
        "5-8 min (22 refits per mode)",
    ),
    Entry(
        "cost",
        "python scripts/bench_cost.py --repeat 2",
        "about 6 min, on an idle machine (12 runs of 17-30 s, one at a time)",
    ),
    Entry(
        "device",
        "python scripts/bench_device.py --steps 8000 --labels 20",
        "about 2 min on the CPU (more where CUDA adds its rows)",
    ),
    Entry(
        "label-efficiency",
        "python scripts/bench_label_efficiency.py --seeds 5 --bpref-seeds 1 --jobs 2",
        "about 30 min (52 runs, two at a time; finished runs are reused)",
        write=None,
    ),
    Entry(
        "async",
        "python scripts/bench_async.py --envs cartpole pendulum --seeds 0 1",
        "about 25 min (four runs at a simulated person's pace, 2-5 s an answer)",
    ),
    Entry(
        "async-fast",
        "python scripts/bench_async.py --envs cartpole pendulum --seeds 0 1 "
        "--seconds-per-answer 0.2 0.5 --out runs/bench_async_fast --section async-fast",
        "about 12 min (four runs, 0.2-0.5 s an answer)",
    ),
    Entry(
        "server",
        "python scripts/bench_server.py --students 30 60 --minutes 5 --burst-s 10 "
        "--warmup-s 10 --clips 60",
        "about 15 min (a class of 30, then 60, 5 min each, beside a training run)",
    ),
    Entry(
        "tune-ppo-inverted-pendulum",
        "python scripts/tune_ppo.py hfrl/InvertedPendulum-v0 --steps 200000 --runs "
        "scripts/tune_ppo_inverted_pendulum.json --section tune-ppo-inverted-pendulum",
        "about 1 hour (seven PPO runs of 200,000 MuJoCo steps, one at a time)",
    ),
    Entry(
        "robust-default",
        "python scripts/bench_robust.py --envs cartpole pendulum --seeds 0 1 2 --jobs 2 "
        f"--variant default {BEFORE}",
        "about 20 min (54 runs, two at a time; finished runs are reused)",
        write=None,
    ),
    Entry(
        "robust-explore",
        "python scripts/bench_robust.py --envs cartpole pendulum --seeds 0 1 2 --teachers "
        "oracle noisy mistake skip --jobs 2 --variant explore --set explore_fraction=0.1 "
        "--set label_decay=0.8",
        "about 15 min (42 runs, two at a time; finished runs are reused)",
        write=None,
    ),
    # "what changed the defaults": each variant's runs (explore's are robust-explore's), then
    # the tables; settings pinned, so a later change of a default changes no variant
    _runs("before", "cartpole pendulum", "0 1 2", FOUR, BEFORE, "about 15 min (36 runs)"),
    _runs(
        "decay06",
        "cartpole",
        "0 1 2",
        FOUR,
        "--set explore_fraction=0 --set label_decay=0.6",
        "about 5 min (12 runs)",
    ),
    _runs(
        "growth13",
        "cartpole",
        "0 1 2",
        FOUR,
        f"{BEFORE} --set round_growth=1.3",
        "about 5 min (12 runs)",
    ),
    _runs("explore-decay06", "cartpole pendulum", "0 1 2", FOUR, NOW, "about 10 min (24 runs)"),
    _runs(
        "before",
        "cartpole pendulum",
        "137 912",
        FOUR,
        BEFORE,
        "about 20 min (40 runs)",
        name="ablation-before-fresh-runs",
    ),
    _runs(
        "explore-decay06",
        "cartpole pendulum",
        "137 912",
        FOUR,
        NOW,
        "about 10 min (16 runs)",
        name="ablation-explore-decay06-fresh-runs",
    ),
    Entry(
        "ablation-defaults",
        f"{ROBUST} --envs cartpole pendulum --seeds 0 1 2 {FOUR} --compare before explore "
        "decay06 growth13 explore-decay06 --section ablation-defaults",
        "under a minute (reads finished runs)",
    ),
    Entry(
        "ablation-defaults-fresh",
        f"{ROBUST} --envs cartpole pendulum --seeds 137 912 {FOUR} --compare before "
        "explore-decay06 --section ablation-defaults-fresh",
        "under a minute (reads finished runs)",
    ),
    # "revisiting earlier clips": seeds 0-4 and two fresh seeds, all six teachers
    _runs(
        "revisit",
        "cartpole pendulum",
        "0 1 2 3 4",
        "",
        f"{NOW} --set revisit=true",
        "about 40 min (60 runs)",
    ),
    _runs(
        "explore-decay06",
        "cartpole pendulum",
        "0 1 2 3 4",
        "",
        NOW,
        "about 30 min (60 runs; seeds 0-2 of four teachers reused)",
        name="ablation-explore-decay06-six-runs",
    ),
    _runs(
        "revisit",
        "cartpole pendulum",
        "137 912",
        "",
        f"{NOW} --set revisit=true",
        "about 20 min (24 runs)",
        name="ablation-revisit-fresh-runs",
    ),
    _runs(
        "explore-decay06",
        "cartpole pendulum",
        "137 912",
        "",
        NOW,
        "about 10 min (8 runs; four teachers reused)",
        name="ablation-explore-decay06-six-fresh-runs",
    ),
    Entry(
        "ablation-revisit",
        f"{ROBUST} --envs cartpole pendulum --seeds 0 1 2 3 4 --compare explore-decay06 "
        "revisit --section ablation-revisit",
        "under a minute (reads finished runs)",
    ),
    Entry(
        "ablation-revisit-fresh",
        f"{ROBUST} --envs cartpole pendulum --seeds 137 912 --compare explore-decay06 revisit "
        "--section ablation-revisit-fresh",
        "under a minute (reads finished runs)",
    ),
    # the alternative goals: the oracle judging each goal, against PPO trained on the goal
    Entry(
        "robust-goals",
        f"{ROBUST} --envs cartpole pendulum --seeds 0 1 2 3 4 --teachers oracle --goals "
        f"--jobs 2 --variant explore-decay06 {NOW} --section robust-goals",
        "about 15 min (40 runs; the task's reused)",
        write=None,
    ),
    Entry(
        "robust-goals-offpolicy",
        f"{ROBUST} --envs mountaincar --seeds 0 1 2 --teachers oracle --goals --jobs 2 "
        "--variant offpolicy --section robust-goals-offpolicy",
        "about 1.5 hours (12 goal runs of SAC, 50,000 steps, about 5 min each on one core)",
        write=None,
    ),
    Entry(
        "robust-goals-offpolicy-ip",
        f"{ROBUST} --envs invertedpendulum --seeds 0 1 --teachers oracle --goals --jobs 2 "
        "--variant offpolicy --section robust-goals-offpolicy-ip",
        "about 40 min (4 SAC runs of 50,000 MuJoCo steps)",
        write=None,
    ),
    _runs(
        "revisit",
        "cartpole pendulum",
        "0 1 2 3 4",
        "--teachers oracle --goals",
        f"{NOW} --set revisit=true",
        "about 5 min (10 goal runs; the task's reused)",
        name="ablation-revisit-goals-runs",
    ),
    # the disagreement bonus (RUNE) against today's defaults, six teachers and the goals
    _runs(
        "bonus03",
        "cartpole pendulum",
        "0 1 2 3 4",
        "--goals",
        f"{NOW} --set disagreement_bonus=0.3",
        "about 45 min (70 runs)",
    ),
    _runs(
        "offpolicy",
        "mountaincar",
        "2",
        "--teachers oracle",
        "",
        "about 20 min (4 SAC runs: the off-policy section's third seed)",
        name="robust-offpolicy-mountaincar-s2-runs",
    ),
    _runs(
        "bonus03",
        "mountaincar",
        "0 1 2",
        "--teachers oracle",
        "--set disagreement_bonus=0.3",
        "about 20 min (3 SAC runs)",
        name="ablation-bonus03-mountaincar-runs",
    ),
    Entry(
        "ablation-bonus",
        f"{ROBUST} --envs cartpole pendulum --seeds 0 1 2 3 4 --goals --compare explore-decay06 "
        "revisit bonus03 --section ablation-bonus",
        "under a minute (reads finished runs)",
    ),
    # the perturbed recordings against today's defaults, six teachers and the goals
    _runs(
        "perturb05",
        "cartpole",
        "0 1 2 3 4",
        "--goals",
        f"{NOW} --set perturb_fraction=0.05",
        "about 25 min (35 runs)",
    ),
    _runs(
        "perturb05",
        "pendulum",
        "0 1 2",
        "--goals",
        f"{NOW} --set perturb_fraction=0.05",
        "about 15 min (21 runs)",
        name="perturb05-pendulum-runs",
    ),
    Entry(
        "ablation-perturb",
        f"{ROBUST} --envs cartpole --seeds 0 1 2 3 4 --goals --compare "
        "perturb05 --section ablation-perturb",
        "under a minute (reads finished runs)",
    ),
    Entry(
        "ablation-perturb-pendulum",
        f"{ROBUST} --envs pendulum --seeds 0 1 2 --goals --compare "
        "perturb05 --section ablation-perturb-pendulum",
        "under a minute (reads finished runs)",
    ),
    Entry(
        "ablation-bonus-mountaincar",
        f"{ROBUST} --envs mountaincar --seeds 0 1 2 --teachers oracle --compare offpolicy "
        "bonus03 --section ablation-bonus-mountaincar",
        "under a minute (reads finished runs)",
    ),
    Entry(
        "robust-acrobot",
        f"{ROBUST} --envs acrobot --algo ppo --seeds 0 1 2 --teachers oracle noisy --jobs 2 "
        "--section robust-acrobot",
        "about 15 min (15 runs of about a minute, two at a time)",
        write=None,
    ),
    Entry(
        "learners",
        "python scripts/bench_learners.py",
        "about 1.5 hours (five true-reward runs, one at a time)",
    ),
    Entry(
        "robust-offpolicy",
        f"{ROBUST} --envs acrobot invertedpendulum mountaincar --seeds 0 1 --teachers oracle "
        "--variant offpolicy --jobs 2 --section robust-offpolicy",
        "about 2 hours (24 runs: DQN 200k steps about 9 min, SAC 50k about 5 min, one core each)",
        write=None,
    ),
    Entry(
        "teaching-1-4",
        "python scripts/bench_teaching.py --lessons 1 2 3 4 --seeds 0 1 2 3 4 --jobs 2",
        "about 1 hour (20 lesson runs; lessons unchanged since their run are reused)",
        write=None,
        doc="docs/TEACHING.md",
    ),
    Entry(
        "teaching-5-8",
        "python scripts/bench_teaching.py --lessons 5 6 7 8 --seeds 0 1 2 3 4 --jobs 2",
        "about 40 min (20 lesson runs; lessons unchanged since their run are reused)",
        write=None,
        doc="docs/TEACHING.md",
    ),
    Entry(
        "teaching-9-10",
        "python scripts/bench_teaching.py --lessons 10 9 --seeds 0 1 2 3 4 --jobs 1",
        "about 20 min (10 lesson runs; lessons unchanged since their run are reused)",
        write=None,
        doc="docs/TEACHING.md",
    ),
)
