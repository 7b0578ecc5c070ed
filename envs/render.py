"""The shared pygame canvas: a window that shows numpy RGB frames.

Environments draw their frames with numpy (so ``rgb_array`` needs no display and no
pygame); :class:`Window` only puts a frame on screen for ``render_mode="human"`` and
reports key presses for :mod:`envs.play`. pygame is imported on first use, with a
:class:`gymnasium.error.DependencyNotInstalled` naming the fix when it is missing.
Set ``SDL_VIDEODRIVER=dummy`` to run "human" rendering on a machine without a display.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.error import DependencyNotInstalled

__all__ = ["Window", "import_pygame"]


def import_pygame() -> ModuleType:
    """Import pygame quietly, or raise DependencyNotInstalled naming the fix."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame
    except ImportError as exc:
        raise DependencyNotInstalled(
            'pygame is not installed, run `pip install "rlkit[envs]"` (or `pip install pygame`) '
            'to render with render_mode="human"; render_mode="rgb_array" works without it'
        ) from exc
    return pygame


class Window:
    """A pygame window showing numpy frames at a steady rate.

    Parameters
    ----------
    title : str
        Window caption.
    fps : int or None
        Frames per second :meth:`show` keeps to; ``None`` shows frames as fast as they come.

    Examples
    --------
    >>> import os
    >>> os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # no display needed
    'dummy'
    >>> window = Window("demo")
    >>> window.show(np.zeros((48, 64, 3), dtype=np.uint8))
    >>> window.size
    (64, 48)
    >>> window.close()
    """

    def __init__(self, title: str = "rlkit", *, fps: int | None = None) -> None:
        self.title = title
        self.fps = fps
        self._pygame: Any = None
        self._screen: Any = None
        self._clock: Any = None

    @property
    def is_open(self) -> bool:
        """Whether the window is on screen."""
        return self._screen is not None

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` in pixels, or ``None`` before the first frame."""
        return None if self._screen is None else tuple(self._screen.get_size())

    def show(self, frame: npt.NDArray[np.uint8]) -> None:
        """Show an ``(H, W, 3)`` uint8 frame, opening or resizing the window as needed."""
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(
                f"frame must be a (height, width, 3) uint8 array, got {frame.dtype} {frame.shape}"
            )
        if self._pygame is None:
            self._pygame = import_pygame()
            self._clock = self._pygame.time.Clock()
        pg = self._pygame
        height, width = frame.shape[:2]
        if self._screen is None:
            pg.display.init()
        if self._screen is None or self._screen.get_size() != (width, height):
            self._screen = pg.display.set_mode((width, height))
            pg.display.set_caption(self.title)
        surface = pg.surfarray.make_surface(frame.swapaxes(0, 1))
        self._screen.blit(surface, (0, 0))
        pg.event.pump()  # keep the window responsive; key events stay queued for keys()
        pg.display.flip()
        if self.fps:
            self._clock.tick(self.fps)

    def keys(self) -> list[str]:
        """Names of the keys pressed since the last call (pygame names: "up", "w", "escape");
        ``"quit"`` when the window was closed."""
        if self._screen is None:
            return []
        pg = self._pygame
        names = []
        for event in pg.event.get():
            if event.type == pg.QUIT:
                names.append("quit")
            elif event.type == pg.KEYDOWN:
                names.append(pg.key.name(event.key))
        return names

    def wait_key(self) -> str:
        """Block until a key is pressed (or the window closed) and return its name."""
        while True:
            names = self.keys()
            if names:
                return names[0]
            if self._screen is None:
                return "quit"
            self._pygame.time.wait(10)

    def close(self) -> None:
        """Close the window (safe to call twice)."""
        if self._screen is not None:
            self._pygame.display.quit()
            self._screen = None
