"""The play window: a person plays a suite env with the keyboard; episodes become clips.

The loop is events -> update (one env step) -> draw -> flip -> tick at the mapping's fixed
frame rate; :meth:`PlayWindow.handle_event` never draws. The picture keeps its aspect ratio,
the score (under the chosen goal), step, episode and the number of recorded clips are shown.
Messages (press a key to start, episode over, paused) are small translucent strips at the
top of the picture, so the scene stays in view; help pauses the episode.

Classes:
    PlayConfig: the options of ``hfrl play``.
    PlayWindow: the window around a :class:`~human_ui.play_state.PlaySession`.

Functions:
    play_layout: the view and text rectangles of a window size.
    play_message: the line the strip over the picture shows, or ``None``.
    draw_strip: a translucent one-line strip at the top of a rectangle.
    run_play: open the window, play, record into the store; returns the clips recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygame

from hfrl_gym.envs import get_spec
from hfrl_gym.store import LabelStore
from human_ui.app import open_window
from human_ui.play_state import IDLE_SECONDS, PlaySession, check_clip_steps, key_mapping
from human_ui.prefetch import to_surface
from human_ui.script import ScriptPlayer, load_script
from human_ui.widgets import Fonts, Theme, draw_panel, draw_text, fit_rect

_WINDOW_KEYS = (
    ("any other key", "start the episode (it waits for you)"),
    ("p", "pause / resume (help pauses too)"),
    ("Return", "play again when the episode is over"),
    ("h or ?", "this help"),
    ("Esc or q", "quit (finished clips are already saved)"),
)


@dataclass
class PlayConfig:
    """Options of ``hfrl play``.

    Attributes:
        env_id: the suite env to play.
        store: the label store the clips go into (created when missing).
        clip_num_steps: steps per recorded clip.
        seed: the first episode's seed.
        goal: the goal the score is counted by.
        fps: env steps per second (``None``: the env's comfortable default).
        size: window size in pixels.
        episodes: quit after this many finished episodes (``None``: when the person quits).
        script: scripted input file (see :mod:`human_ui.script`).
        max_frames: quit after this many frames (tests).

    Example:
        >>> PlayConfig("hfrl/CartPole-v0", Path("demos.sqlite")).clip_num_steps
        50
    """

    env_id: str
    store: Path
    clip_num_steps: int = 50
    seed: int = 0
    goal: str = "task"
    fps: int | None = None
    size: tuple[int, int] = (1024, 768)
    episodes: int | None = None
    script: Path | None = None
    max_frames: int | None = None


def play_layout(size: tuple[int, int]) -> tuple[Fonts, pygame.Rect, pygame.Rect, pygame.Rect]:
    """``(fonts, header, view, footer)`` rectangles of a play window of ``size`` pixels.

    Example:
        >>> pygame.font.init()
        >>> _, header, view, footer = play_layout((1024, 768))
        >>> header.bottom <= view.top < view.bottom <= footer.top
        True
    """
    width, height = size
    fonts = Fonts(height)
    margin = fonts.unit
    line = fonts.body.get_linesize()
    header = pygame.Rect(margin, margin // 2, width - 2 * margin, fonts.title.get_linesize() + line)
    footer = pygame.Rect(margin, height - 2 * line - margin // 2, width - 2 * margin, 2 * line)
    view = pygame.Rect(margin, header.bottom + margin // 2, width - 2 * margin, 0)
    view.height = max(20, footer.top - margin // 2 - view.top)
    return fonts, header, view, footer


def play_message(session: PlaySession) -> str | None:
    """What the strip over the picture says: how to start, go on, or play again.

    Example:
        >>> session = PlaySession("hfrl/CartPole-v0", store=None, clip_num_steps=5)
        >>> play_message(session)
        'Press a key to start: ← / → to play   (h: help)'
        >>> session.close()
    """
    if session.over:
        how = "crashed" if session.absorbed else "episode over"
        return f"{how}: score {session.score:.1f}   Return: play again   Esc: quit"
    if session.waiting and session.step_index > 0:
        return "Paused: no key for a while (idle clips are not kept). Press a key to go on"
    if session.waiting:
        keys = session.mapping.keys[0][0]
        return f"Press a key to start: {keys} to play   (h: help)"
    if session.paused:
        return "Paused   p: go on"
    return None


def draw_strip(
    surface: pygame.Surface, box: pygame.Rect, text: str, font: pygame.font.Font
) -> None:
    """A translucent strip with one line of text across the top of ``box``."""
    strip = pygame.Rect(box.left, box.top, box.width, font.get_linesize() + 12)
    shade = pygame.Surface(strip.size, pygame.SRCALPHA)
    shade.fill((*Theme.PANEL, 190))
    surface.blit(shade, strip)
    draw_text(
        surface, text, font, Theme.TEXT, strip.center, anchor="center", max_width=strip.width - 16
    )


class PlayWindow:
    """The window in which a :class:`PlaySession` is played.

    Args:
        session: the game.
        fps: env steps (and window frames) per second.
        script: scripted input, or ``None``.
        max_frames: stop after this many frames (``None``: no limit).
        episodes: stop after this many finished episodes (``None``: no limit).

    Example:
        >>> from human_ui.app import open_window
        >>> _ = open_window((640, 480), "example")  # SDL_VIDEODRIVER=dummy: no real window
        >>> session = PlaySession("hfrl/CartPole-v0", store=None, clip_num_steps=5)
        >>> window = PlayWindow(session, fps=1000, max_frames=12)
        >>> window.run()  # no key pressed: the episode waits
        >>> session.step_index
        0
        >>> window.handle_event(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RIGHT))
        >>> window.max_frames = 24
        >>> window.run()
        >>> session.step_index, session.clips_recorded
        (12, 2)
        >>> session.close()
    """

    def __init__(
        self,
        session: PlaySession,
        *,
        fps: int,
        script: ScriptPlayer | None = None,
        max_frames: int | None = None,
        episodes: int | None = None,
    ) -> None:
        self.session = session
        self.fps = fps
        self.script = script
        self.max_frames = max_frames
        self.episodes = episodes
        self.frames_drawn = 0
        self.surface = pygame.display.get_surface()
        pygame.display.set_caption(f"hfrl play {session.spec.env_id}")
        if script is not None:
            script.save = lambda path: pygame.image.save(self.surface, path)

    @property
    def finished(self) -> bool:
        """Whether the loop should stop."""
        session = self.session
        if session.quit_requested:
            return True
        if self.max_frames is not None and self.frames_drawn >= self.max_frames:
            return True
        return self.episodes is not None and session.episodes_finished >= self.episodes

    def run(self) -> None:
        """Play until the person quits (or the script, frame or episode limit ends it)."""
        clock = pygame.time.Clock()
        while not self.finished:
            if self.script is not None:
                self.script.tick()
            for event in pygame.event.get():
                self.handle_event(event)
            self.session.update()
            self.draw()
            pygame.display.flip()
            clock.tick(self.fps)
            self.frames_drawn += 1

    def handle_event(self, event: pygame.event.Event) -> None:
        """Act on one event; never draws."""
        if event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            self.surface = pygame.display.get_surface()
        else:
            self.session.handle_event(event)

    def draw(self) -> None:
        """Draw the env's picture, the header and the score line."""
        session, surface = self.session, self.surface
        fonts, header, view, footer = play_layout(surface.get_size())
        surface.fill(Theme.BACKGROUND)
        spec = session.spec
        goal = spec.description if session.goal.name == "task" else session.goal.description
        title = f"{spec.env_id}: {goal}"
        draw_text(surface, title, fonts.title, Theme.TEXT, header.topleft, max_width=header.width)
        keys = "   ".join(f"{k}: {v}" for k, v in session.mapping.keys)
        draw_text(
            surface,
            keys,
            fonts.body,
            Theme.MUTED,
            (header.left, header.top + fonts.title.get_linesize()),
            max_width=header.width,
        )
        frame = to_surface(session.frame())
        target = fit_rect(frame.get_size(), view)
        if target.size != frame.get_size():
            frame = pygame.transform.smoothscale(frame, target.size)
        surface.blit(frame, target)
        pygame.draw.rect(surface, Theme.LEFT, target.inflate(4, 4), width=2)
        score = f"score {session.score:.1f} (goal: {session.goal.name})"
        if session.goal.name != "task":
            score += f"   task return {session.true_return:.1f}"
        line = (
            f"{score}   step {session.step_index}/{spec.horizon}   episode "
            f"{session.episode + 1}   clips recorded {session.clips_recorded}"
        )
        if session.clips_left_out:
            line += f" ({session.clips_left_out} idle left out)"
        draw_text(surface, line, fonts.bold, Theme.TEXT, footer.topleft, max_width=footer.width)
        hint = "PAUSED · " if session.paused or session.show_help else ""
        hint += "p: pause   h: help   Esc: quit"
        draw_text(
            surface,
            hint,
            fonts.body,
            Theme.MUTED,
            (footer.left, footer.top + fonts.body.get_linesize()),
        )
        message = play_message(session)
        if message is not None and not session.show_help:
            draw_strip(surface, target, message, fonts.bold)
        if session.show_help:
            rows = [*session.mapping.keys, ("", ""), *_WINDOW_KEYS]
            rect = view.inflate(-view.width // 5, -view.height // 4)
            draw_panel(surface, rect, "Keys", rows, fonts)


def run_play(config: PlayConfig) -> int:
    """Open the play window and record the person's episodes as clips.

    Returns:
        The number of clips recorded into ``config.store``.

    Raises:
        UnknownEnvError, ConfigError: an unknown or unplayable env, clips longer than its
            episodes, or a bad script.
    """
    mapping = key_mapping(config.env_id)  # fail before any window opens (or store is made)
    check_clip_steps(config.env_id, config.clip_num_steps)
    open_window(config.size, f"hfrl play {config.env_id}")
    script = None if config.script is None else ScriptPlayer(load_script(config.script))
    _, _, view, _ = play_layout(config.size)
    render_size = fit_rect((4, 3), view).size if get_spec(config.env_id).mujoco else None
    fps = config.fps or mapping.fps
    with LabelStore(config.store) as store:
        session = PlaySession(
            config.env_id,
            store=store,
            clip_num_steps=config.clip_num_steps,
            seed=config.seed,
            goal=config.goal,
            render_size=render_size,
            idle_steps=max(1, round(IDLE_SECONDS * fps)),
        )
        try:
            window = PlayWindow(
                session,
                fps=fps,
                script=script,
                max_frames=config.max_frames,
                episodes=config.episodes,
            )
            window.run()
        finally:
            session.close()
            pygame.display.quit()
    return session.clips_recorded
