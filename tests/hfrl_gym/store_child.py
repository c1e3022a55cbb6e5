"""A child process for tests/hfrl_gym/test_store_crash.py: answers a store's queries one by one.

Run as ``python tests/hfrl_gym/store_child.py STORE MODE NAME [PAUSE_S]``. It prints ``ready``
once the store is open, and starts on the next line read from stdin. For each query it answers
it prints the query id, flushed, only after ``add_answer`` has returned (so every id printed
must be in the store, whenever the process is killed), and ``done`` when nothing is left.
``MODE`` is ``pending`` (answer every query ``NAME`` has not answered) or ``claim`` (share the
work: answer only queries claimed as ``NAME``). ``PAUSE_S`` (default 0) is a pause after each
answer, a person's pace, so that two children answering at once both get work on a loaded
machine.

Functions: answer_all: the child's loop.
"""

from __future__ import annotations

import sys
import time

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.store import LabelStore

CHOICES = (Choice.LEFT, Choice.RIGHT, Choice.EQUAL, Choice.SKIP)


def answer_all(path: str, mode: str, name: str, pause_s: str = "0") -> None:
    """Answer queries as ``name`` until none is left, printing each id once it is stored."""
    with LabelStore(path, create=False) as store:
        print("ready", flush=True)
        sys.stdin.readline()  # "go": lets the parent start several children together
        while True:
            if mode == "claim":
                batch = store.claim_pending(name, limit=1, lease_s=60.0)
            else:
                batch = store.pending_queries(annotator=name, limit=1)
            if not batch:
                break
            query_id = batch[0].id
            answer = Answer(CHOICES[query_id % 4], annotator=name, seconds=0.5)
            store.add_answer(query_id, answer)
            print(query_id, flush=True)
            time.sleep(float(pause_s))
    print("done", flush=True)


if __name__ == "__main__":
    answer_all(*sys.argv[1:5])
