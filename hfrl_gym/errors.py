"""The project's exceptions: one family, each message saying what was wrong and how to fix it.

Classes:
    HfrlError: base of every error the ``hfrl`` command reports as one line (no traceback).
    UnknownEnvError: an env id that is not in the suite.
    StoreError: a label store that is missing, corrupt, foreign or of another schema version.
    NotClaimedError: an answer to a query its claimant does not hold.
    ClipShapeError: a clip whose arrays do not agree in length or shape.
    CheckpointError: a reward-model checkpoint that is unreadable or does not match the env.
    RenderError: no rendering backend works (for MuJoCo: how to set ``MUJOCO_GL``).
    ConfigError: an invalid combination of options.
"""

from __future__ import annotations


class HfrlError(Exception):
    """Base class: the CLI prints ``error: <message>`` and exits with status 2."""


class UnknownEnvError(HfrlError, KeyError):
    """An env id that is not registered in the hfrl suite."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StoreError(HfrlError):
    """A label store that cannot be opened or written as asked."""


class NotClaimedError(StoreError):
    """An answer to a query its claimant does not hold (the label server says 409)."""


class ClipShapeError(HfrlError, ValueError):
    """A clip whose arrays are inconsistent."""


class CheckpointError(HfrlError):
    """A reward-model checkpoint that cannot be loaded for this env."""


class RenderError(HfrlError):
    """Rendering is impossible in this process (no display or GL backend)."""


class ConfigError(HfrlError, ValueError):
    """An invalid option or combination of options."""
