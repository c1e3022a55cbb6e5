"""Bad inputs of ``hfrl record``, ``gif`` and ``store``: flags, stores and exports."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.bad_inputs.changes import (
    Case,
    both,
    copy_of,
    edit_json,
    edit_jsonl,
    first_clip,
    make,
    object_npz,
    remove,
    replace_first_npz,
    self_pair,
    sql,
    tear_first_npz,
    truncate,
    write,
)

TRIGGER = "CREATE TRIGGER wipe AFTER INSERT ON answers BEGIN DELETE FROM clips; END"
"""SQL a store from someone else could hold, to run when we write to it."""

STORE_CASES: dict[str, Case] = {
    # record: flags, and the store it writes into
    "record unknown env": Case("record --env hfrl/Nope-v0 --store {tmp}/s.db", "hfrl/Nope-v0"),
    "record env without version": Case("record --env CartPole --store {tmp}/s.db", "CartPole"),
    "record zero clips": Case("record --clips 0 --store {tmp}/s.db", "--clips"),
    "record text clips": Case("record --clips many --store {tmp}/s.db", "--clips"),
    "record negative clips": Case("record --clips -4 --store {tmp}/s.db", "--clips"),
    "record zero clip steps": Case("record --clip-steps 0 --store {tmp}/s.db", "--clip-steps"),
    "record clip longer than horizon": Case(
        "record --clip-steps 100000 --store {tmp}/s.db", "--clip-steps"
    ),
    "record negative queries": Case("record --queries -1 --store {tmp}/s.db", "--queries"),
    "record too many queries": Case(
        "record --clips 3 --queries 50 --store {tmp}/s.db", "--queries"
    ),
    "record text queries": Case("record --queries x --store {tmp}/s.db", "--queries"),
    "record negative seed": Case("record --seed -1 --store {tmp}/s.db", "--seed"),
    "record huge seed": Case("record --seed 99999999999999999999 --store {tmp}/s.db", "--seed"),
    "record text seed": Case("record --seed one --store {tmp}/s.db", "--seed"),
    "record no store": Case("record --clips 2", "--store"),
    "record store is a folder": Case("record --store {tmp}/dir", "dir", make("dir", None)),
    "record store is notes": Case("record --store {notes}", "notes.txt"),
    "record store in missing folder": Case("record --store {tmp}/no/s.db", "no"),
    "record store under a file": Case("record --store {notes}/s.db", "notes.txt"),
    "record unknown flag": Case("record --store {tmp}/s.db --colour red", "--colour"),
    "record truncated store": Case(
        "record --store {tmp}/store", "store", copy_of("store", truncate("", 0.3))
    ),
    # gif: the store, the output path, the clip or query, sizes
    "gif missing store": Case("gif {tmp}/none.db {tmp}/a.gif", "none.db"),
    "gif store is notes": Case("gif {notes} {tmp}/a.gif", "notes.txt"),
    "gif store is a folder": Case("gif {tmp} {tmp}/a.gif", "is a folder"),
    "gif empty store": Case("gif {empty} {tmp}/a.gif", "empty.sqlite"),
    "gif webm": Case("gif {store} {tmp}/a.webm", ".gif"),
    "gif no suffix": Case("gif {store} {tmp}/a", ".gif"),
    "gif under a file": Case("gif {store} {notes}/a.gif", "a.gif"),
    "gif onto a folder": Case("gif {store} {tmp}/d.gif", "d.gif", make("d.gif", None)),
    "gif unknown clip": Case("gif {store} {tmp}/a.gif --clip abc", "abc"),
    "gif path-like clip": Case("gif {store} {tmp}/a.gif --clip ../../etc", "../../etc"),
    "gif unknown query": Case("gif {store} {tmp}/a.gif --query 99", "query 99"),
    "gif negative query": Case("gif {store} {tmp}/a.gif --query -1", "query -1"),
    "gif text query": Case("gif {store} {tmp}/a.gif --query one", "--query"),
    "gif zero width": Case("gif {store} {tmp}/a.gif --width 0", "--width"),
    "gif negative height": Case("gif {store} {tmp}/a.gif --height -5", "--height"),
    "gif zero fps": Case("gif {store} {tmp}/a.gif --fps 0", "--fps"),
    "gif text fps": Case("gif {store} {tmp}/a.gif --fps fast", "--fps"),
    "gif no output": Case("gif {store}", "out"),
    "gif damaged clip bytes": Case(
        "gif {tmp}/store {tmp}/a.gif",
        "damaged",
        copy_of("store", sql("UPDATE clips SET observations = X'00112233'")),
    ),
    "gif clip of an unknown env": Case(
        "gif {tmp}/store {tmp}/a.gif",
        "hfrl/Gone-v0",
        copy_of(
            "store",
            sql("UPDATE clips SET provenance = json_set(provenance, '$.env_id', 'hfrl/Gone-v0')"),
        ),
    ),
    # store info / export / import
    "info missing store": Case("store info {tmp}/none.db", "none.db"),
    "info notes": Case("store info {notes}", "notes.txt"),
    "info folder": Case("store info {tmp}", "is a folder"),
    "info empty file": Case("store info {tmp}/e.db", "e.db", make("e.db", "")),
    "info truncated store": Case(
        "store info {tmp}/store", "store", copy_of("store", truncate("", 0.2))
    ),
    "info store with appended bytes": Case(
        "store info {tmp}/store", "store", copy_of("store", lambda p: p.open("ab").write(b"x" * 7))
    ),
    "info plain sqlite": Case(
        "store info {tmp}/plain.db",
        "plain.db",
        lambda tmp, shared: sqlite3.connect(tmp / "plain.db").execute("CREATE TABLE t(x)"),
    ),
    "info newer schema": Case(
        "store info {tmp}/store",
        "schema_version",
        copy_of("store", sql("UPDATE meta SET value = '99' WHERE key = 'schema_version'")),
    ),
    "info store with a trigger": Case(
        "store info {tmp}/store",
        "triggers",
        copy_of("store", sql(TRIGGER)),
    ),
    "import into a store with a trigger": Case(
        "store import {tmp}/store {export}", "triggers", copy_of("store", sql(TRIGGER))
    ),
    "record into a store with a view": Case(
        "record --store {tmp}/store", "views", copy_of("store", sql("CREATE VIEW v AS SELECT 1"))
    ),
    "store unknown action": Case("store wipe {store}", "action"),
    "store no path": Case("store info", "store"),
    "export without folder": Case("store export {store}", "FOLDER"),
    "export into a used folder": Case(
        "store export {store} {tmp}/out", "out", make("out/keep.txt", "mine")
    ),
    "export into a missing parent": Case("store export {store} {tmp}/a/b/out", "a/b"),
    "export onto a file": Case("store export {store} {notes}", "notes.txt"),
    "export a missing store": Case("store export {tmp}/none.db {tmp}/out", "none.db"),
    "export an unsafe clip uid": Case(
        "store export {tmp}/store {tmp}/out",
        "safe file name",
        copy_of(
            "store",
            sql("UPDATE clips SET provenance = json_set(provenance, '$.uid', '../../x')"),
        ),
    ),
    "import without folder": Case("store import {tmp}/new.db", "FOLDER"),
    "import a missing folder": Case("store import {tmp}/new.db {tmp}/none", "manifest.json"),
    "import notes": Case("store import {tmp}/new.db {notes}", "manifest.json"),
    "import into notes": Case("store import {notes} {export}", "notes.txt"),
    "import into a missing folder": Case("store import {tmp}/no/new.db {export}", "no"),
    # store pair-demos: the store, the demonstrations' store, flags
    "pair-demos without demonstrations": Case("store pair-demos {store}", "store.sqlite"),
    "pair-demos missing store": Case("store pair-demos {tmp}/none.db", "none.db"),
    "pair-demos store is notes": Case("store pair-demos {notes}", "notes.txt"),
    "pair-demos with a folder": Case("store pair-demos {store} {tmp}", "--demos"),
    "pair-demos zero pairs": Case("store pair-demos {store} --pairs 0", "--pairs"),
    "pair-demos text pairs": Case("store pair-demos {store} --pairs all", "--pairs"),
    "pair-demos against what": Case("store pair-demos {store} --against most", "--against"),
    "pair-demos unknown env": Case("store pair-demos {store} --env hfrl/Nope-v0", "hfrl/Nope-v0"),
    "pair-demos negative difference": Case(
        "store pair-demos {store} --min-difference -1", "--min-difference"
    ),
    "pair-demos NaN difference": Case(
        "store pair-demos {store} --min-difference nan", "--min-difference"
    ),
    "pair-demos missing demos store": Case(
        "store pair-demos {store} --demos {tmp}/none.db", "none.db"
    ),
    "pair-demos demos are notes": Case("store pair-demos {store} --demos {notes}", "notes.txt"),
    "pair-demos demos are the store": Case("store pair-demos {store} --demos {store}", "--demos"),
    "pair-demos text seed": Case("store pair-demos {store} --seed one", "--seed"),
    "info with a pair-demos flag": Case("store info {store} --pairs 3", "--pairs"),
}


def _export_case(names: str, *changes: Callable[[Path], object]) -> Case:
    """``hfrl store import`` of a damaged copy of the export, into a new store and the store."""
    return Case("store import {tmp}/new.db {tmp}/export", names, copy_of("export", *changes))


EXPORT_DAMAGE: dict[str, tuple[str, tuple[Callable[[Path], object], ...]]] = {
    "manifest not JSON": ("manifest.json", (write("manifest.json", "{oops"),)),
    "manifest a list": ("not an hfrl store export", (write("manifest.json", "[]"),)),
    "manifest empty": ("manifest.json", (write("manifest.json", ""),)),
    "manifest binary": ("manifest.json", (write("manifest.json", b"\xff\xfe\x00"),)),
    "other format": ("not an hfrl store export", (edit_json("manifest.json", format="zip"),)),
    "newer format": ("format_version 99", (edit_json("manifest.json", format_version=99),)),
    "text format version": ("format_version", (edit_json("manifest.json", format_version="1"),)),
    "counts a number": ("counts", (edit_json("manifest.json", counts=5),)),
    "counts text": ("clips.jsonl", (edit_json("manifest.json", counts={"clips": "four"}),)),
    "counts too high": (
        "answers.jsonl",
        (edit_json("manifest.json", counts={"clips": 4, "queries": 2, "answers": 9}),),
    ),
    "no manifest": ("manifest.json", (remove("manifest.json"),)),
    "no clips.jsonl": ("clips.jsonl", (remove("clips.jsonl"),)),
    "no answers.jsonl": ("answers.jsonl", (remove("answers.jsonl"),)),
    "clips.jsonl a folder": ("clips.jsonl", (remove("clips.jsonl"), write("clips.jsonl/x", ""))),
    "torn clips.jsonl": ("clips.jsonl", (truncate("clips.jsonl", 0.5),)),
    "torn queries.jsonl": ("queries.jsonl", (truncate("queries.jsonl", 0.6),)),
    "answers not JSON": ("answers.jsonl", (write("answers.jsonl", "left\n"),)),
    "answer a list": ("answers.jsonl", (write("answers.jsonl", "[1, 2]\n"),)),
    "answer choice maybe": ("answers.jsonl", (edit_jsonl("answers.jsonl", choice="maybe"),)),
    "answer choice number": ("answers.jsonl", (edit_jsonl("answers.jsonl", choice=1),)),
    "answer without annotator": ("answers.jsonl", (edit_jsonl("answers.jsonl", annotator=None),)),
    "answer empty annotator": ("answers.jsonl", (edit_jsonl("answers.jsonl", annotator=""),)),
    "answer blank annotator": ("answers.jsonl", (edit_jsonl("answers.jsonl", annotator="   "),)),
    "answer annotator newline": ("answers.jsonl", (edit_jsonl("answers.jsonl", annotator="a\n"),)),
    "answer long annotator": ("answers.jsonl", (edit_jsonl("answers.jsonl", annotator="a" * 999),)),
    "answer negative seconds": ("answers.jsonl", (edit_jsonl("answers.jsonl", seconds=-3),)),
    "answer infinite seconds": ("answers.jsonl", (edit_jsonl("answers.jsonl", seconds=math.inf),)),
    "answer NaN seconds": ("answers.jsonl", (edit_jsonl("answers.jsonl", seconds=math.nan),)),
    "answer text seconds": ("answers.jsonl", (edit_jsonl("answers.jsonl", seconds="1.5"),)),
    "answer bool seconds": ("answers.jsonl", (edit_jsonl("answers.jsonl", seconds=True),)),
    "answer NaN created": ("answers.jsonl", (edit_jsonl("answers.jsonl", created=math.nan),)),
    "answer to unknown query": ("answers.jsonl", (edit_jsonl("answers.jsonl", query_uid="q"),)),
    "answer uid a number": ("answers.jsonl", (edit_jsonl("answers.jsonl", uid=7),)),
    "query of unknown clip": ("queries.jsonl", (edit_jsonl("queries.jsonl", left_uid="nope"),)),
    "query negative round": ("queries.jsonl", (edit_jsonl("queries.jsonl", round=-1),)),
    "query text round": ("queries.jsonl", (edit_jsonl("queries.jsonl", round="0"),)),
    "query fractional round": ("queries.jsonl", (edit_jsonl("queries.jsonl", round=0.5),)),
    "query infinite created": ("queries.jsonl", (edit_jsonl("queries.jsonl", created=math.inf),)),
    "clip uid escaping": ("clips.jsonl", (edit_jsonl("clips.jsonl", uid="../../x"),)),
    "clip uid a number": ("clips.jsonl", (edit_jsonl("clips.jsonl", uid=12),)),
    "clip without env": ("clips.jsonl", (edit_jsonl("clips.jsonl", env_id=None),)),
    "clip episode text": (".npz", (edit_jsonl("clips.jsonl", episode="first"),)),
    "clip arrays text": (".npz", (edit_jsonl("clips.jsonl", arrays="observations"),)),
    "clip arrays unknown": (".npz", (edit_jsonl("clips.jsonl", arrays=["pixels"]),)),
    "clip file missing": (".npz", (remove("clips"), write("clips/.keep", ""))),
    "clip file torn": (".npz", (lambda f: tear_first_npz(f),)),
    "clip file not npz": (".npz", (lambda f: replace_first_npz(f, b"not a zip"),)),
    "clip wrong obs shape": (
        ".npz",
        (first_clip(lambda a: a.update(observations=a["observations"][:, :2])),),
    ),
    "clip wrong action shape": (
        ".npz",
        (first_clip(lambda a: a.update(actions=np.zeros((6, 3)))),),
    ),
    "clip NaN observations": (
        ".npz",
        (first_clip(lambda a: a.update(observations=a["observations"] * np.nan)),),
    ),
    "clip wrong snapshot size": (
        ".npz",
        (first_clip(lambda a: a.update(states=np.zeros((7, 9)))),),
    ),
    "clip rows disagree": (
        ".npz",
        (first_clip(lambda a: a.update(true_rewards=np.zeros(2))),),
    ),
    "clip object arrays": (
        ".npz",
        (lambda f: replace_first_npz(f, object_npz()),),
    ),
    "clip text arrays": (
        ".npz",
        (first_clip(lambda a: a.update(observations=np.full((7, 4), "x"))),),
    ),
}


for _name, (_names, _changes) in EXPORT_DAMAGE.items():
    STORE_CASES[f"import {_name}"] = _export_case(_names, *_changes)

STORE_CASES["import a self-pair"] = Case(
    "store import {tmp}/new.db {tmp}/export",
    "queries.jsonl",
    copy_of("export", lambda f: self_pair(f)),
)
STORE_CASES["import into the store a damaged export"] = Case(
    "store import {tmp}/store {tmp}/export",
    "answers.jsonl",
    both(copy_of("store"), copy_of("export", edit_jsonl("answers.jsonl", seconds=-1))),
)
