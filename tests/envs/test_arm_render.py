"""ArmReach pixels and frames: numpy-drawn, deterministic, the same with or without a display."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from envs.arm import ArmReachEnv, ArmReachVectorEnv, register_arm_envs
from envs.arm.drawing import COLORS, SceneView
from planners import Box, Circle

register_arm_envs()

#: A fixed scene: arm stretched along +x, a disc above, a box below-left, goal up-left.
SCENE: dict[str, Any] = {
    "link_lengths": [0.5, 0.5],
    "obstacles": [Circle((0.0, 0.6), 0.15), Box((-0.8, -0.8), (-0.4, -0.4))],
    "start": [0.0, 0.0],
    "goal": (-0.5, 0.5),
}


def _pixel(view: SceneView, x: float, y: float) -> tuple[int, int]:
    """Row and column of the pixel whose centre is nearest ``(x, y)``."""
    return int(np.argmin(np.abs(view.ys - y))), int(np.argmin(np.abs(view.xs - x)))


@pytest.mark.parametrize(
    ("pixel_size", "shape"), [(64, (64, 64, 3)), ((48, 80), (48, 80, 3)), (16, (16, 16, 3))]
)
def test_pixel_observations_shape_dtype_and_determinism(
    pixel_size: int | tuple[int, int], shape: tuple[int, ...]
) -> None:
    env = ArmReachEnv(obs="pixels", pixel_size=pixel_size, n_obstacles=2)
    first, _ = env.reset(seed=3)
    assert first.shape == shape and first.dtype == np.uint8
    assert env.observation_space.contains(first)
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first, again)
    moved, *_ = env.step(np.ones(2, dtype=np.float32))
    assert not np.array_equal(moved, first)
    other = ArmReachEnv(obs="pixels", pixel_size=pixel_size, n_obstacles=2)
    other.reset(seed=3)
    np.testing.assert_array_equal(other.step(np.ones(2, dtype=np.float32))[0], moved)


@pytest.mark.parametrize("size", [64, 256])
def test_scene_shows_obstacles_goal_and_arm(size: int) -> None:
    env = ArmReachEnv(
        obs="pixels", pixel_size=size, render_mode="rgb_array", render_size=size, **SCENE
    )
    obs, _ = env.reset(seed=0)
    frame = env.render()
    assert frame is not None
    np.testing.assert_array_equal(obs, frame)  # the same drawing at the same size
    view = SceneView((size, size), env.config.extent)
    expected = {
        (0.0, 0.6): "obstacle",  # disc centre
        (-0.6, -0.6): "obstacle",  # box centre
        (-0.5, 0.5): "goal",
        (0.25, 0.0): "link",  # middle of link 1
        (0.0, 0.0): "joint",  # the base
        (1.0, 0.0): "effector",
        (0.0, -0.9): "reach",  # inside the reachable disc
        (-1.08, -1.08): "background",
    }
    for (x, y), part in expected.items():
        assert frame[_pixel(view, x, y)].tolist() == COLORS[part], part


def test_rgb_array_frames_and_path_overlay() -> None:
    env = ArmReachEnv(render_mode="rgb_array", n_obstacles=3)
    env.reset(seed=5)
    frame = env.render()
    assert frame is not None and frame.shape == (256, 256, 3) and frame.dtype == np.uint8
    path_color = np.all(frame == COLORS["path"], axis=-1)
    assert not path_color.any()
    traced = ArmReachEnv(
        render_mode="rgb_array", n_obstacles=3, render_path=True, render_size=(96, 128)
    )
    traced.reset(seed=5)
    with_path = traced.render()
    assert with_path is not None and with_path.shape == (96, 128, 3)
    assert np.all(with_path == COLORS["path"], axis=-1).sum() > 20
    env.step(np.ones(2, dtype=np.float32))
    assert not np.array_equal(env.render(), frame)


def test_pixels_do_not_depend_on_the_display() -> None:
    # "human" opens a (dummy) pygame display; observations are numpy all the same
    human = gym.make("rlkit/ArmReachObstacles-v0", obs="pixels", render_mode="human")
    plain = gym.make("rlkit/ArmReachObstacles-v0", obs="pixels")
    for env in (human, plain):
        env.reset(seed=2)
    actions = np.random.default_rng(0).uniform(-1, 1, (5, 2)).astype(np.float32)
    for action in actions:
        np.testing.assert_array_equal(human.step(action)[0], plain.step(action)[0])
    human.close()
    plain.close()


def test_human_mode_runs_headless() -> None:
    env = ArmReachEnv(render_mode="human")
    env.reset(seed=0)
    for _ in range(3):
        env.step(env.expert_action())
    assert env.render() is None
    window = env._window
    assert window is not None and window.is_open and window.size == (256, 256)
    env.close()
    assert not window.is_open
    env.close()  # twice is fine


def test_vector_render_matches_single_envs() -> None:
    vec = ArmReachVectorEnv(3, render_mode="rgb_array", render_path=True, n_obstacles=2)
    vec.reset(seed=10)
    frames = vec.render()
    assert frames is not None and len(frames) == 3
    for i, frame in enumerate(frames):
        single = ArmReachEnv(render_mode="rgb_array", render_path=True, n_obstacles=2)
        single.reset(seed=10 + i)
        np.testing.assert_array_equal(frame, single.render())
