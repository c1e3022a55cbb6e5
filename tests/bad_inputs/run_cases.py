"""Bad inputs of ``hfrl train`` (new and resumed), ``report``, ``video``, ``demo``,
``lesson``, ``label`` and ``play``: flags, run folders, checkpoints and policies."""

from __future__ import annotations

from tests.bad_inputs.changes import (
    Case,
    copy_of,
    edit_json,
    hostile_pickle,
    hostile_zip,
    make,
    policy_pt,
    remove,
    state_text,
    truncate,
    write,
    zip_without_policy,
)

TRAIN = "train --no-progress --out {tmp}/new"
RESUME = "train --no-progress --resume {tmp}/run"
RUN = copy_of("run")
PLAY = "--store {tmp}/played.sqlite --max-frames 1"  # a refused play makes no store

RUN_CASES: dict[str, Case] = {
    # train: each flag
    "train unknown env": Case(f"{TRAIN} --env hfrl/Nope-v0", "hfrl/Nope-v0"),
    "train unknown teacher": Case(f"{TRAIN} --teacher guru", "guru"),
    "train unknown goal": Case(f"{TRAIN} --goal fly", "fly"),
    "train unknown reward": Case(f"{TRAIN} --reward gold", "--reward"),
    "train goal reward for the task": Case(f"{TRAIN} --reward goal", "--reward goal"),
    "train unknown query": Case(f"{TRAIN} --query best", "--query"),
    "train negative labels": Case(f"{TRAIN} --labels -1", "--labels"),
    "train one label": Case(f"{TRAIN} --labels 1", "--labels"),
    "train text labels": Case(f"{TRAIN} --labels ten", "--labels"),
    "train float labels": Case(f"{TRAIN} --labels 1.5", "--labels"),
    "train a billion labels": Case(f"{TRAIN} --labels 1000000000", "--labels"),
    "train zero steps": Case(f"{TRAIN} --steps 0", "--steps"),
    "train negative steps": Case(f"{TRAIN} --steps -100", "--steps"),
    "train text steps": Case(f"{TRAIN} --steps lots", "--steps"),
    "train steps below a rollout": Case(f"{TRAIN} --steps 2100", "--steps"),
    "train negative seed": Case(f"{TRAIN} --seed -1", "--seed"),
    "train huge seed": Case(f"{TRAIN} --seed 99999999999999999999", "--seed"),
    "train zero rounds": Case(f"{TRAIN} --rounds 0", "--rounds"),
    "train a billion rounds": Case(f"{TRAIN} --rounds 1000000000", "--rounds"),
    "train zero clip steps": Case(f"{TRAIN} --clip-steps 0", "--clip-steps"),
    "train clips over the horizon": Case(f"{TRAIN} --clip-steps 501", "--clip-steps"),
    "train few initial steps": Case(f"{TRAIN} --initial-steps 10", "--initial-steps"),
    "train initial steps over budget": Case(
        f"{TRAIN} --steps 5000 --initial-steps 6000", "--initial-steps"
    ),
    "train negative explore fraction": Case(f"{TRAIN} --explore-fraction -1", "--explore-fraction"),
    "train negative absorbing steps": Case(f"{TRAIN} --absorbing-steps -2", "--absorbing-steps"),
    "train zero label decay": Case(f"{TRAIN} --label-decay 0", "--label-decay"),
    "train label decay above 1": Case(f"{TRAIN} --label-decay 1.5", "--label-decay"),
    "train NaN label decay": Case(f"{TRAIN} --label-decay nan", "--label-decay"),
    "train negative kl": Case(f"{TRAIN} --kl-coef -1", "--kl-coef"),
    "train infinite kl": Case(f"{TRAIN} --kl-coef inf", "--kl-coef"),
    "train NaN kl": Case(f"{TRAIN} --kl-coef nan", "--kl-coef"),
    "train negative wait": Case(f"{TRAIN} --teacher store --wait-timeout -5", "--wait-timeout"),
    "train zero wait": Case(f"{TRAIN} --teacher store --wait-timeout 0", "--wait-timeout"),
    "train NaN wait": Case(f"{TRAIN} --teacher store --wait-timeout nan", "--wait-timeout"),
    "train empty annotator": Case(f"{TRAIN} --annotator ''", "--annotator"),
    "train blank annotator": Case(f"{TRAIN} --annotator '  '", "--annotator"),
    "train zero ensemble": Case(f"{TRAIN} --ensemble 0", "--ensemble"),
    "train zero eval episodes": Case(f"{TRAIN} --eval-episodes 0", "--eval-episodes"),
    "train unknown device": Case(f"{TRAIN} --device tpu", "--device"),
    "train unknown flag": Case(f"{TRAIN} --epochs 3", "--epochs"),
    "train missing reference": Case(f"{TRAIN} --reference {{tmp}}/bc.pt", "--reference"),
    "train reference a folder": Case(f"{TRAIN} --reference {{tmp}}", "--reference"),
    "train reference notes": Case(f"{TRAIN} --reference {{notes}}", "notes.txt"),
    "train reference junk zip": Case(
        f"{TRAIN} --reference {{tmp}}/bc.zip", "bc.zip", make("bc.zip", "PK not really")
    ),
    "train reference hostile zip": Case(
        f"{TRAIN} --reference {{tmp}}/run/bc.zip",
        "bc.zip",
        copy_of("run", hostile_zip("bc.zip")),
    ),
    "train reference pt without json": Case(
        f"{TRAIN} --reference {{tmp}}/run/policy.pt",
        "policy.json",
        copy_of("run", policy_pt("hfrl/CartPole-v0"), remove("policy.json")),
    ),
    "train reference of another env": Case(
        f"{TRAIN} --reference {{tmp}}/run/policy.pt",
        "policy.pt",
        copy_of("run", policy_pt("hfrl/Pendulum-v0")),
    ),
    "train out a file": Case("train --no-progress --out {notes}", "notes.txt"),
    "train out under a file": Case("train --no-progress --out {notes}/run", "notes.txt"),
    "train out an unrelated folder": Case(
        "train --no-progress --out {tmp}/mine", "mine", make("mine/thesis.tex", "\\begin")
    ),
    "train out a finished run": Case("train --no-progress --out {tmp}/run", "--resume", RUN),
    # train --resume: the run folder and each of its files
    "resume a missing folder": Case(f"{RESUME}", "run"),
    "resume a file": Case("train --resume {notes}", "notes.txt"),
    "resume a folder without config": Case(RESUME, "config.json", make("run/x.txt", "x")),
    "resume garbage config": Case(
        RESUME, "config.json", copy_of("run", write("config.json", "{x"))
    ),
    "resume empty config": Case(RESUME, "config.json", copy_of("run", write("config.json", ""))),
    "resume list config": Case(RESUME, "config.json", copy_of("run", write("config.json", "[]"))),
    "resume binary config": Case(
        RESUME, "config.json", copy_of("run", write("config.json", b"\x00\xff"))
    ),
    "resume config unknown key": Case(
        RESUME, "config.json", copy_of("run", edit_json("config.json", colour="red"))
    ),
    "resume config text labels": Case(
        RESUME, "config.json", copy_of("run", edit_json("config.json", labels="six"))
    ),
    "resume config null steps": Case(
        RESUME, "config.json", copy_of("run", edit_json("config.json", steps=None))
    ),
    "resume config bool rounds": Case(
        RESUME, "config.json", copy_of("run", edit_json("config.json", rounds=True))
    ),
    "resume config list env": Case(
        RESUME, "config.json", copy_of("run", edit_json("config.json", env=["a"]))
    ),
    "resume config unknown env": Case(
        RESUME, "hfrl/Gone-v0", copy_of("run", edit_json("config.json", env="hfrl/Gone-v0"))
    ),
    "resume config negative labels": Case(
        RESUME, "labels", copy_of("run", edit_json("config.json", labels=-6))
    ),
    "resume config text video": Case(
        RESUME, "config.json", copy_of("run", edit_json("config.json", video="yes"))
    ),
    "resume garbage state": Case(RESUME, "state.json", copy_of("run", write("state.json", "{"))),
    "resume empty state": Case(RESUME, "state.json", copy_of("run", write("state.json", ""))),
    "resume list state": Case(RESUME, "state.json", copy_of("run", write("state.json", "[1]"))),
    "resume state without round": Case(
        RESUME, "state.json", copy_of("run", write("state.json", '{"env_steps": 3}'))
    ),
    "resume state text round": Case(
        RESUME, "state.json", copy_of("run", edit_json("state.json", next_round="one"))
    ),
    "resume state negative round": Case(
        RESUME, "state.json", copy_of("run", edit_json("state.json", next_round=-1))
    ),
    "resume state negative steps": Case(
        RESUME, "state.json", copy_of("run", edit_json("state.json", env_steps=-10))
    ),
    "resume state NaN wall time": Case(
        RESUME, "state.json", copy_of("run", write("state.json", state_text("NaN")))
    ),
    "resume without store": Case(RESUME, "store.sqlite", copy_of("run", remove("store.sqlite"))),
    "resume notes as store": Case(
        RESUME, "store.sqlite", copy_of("run", write("store.sqlite", "notes"))
    ),
    "resume torn store": Case(
        RESUME, "store.sqlite", copy_of("run", truncate("store.sqlite", 0.4))
    ),
    "resume store a folder": Case(
        RESUME,
        "store.sqlite",
        copy_of("run", remove("store.sqlite"), write("store.sqlite/x", "")),
    ),
    "resume torn policy zip": Case(
        RESUME, "policy.zip", copy_of("run", truncate("policy.zip", 0.5))
    ),
    "resume empty policy zip": Case(RESUME, "policy.zip", copy_of("run", write("policy.zip", ""))),
    "resume policy zip of text": Case(
        RESUME, "policy.zip", copy_of("run", write("policy.zip", "not a zip"))
    ),
    "resume hostile policy zip": Case(
        RESUME, "policy.zip", copy_of("run", hostile_zip("policy.zip"))
    ),
    "resume policy zip without weights": Case(
        RESUME, "policy.zip", copy_of("run", lambda f: zip_without_policy(f / "policy.zip"))
    ),
    "resume hostile policy pt": Case(
        RESUME,
        "policy.pt",
        copy_of("run", policy_pt("hfrl/CartPole-v0"), write("policy.pt", hostile_pickle())),
    ),
    "resume torn policy pt": Case(
        RESUME,
        "policy.pt",
        copy_of("run", policy_pt("hfrl/CartPole-v0"), truncate("policy.pt", 0.5)),
    ),
    "resume policy pt without json": Case(
        RESUME,
        "policy.json",
        copy_of("run", policy_pt("hfrl/CartPole-v0"), remove("policy.json")),
    ),
    "resume damaged policy json": Case(
        RESUME,
        "policy.json",
        copy_of("run", policy_pt("hfrl/CartPole-v0"), write("policy.json", "{")),
    ),
    "resume newer policy format": Case(
        RESUME,
        "policy.json",
        copy_of("run", policy_pt("hfrl/CartPole-v0"), edit_json("policy.json", format_version=9)),
    ),
    "resume policy of another env": Case(
        RESUME, "policy.pt", copy_of("run", policy_pt("hfrl/Pendulum-v0"))
    ),
    "resume policy of another env, same json": Case(
        RESUME,
        "policy.pt",
        copy_of(
            "run",
            policy_pt("hfrl/Pendulum-v0"),
            edit_json("policy.json", env_id="hfrl/CartPole-v0"),
        ),
    ),
    "resume damaged reward meta": Case(
        RESUME, "meta.json", copy_of("run", write("reward_model/meta.json", "{"))
    ),
    "resume reward weights missing": Case(
        RESUME, "weights.pt", copy_of("run", remove("reward_model/weights.pt"))
    ),
    "resume torn reward weights": Case(
        RESUME, "weights.pt", copy_of("run", truncate("reward_model/weights.pt", 0.5))
    ),
    "resume hostile reward weights": Case(
        RESUME, "weights.pt", copy_of("run", write("reward_model/weights.pt", hostile_pickle()))
    ),
    "resume reward model of another env": Case(
        RESUME,
        "hfrl/Pendulum-v0",
        copy_of("run", edit_json("reward_model/meta.json", env_id="hfrl/Pendulum-v0")),
    ),
    "resume tensorboard a file": Case(
        RESUME, "tensorboard", copy_of("run", remove("tensorboard"), write("tensorboard", "x"))
    ),
    "resume damaged metrics line": Case(
        RESUME, "metrics.csv", copy_of("run", write("metrics.csv", "round,env_steps\n0,1x2\n"))
    ),
    # report
    "report a missing folder": Case("report {tmp}/none", "none"),
    "report notes": Case("report {notes}", "notes.txt"),
    "report no metrics": Case(
        "report {tmp}/run", "metrics.csv", copy_of("run", remove("metrics.csv"))
    ),
    "report garbage config": Case(
        "report {tmp}/run --out {tmp}/fig",
        "config.json",
        copy_of("run", write("config.json", "{")),
    ),
    "report damaged metrics": Case(
        "report {tmp}/run --out {tmp}/fig",
        "metrics.csv",
        copy_of("run", write("metrics.csv", "round,true_return_mean\n0,abc\n")),
    ),
    "report metrics without columns": Case(
        "report {tmp}/run --out {tmp}/fig",
        "metrics.csv",
        copy_of("run", write("metrics.csv", "round\n0\n")),
    ),
    "report damaged reward model": Case(
        "report {tmp}/run --out {tmp}/fig",
        "meta.json",
        copy_of("run", write("reward_model/meta.json", "[]")),
    ),
    "report out under a file": Case("report {run} --out {notes}/fig", "notes.txt"),
    "report no runs": Case("report", "runs"),
    # video
    "video a missing folder": Case("video {tmp}/none", "none"),
    "video notes": Case("video {notes}", "notes.txt"),
    "video no policy": Case("video {tmp}/run", "policy", copy_of("run", remove("policy.zip"))),
    "video hostile zip": Case(
        "video {tmp}/run", "policy.zip", copy_of("run", hostile_zip("policy.zip"))
    ),
    "video torn zip": Case("video {tmp}/run", "policy.zip", copy_of("run", truncate("policy.zip"))),
    "video hostile pt": Case(
        "video {tmp}/run",
        "policy.pt",
        copy_of("run", policy_pt("hfrl/CartPole-v0"), write("policy.pt", hostile_pickle())),
    ),
    "video pt of another env": Case(
        "video {tmp}/run", "policy.pt", copy_of("run", policy_pt("hfrl/Pendulum-v0"))
    ),
    "video config without env": Case(
        "video {tmp}/run",
        "config.json",
        copy_of("run", write("config.json", '{"seed": 0}')),
    ),
    "video config unknown env": Case(
        "video {tmp}/run",
        "hfrl/Gone-v0",
        copy_of("run", edit_json("config.json", env="hfrl/Gone-v0")),
    ),
    "video webm": Case("video {run} --out {tmp}/v.webm", ".gif"),
    "video out under a file": Case("video {run} --out {notes}/v.gif", "v.gif"),
    "video zero steps": Case("video {run} --out {tmp}/v.gif --steps 0", "--steps"),
    "video negative steps": Case("video {run} --out {tmp}/v.gif --steps -3", "--steps"),
    "video text steps": Case("video {run} --out {tmp}/v.gif --steps many", "--steps"),
    "video negative seed": Case("video {run} --out {tmp}/v.gif --seed -1", "--seed"),
    # demo (only refusals: a valid demo trains)
    "demo unknown env": Case("demo --env hfrl/Nope-v0 --out {tmp}/d", "hfrl/Nope-v0"),
    "demo zero steps": Case("demo --steps 0 --out {tmp}/d", "--steps"),
    "demo negative labels": Case("demo --labels -1 --out {tmp}/d", "--labels"),
    "demo text steps": Case("demo --steps x --out {tmp}/d", "--steps"),
    "demo too few steps": Case("demo --steps 100 --out {tmp}/d", "--steps"),
    "demo out a file": Case("demo --out {notes}", "notes.txt"),
    # lessons
    "lesson unknown": Case("lesson 42", "42"),
    "lesson unknown name": Case("lesson dragons", "dragons"),
    "lesson bad flag": Case("lesson 1 --volume 11", "--volume"),
    "lesson text seed": Case("lesson 1 --seed x", "--seed"),
    "lesson negative seed": Case("lesson 2 --seed -1 --quick --out {tmp}/l", "--seed"),
    "lesson out a file": Case("lesson 2 --quick --out {notes}", "notes.txt"),
    # the windows (refused before a window opens)
    "label missing store": Case("label {tmp}/none.db", "none.db"),
    "label notes": Case("label {notes}", "notes.txt"),
    "label bad ids": Case("label {store} --queries 1,x", "--queries"),
    "label small window": Case("label {store} --size 10x10", "--size"),
    "label bad size": Case("label {store} --size big", "--size"),
    "label zero fps": Case("label {store} --fps 0", "--fps"),
    "label negative clip fps": Case("label {store} --clip-fps -2 --max-frames 1", "--clip-fps"),
    "label missing reward model": Case(
        "label {store} --reward-model {tmp}/rm --max-frames 1", "rm"
    ),
    "label missing script": Case("label {store} --script {tmp}/s.jsonl --max-frames 1", "s.jsonl"),
    "play unknown env": Case(f"play hfrl/Nope-v0 {PLAY}", "hfrl/Nope-v0"),
    "play zero clip steps": Case(f"play hfrl/CartPole-v0 --clip-steps 0 {PLAY}", "--clip-steps"),
    "play negative seed": Case(f"play hfrl/CartPole-v0 --seed -1 {PLAY}", "--seed"),
    "play unknown goal": Case(f"play hfrl/CartPole-v0 --goal fly {PLAY}", "fly"),
    "play zero episodes": Case(f"play hfrl/CartPole-v0 --episodes 0 {PLAY}", "--episodes"),
    "play store is notes": Case("play hfrl/CartPole-v0 --store {notes} --max-frames 1", "notes"),
    "unknown command": Case("juggle", "juggle"),
}
