"""What the single environments share: config, render modes, window, Discrete action check.

:class:`PlannedEnv` is the base of :class:`~envs.grid.env.GridNavEnv` and
:class:`~envs.arm.env.ArmReachEnv`: it takes the spaces from the env's config
(:class:`EnvConfig`), checks ``render_mode``, and its :meth:`render` and :meth:`close`
turn the frame a subclass draws (``_render_frame``) into an ``rgb_array`` frame or a
pygame :class:`~envs.render.Window`.
:func:`check_discrete_action` reads an action of a ``Discrete(n)`` space for both
configs (:class:`~envs.grid.config.GridNavConfig`, :class:`~envs.arm.config.ArmReachConfig`).
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from envs.render import Window

__all__ = ["MIN_PIXELS", "EnvConfig", "PlannedEnv", "check_discrete_action", "pixel_shape"]

#: Smallest frame side (pixels) of the envs' pixel observations and renders.
MIN_PIXELS = 16


class EnvConfig(Protocol):
    """What the bases read of a config (``GridNavConfig``, ``ArmReachConfig``)."""

    max_steps: int

    @property
    def observation_space(self) -> spaces.Space[Any]: ...  # pragma: no cover

    @property
    def action_space(self) -> spaces.Space[Any]: ...  # pragma: no cover


ObsT = TypeVar("ObsT")
ActT = TypeVar("ActT")
ConfigT = TypeVar("ConfigT", bound=EnvConfig)


def check_discrete_action(action: object, n: int) -> int:
    """``action`` of the space ``Discrete(n)`` as an int, or ValueError naming it.

    A 0-d array is read as its value; a bool is not an action.

    Examples
    --------
    >>> check_discrete_action(np.array(2), 4)
    2
    >>> check_discrete_action(4, 4)
    Traceback (most recent call last):
    ...
    ValueError: action 4 is outside the action space Discrete(4): give an int in 0..3
    """
    if isinstance(action, np.ndarray) and action.shape == ():
        action = action.item()
    if isinstance(action, int | np.integer) and not isinstance(action, bool) and 0 <= action < n:
        return int(action)
    raise ValueError(
        f"action {action!r} is outside the action space Discrete({n}): give an int in 0..{n - 1}"
    )


class PlannedEnv(gym.Env[ObsT, ActT], Generic[ObsT, ActT, ConfigT]):
    """A single environment made from a config, drawing its frames with numpy.

    ``render_mode="rgb_array"`` returns the frames; ``"human"`` shows them in a
    :class:`~envs.render.Window` captioned :attr:`window_title`, at the subclass's
    ``metadata["render_fps"]``.

    Parameters
    ----------
    config : ConfigT
        The validated arguments; the spaces are its spaces.
    render_mode : {None, "human", "rgb_array"}
        One of ``metadata["render_modes"]``, or ``None`` (no rendering).
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - an instance variable of gymnasium.Env
        "render_modes": ["human", "rgb_array"],
        "render_fps": 30,
    }
    #: Caption of the ``"human"`` window.
    window_title = "rlkit"

    def __init__(self, config: ConfigT, render_mode: str | None) -> None:
        self.config = config
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.observation_space = config.observation_space
        self.action_space = config.action_space
        self._window: Window | None = None

    def render(self) -> npt.NDArray[np.uint8] | None:
        """An RGB frame (``"rgb_array"``), or show it in the window (``"human"``)."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode: pass render_mode='rgb_array' or "
                "'human' when creating the environment"
            )
            return None
        frame = self._render_frame()
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = Window(self.window_title, fps=self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        """Close the window, if one is open."""
        if self._window is not None:
            self._window.close()
            self._window = None

    def _render_frame(self) -> npt.NDArray[np.uint8]:
        """The frame of the episode now (the subclass draws it)."""
        raise NotImplementedError


def pixel_shape(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair, each at least :data:`MIN_PIXELS`.

    Examples
    --------
    >>> pixel_shape(64, "pixel_size"), pixel_shape((32, 48), "render_size")
    ((64, 64), (32, 48))
    """
    pair = (value, value) if isinstance(value, int | np.integer) else value
    try:
        height, width = (int(v) for v in pair)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise ValueError(
            f"{name} must be an int or a (height, width) pair, got {value!r}"
        ) from None
    if min(height, width) < MIN_PIXELS:
        raise ValueError(f"{name} must be at least {MIN_PIXELS} pixels, got {value!r}")
    return height, width
