"""When a window redraws: only when what it shows changed, so a still screen costs no CPU.

A window that redraws at 60 frames a second while it shows a still "All caught up" screen
used a third of a core, taken from the clip renderer and from training. The window's loop
asks a :class:`RedrawGate` each iteration: it redraws while something moves (clips playing,
a render in progress), after any input, when the scene's key (what the window shows, in a
few values) changes, and otherwise once every ``idle_redraw_s`` (a clock, a status line read
from elsewhere). While nothing moves the loop also sleeps in ``pygame.event.wait`` instead of
ticking at 60 frames a second (:data:`IDLE_WAIT_MS`), which wakes at once on input.

Classes:
    RedrawGate: decides, each loop iteration, whether to draw.

Attributes:
    IDLE_WAIT_MS: the longest a still window sleeps between loop iterations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

IDLE_WAIT_MS = 100
"""A still window's loop sleeps up to this long waiting for input (10 iterations a second)."""


class RedrawGate:
    """Says whether to draw: on change, while moving, and every ``idle_redraw_s`` otherwise.

    Args:
        idle_redraw_s: seconds between redraws of a still scene.
        clock: monotonic seconds.

    Example:
        >>> now = [0.0]
        >>> gate = RedrawGate(idle_redraw_s=1.0, clock=lambda: now[0])
        >>> gate.due(("caught up",)), gate.due(("caught up",))
        (True, False)
        >>> now[0] = 1.5; gate.due(("caught up",))
        True
        >>> gate.due(("pair 3",)), gate.due(("pair 3",), moving=True), gate.redraws
        (True, True, 4)
    """

    def __init__(
        self, idle_redraw_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.idle_redraw_s = idle_redraw_s
        self.clock = clock
        self.redraws = 0
        self._key: Hashable = object()
        self._last_s = -float("inf")

    def due(self, key: Hashable, *, moving: bool = False) -> bool:
        """Whether to draw now; counts the redraws it allows.

        Args:
            key: what the window shows, as a hashable value (a change means a redraw).
            moving: something animates (or input came in): draw every iteration.
        """
        now = self.clock()
        if not moving and key == self._key and now - self._last_s < self.idle_redraw_s:
            return False
        self._key, self._last_s = key, now
        self.redraws += 1
        return True
