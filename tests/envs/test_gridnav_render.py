"""Rendering: numpy rgb_array frames, the pygame window (headless) and keyboard play."""

from __future__ import annotations

import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

import envs.play
from envs.grid import GridNavEnv
from envs.grid.observations import COLORS, PATH, WALL, PixelRenderer, tile_images
from envs.render import Window


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({}, (352, 352, 3)),
        ({"size": (5, 8)}, (160, 256, 3)),
        ({"size": (5, 8), "render_tile_size": 7}, (35, 56, 3)),
        ({"size": 100}, (1000, 1000, 3)),  # tiles shrink so frames stay <= 1024 px
    ],
)
def test_rgb_array_frames(kwargs: dict[str, Any], shape: tuple[int, int, int]) -> None:
    env = gym.make("rlkit/GridNav-Random-v0", render_mode="rgb_array", **kwargs)
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray)
    assert frame.shape == shape and frame.dtype == np.uint8
    env.step(0)
    assert env.render().shape == shape  # type: ignore[union-attr]


def test_frame_shows_map_agent_goal_and_path() -> None:
    env = GridNavEnv(
        map="....\n.##.\n....", start=(2, 0), goal=(0, 3), render_mode="rgb_array", render_path=True
    )
    env.reset(seed=0)
    frame = env.render()
    assert frame is not None
    t = 32
    centre = {
        (r, c): frame[r * t + t // 2, c * t + t // 2].tolist() for r in range(3) for c in range(4)
    }
    assert centre[(1, 1)] == COLORS[WALL]
    assert centre[(2, 0)] == [229, 57, 53]  # the agent
    assert frame[2, 3 * t + 2].tolist() == [76, 175, 80]  # the goal's corner
    path = env.grid.plan((2, 0), (0, 3), connectivity=4).path
    dots = {cell for cell, colour in centre.items() if colour == COLORS[PATH]}
    assert dots == set(path[1:-1])


def test_human_mode_runs_headless() -> None:
    env = gym.make("rlkit/GridNav-Maze-v0", render_mode="human")
    env.reset(seed=0)
    for action in (0, 1, 2, 3):
        env.step(action)
    window = env.unwrapped._window  # type: ignore[attr-defined]
    assert window is not None and window.is_open and window.size == (352, 352)
    assert env.render() is None
    env.close()
    env.close()  # twice is fine
    assert not window.is_open


def test_window_shows_and_resizes() -> None:
    window = Window("test", fps=1000)
    window.show(np.zeros((20, 30, 3), dtype=np.uint8))
    assert window.size == (30, 20)
    window.show(np.full((40, 10, 3), 255, dtype=np.uint8))
    assert window.size == (10, 40)
    assert window.keys() == []
    with pytest.raises(ValueError, match=r"frame must be a \(height, width, 3\) uint8 array"):
        window.show(np.zeros((4, 4), dtype=np.uint8))
    window.close()
    window.close()
    assert window.keys() == [] and window.size is None


def test_missing_pygame_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygame", None)  # makes `import pygame` fail
    with pytest.raises(DependencyNotInstalled, match=r"pip install \"rlkit\[envs\]\""):
        Window().show(np.zeros((4, 4, 3), dtype=np.uint8))
    env = GridNavEnv(render_mode="rgb_array", obs="pixels")  # numpy only: still works
    obs, _ = env.reset(seed=0)
    assert env.render() is not None and obs.shape == (64, 64, 3)


def test_tile_cache() -> None:
    tiles = tile_images(9)
    assert tiles.shape == (6, 9, 9, 3) and not tiles.flags.writeable
    assert tile_images(9) is tiles
    assert tiles[WALL].reshape(-1, 3).tolist() == [COLORS[WALL]] * 81
    assert tile_images(2).shape == (6, 2, 2, 3)


def test_renderer_rejects_too_few_pixels() -> None:
    with pytest.raises(ValueError, match="needs at least 20x5 pixels"):
        PixelRenderer(20, 5, 16, 16)


def test_play_with_scripted_keys(capsys: pytest.CaptureFixture[str]) -> None:
    env = gym.make(
        "rlkit/GridNav-Map-v0", map="...", start=(0, 0), goal=(0, 2), render_mode="rgb_array"
    )
    returns = envs.play.play(env, seed=0, keys=["right", "x", "d", "left", "r", "escape"])
    assert returns == [1.0, 0.0]  # right, right reach the goal; "left" then "r": a 0 episode
    assert "episode 1: return +1.00 in 2 steps, success True" in capsys.readouterr().out
    diagonal = gym.make("rlkit/GridNav-v0", diagonal=True, render_mode="rgb_array")
    assert envs.play.play(diagonal, seed=0, keys=["q", "c", "quit"], verbose=False) == []
    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        envs.play.play(gym.make("rlkit/GridNav-v0"), keys=[])


def test_play_keys_and_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [envs.play.key_to_action(k, 4) for k in ("up", "s", "a", "right", "e")] == [
        0,
        1,
        2,
        3,
        None,
    ]
    assert [envs.play.key_to_action(k, 8) for k in ("q", "e", "z", "c")] == [4, 5, 6, 7]
    seen: dict[str, Any] = {}

    def fake_play(env: gym.Env[Any, Any], *, seed: int | None = None) -> list[float]:
        seen.update(env=env, seed=seed)
        return []

    monkeypatch.setattr(envs.play, "play", fake_play)
    assert envs.play.main(["rlkit/GridNav-Maze-v0", "diagonal=True", "size=7", "--seed", "3"]) == 0
    base = seen["env"].unwrapped
    assert base.config.diagonal and base.config.rows == 7 and seen["seed"] == 3
    with pytest.raises(SystemExit):
        envs.play.main(["rlkit/GridNav-v0", "diagonal"])
