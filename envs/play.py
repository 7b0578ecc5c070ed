"""Drive an environment with the keyboard: ``python -m envs.play rlkit/GridNav-v0``.

Arrow keys or WASD move up/down/left/right; with 8 actions (``diagonal=True``) Q, E,
Z and C move up-left, up-right, down-left and down-right. R starts a new episode,
Esc (or closing the window) quits. Keyword arguments for the environment follow the
id as ``name=value`` (values are Python literals, or strings)::

    python -m envs.play rlkit/GridNav-Maze-v0 diagonal=True size=15 --seed 3

Examples
--------
Scripted keys instead of a keyboard (``SDL_VIDEODRIVER=dummy`` needs no display):

>>> import os
>>> os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
'dummy'
>>> import gymnasium as gym
>>> import envs
>>> env = gym.make("rlkit/GridNav-Empty-v0", size=3, render_mode="rgb_array")
>>> returns = play(env, seed=0, keys=["x", "down", "right", "r", "escape"], verbose=False)
>>> len(returns)  # one episode per reset or end
1
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401 - registers the ids
from envs.render import Window

__all__ = ["KEYS_4", "KEYS_8", "key_to_action", "main", "play"]

#: Key name (pygame's) -> action, for 4 actions in planners.MOVES_4 order.
KEYS_4 = {"up": 0, "w": 0, "down": 1, "s": 1, "left": 2, "a": 2, "right": 3, "d": 3}
#: The same plus the diagonals of planners.MOVES_8.
KEYS_8 = {**KEYS_4, "q": 4, "e": 5, "z": 6, "c": 7}
_QUIT = frozenset({"escape", "quit"})


def key_to_action(key: str, n_actions: int) -> int | None:
    """The action of a key, or ``None`` for a key without one.

    Examples
    --------
    >>> key_to_action("w", 4), key_to_action("q", 4), key_to_action("q", 8)
    (0, None, 4)
    """
    action = (KEYS_8 if n_actions >= 8 else KEYS_4).get(key.lower())
    return action if action is not None and action < n_actions else None


def play(
    env: gym.Env[Any, Any],
    *,
    seed: int | None = None,
    keys: Iterable[str] | None = None,
    window: Window | None = None,
    verbose: bool = True,
) -> list[float]:
    """Play ``env`` (made with ``render_mode="rgb_array"``) until Esc; returns episode returns.

    ``keys`` replaces the keyboard with a sequence of key names (for scripts and tests);
    the frames are still shown in ``window`` (a new :class:`~envs.render.Window` by
    default).
    """
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(f"play needs a Discrete action space, got {env.action_space}")
    if env.render_mode != "rgb_array":
        raise ValueError(
            f"play needs an env made with render_mode='rgb_array', got {env.render_mode!r}"
        )
    n_actions = int(env.action_space.n)
    own_window = window is None
    window = window or Window(env.spec.id if env.spec else "rlkit", fps=None)
    stream: Iterator[str] = iter(keys) if keys is not None else iter(window.wait_key, None)
    returns: list[float] = []
    env.reset(seed=seed)
    episode_return, steps = 0.0, 0

    def show() -> None:
        frame = env.render()
        assert isinstance(frame, np.ndarray)
        window.show(frame)

    def end_episode(info: dict[str, Any]) -> None:
        returns.append(episode_return)
        if verbose:
            print(
                f"episode {len(returns)}: return {episode_return:+.2f} in {steps} steps, "
                f"success {info.get('is_success')}, path {info.get('path_length', 0):.2f} "
                f"(optimal {info.get('optimal_length', float('nan')):.2f})"
            )

    show()
    info: dict[str, Any] = {}
    try:
        for key in stream:
            if key in _QUIT:
                break
            if key == "r":
                if steps:
                    end_episode(info)
                env.reset()
                episode_return, steps = 0.0, 0
            elif (action := key_to_action(key, n_actions)) is not None:
                _, reward, terminated, truncated, info = env.step(action)
                episode_return += float(reward)
                steps += 1
                if terminated or truncated:
                    end_episode(info)
                    env.reset()
                    episode_return, steps = 0.0, 0
            show()
    finally:
        if own_window:
            window.close()
    return returns


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m envs.play", description=__doc__.split("\n")[0])
    parser.add_argument("env_id", help="a registered id, e.g. rlkit/GridNav-v0")
    parser.add_argument("kwargs", nargs="*", help="environment arguments as name=value")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first reset")
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = {}
    for item in args.kwargs:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"environment arguments are name=value, got {item!r}")
        kwargs[name] = _literal(value)
    env = gym.make(args.env_id, render_mode="rgb_array", **kwargs)
    print(
        "arrows/WASD move"
        + (", QEZC diagonals" if getattr(env.action_space, "n", 4) >= 8 else "")
        + "; R resets; Esc quits"
    )
    try:
        play(env, seed=args.seed)
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
