"""The joint-space planner of the keypoint head (rlkit.deep.arm_planning): its geometry
against ArmReachObstacles' arm, its value iteration as a planner, its losses."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.nn import functional as F

import envs  # noqa: F401  (registers rlkit/*)
from envs.arm.drawing import COLORS
from rlkit.deep.arm_planning import MOVES, ConfigSpacePlanner, joint_angles, obstacle_loss
from rlkit.deep.keypoints import KeypointHead, check_keypoints, keypoint_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GRID = 32


@pytest.fixture(scope="module")
def arm_env() -> Any:
    return gym.make("rlkit/ArmReachObstacles-v0", obs="pixels")


def true_keypoints(env: Any) -> torch.Tensor:
    """The env's keypoints as the head lays them out: ``(1, 6)``, x values then y."""
    rows_cols = torch.tensor(env.unwrapped.keypoints, dtype=torch.float32)
    return torch.cat([rows_cols[:, 1], rows_cols[:, 0]])[None] * 2 - 1


def obstacle_map(frame: np.ndarray, size: int = 32) -> torch.Tensor:
    """The frame's obstacle pixels, max-pooled to ``(1, 1, size, size)`` (half the
    frame's resolution, as the planner reads them, by default)."""
    pixels = torch.as_tensor(frame).permute(2, 0, 1)[None].float()
    colour = torch.tensor(COLORS["obstacle"], dtype=torch.float32).view(1, 3, 1, 1)
    return F.adaptive_max_pool2d((pixels == colour).all(1, keepdim=True).float(), size)


def cell_angles(grid: int) -> np.ndarray:
    return -math.pi + 2 * math.pi * (np.arange(grid) + 0.5) / grid


@pytest.mark.parametrize("seed", range(5))
def test_joint_angles_from_the_true_keypoints_are_the_arms(arm_env: Any, seed: int) -> None:
    arm_env.reset(seed=seed)
    q1, q2 = joint_angles(true_keypoints(arm_env), count=3)
    found = np.array([float(q1[0]), float(q2[0])])
    error = np.angle(np.exp(1j * (found - np.asarray(arm_env.unwrapped.q))))
    assert np.abs(error).max() < 1e-4


@pytest.mark.parametrize("seed", range(5))
def test_occupancy_of_the_obstacle_pixels_covers_every_colliding_cell(
    arm_env: Any, seed: int
) -> None:
    frame, _ = arm_env.reset(seed=seed)
    planner = ConfigSpacePlanner(grid=GRID)
    occupied = planner.occupancy(obstacle_map(frame))[0].numpy() > 0.05
    angles = cell_angles(GRID)
    colliding = np.asarray(arm_env.unwrapped.arm.in_collision_grid([angles, angles]))
    assert colliding.any()
    assert not (colliding & ~occupied).any()
    assert occupied.mean() < colliding.mean() + 0.2  # conservative, not everything


def greedy_walk(q: torch.Tensor, start: tuple[int, int], steps: int) -> list[tuple[int, int]]:
    """Cells visited stepping to the neighbour of the best move, ``steps`` times."""
    grid = q.shape[-1]
    cells = [start]
    for _ in range(steps):
        i, j = cells[-1]
        di, dj = MOVES[int(q[:, i, j].argmax())]
        cells.append(((i + di) % grid, (j + dj) % grid))
    return cells


def test_value_iteration_on_the_true_map_finds_a_way_around_obstacles(arm_env: Any) -> None:
    """Untrained planner, true obstacle map and goal: from each start whose straight way
    is blocked, the greedy walk reaches the goal through free cells only."""
    planner = ConfigSpacePlanner(grid=GRID, iterations=GRID)
    angles = cell_angles(GRID)
    blocked, reached = 0, 0
    for seed in range(60):
        frame, _ = arm_env.reset(seed=seed)
        env = arm_env.unwrapped
        if not env.arm.motion_collides(env.q, env.plan.path[-1]):
            continue
        blocked += 1
        keypoints = true_keypoints(arm_env)
        free = 1 - planner.occupancy(obstacle_map(frame))
        with torch.no_grad():
            q = planner.values(free, keypoints[:, [1, 4]])[0]
        q1, q2 = (float(a[0]) for a in joint_angles(keypoints, 3))
        start = (
            int((q1 + math.pi) / (2 * math.pi) * GRID),
            int((q2 + math.pi) / (2 * math.pi) * GRID),
        )
        cells = greedy_walk(q, start, 3 * GRID)
        colliding = np.asarray(env.arm.in_collision_grid([angles, angles]))
        goal = np.asarray(env.goal)
        near = [
            np.hypot(*(env.arm.end_effector([angles[i], angles[j]]) - goal)) < 0.15
            for i, j in cells
        ]
        if any(near) and not any(colliding[i, j] for i, j in cells[1 : near.index(True) + 1]):
            reached += 1
    assert blocked >= 10
    assert reached >= 0.9 * blocked


# ---------------------------------------------------------------------- in the keypoint head


@pytest.mark.parametrize(
    ("keypoints", "message"),
    [
        ({"cspace": 2}, r"keypoints\['cspace'\] .* must be 0 or >= 4"),
        ({"cspace": 16, "count": 2}, r"keypoints\['count'\] >= 3"),
        ({"cspace": -1}, r"keypoints\['cspace'\] must be an int >= 0"),
        ({"cspace": 16, "cspace_iterations": 0}, r"keypoints\['cspace_iterations'\] must be"),
    ],
)
def test_check_keypoints_names_a_bad_planner_option(keypoints: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_keypoints(keypoints)


def test_head_with_a_planner_adds_eight_q_values_and_trains_its_obstacle_map(
    arm_env: Any,
) -> None:
    torch.manual_seed(0)
    head = KeypointHead(count=3, channels=8, cspace=16, cspace_iterations=8)
    assert head.features_dim == 2 * 3 + 8
    frames = []
    for seed in range(4):
        frame, _ = arm_env.reset(seed=seed)
        frames.append(torch.as_tensor(frame).permute(2, 0, 1).float())
    batch = torch.stack(frames)
    head.eval()
    assert head(batch).shape == (4, 14)
    assert head.last_frames is None  # only training keeps the frames for the loss
    head.train()
    positions = torch.rand(4, 6)
    features = head(batch)
    assert head.planner is not None
    assert not head.planner(batch, features[:, :6], 3).requires_grad
    keypoint_loss(head, positions).backward()
    assert head.planner is not None
    for grad in (next(head.planner.obstacle.parameters()).grad, next(head.convs.parameters()).grad):
        assert grad is not None  # the obstacle loss reaches the detector, the keypoints' the convs
        assert float(grad.abs().sum()) > 0


def test_obstacle_loss_is_low_for_the_true_map_and_high_for_its_opposite(
    arm_env: Any,
) -> None:
    frame, _ = arm_env.reset(seed=3)
    frames = torch.as_tensor(frame).permute(2, 0, 1)[None].float()
    planner = ConfigSpacePlanner(grid=8, iterations=2)
    truth = obstacle_map(frame, size=frame.shape[0])
    assert 0 < float(truth.mean()) < 0.2
    planner.last_obstacle_logits = (truth * 2 - 1) * 10
    right = float(obstacle_loss(planner, frames))
    planner.last_obstacle_logits = (1 - truth * 2) * 10
    wrong = float(obstacle_loss(planner, frames))
    assert right < 1e-3 < 1.0 < wrong
    with pytest.raises(RuntimeError, match="forward pass on the same batch"):
        obstacle_loss(planner, frames.repeat(2, 1, 1, 1))


def test_the_obstacle_detector_learns_the_obstacle_pixels_of_unseen_frames(
    arm_env: Any,
) -> None:
    """A few hundred steps on 8 frames: intersection over union >= 0.9 on 8 others."""

    def frames(seeds: range) -> torch.Tensor:
        shots = [arm_env.reset(seed=seed)[0] for seed in seeds]
        return torch.as_tensor(np.stack(shots)).permute(0, 3, 1, 2).float()

    torch.manual_seed(0)
    planner = ConfigSpacePlanner(grid=8, iterations=2)
    train, held_out = frames(range(8)), frames(range(100, 108))
    optimizer = torch.optim.Adam(planner.obstacle.parameters(), lr=1e-2)
    keypoints = torch.zeros(len(train), 6)
    for _ in range(300):
        planner(train, keypoints, 3)
        optimizer.zero_grad()
        obstacle_loss(planner, train).backward()
        optimizer.step()
    with torch.no_grad():
        planner(held_out, keypoints, 3)
    assert planner.last_obstacle_logits is not None
    found = planner.last_obstacle_logits > 0
    colour = torch.tensor(COLORS["obstacle"], dtype=torch.float32).view(1, 3, 1, 1)
    truth = (held_out == colour).all(1, keepdim=True)
    assert float((found & truth).sum() / (found | truth).sum()) >= 0.9


# ---------------------------------------------------------------------- in a student

OBSTACLES = "rlkit/ArmReachObstacles-v0"
SHORT = {"max_steps": 8}
PLANNER = {"count": 3, "channels": 8, "cspace": 16, "cspace_iterations": 12}


def test_student_with_the_planner_learns_the_obstacle_map_and_survives_saving(
    tmp_path: Path,
) -> None:
    from stable_baselines3 import PPO

    from rlkit.deep.demos import collect_demos
    from rlkit.deep.distill import behaviour_cloning
    from rlkit.deep.student import auxiliary_heads

    demos = collect_demos(OBSTACLES, 3, seed=11, env_kwargs=SHORT)
    frames = torch.as_tensor(np.asarray(demos.observations)).permute(0, 3, 1, 2).float()

    def obstacle_error(model: PPO) -> float:
        ((head, _weight),) = auxiliary_heads(model)[1]
        assert head.planner is not None
        head.train()
        with torch.no_grad():
            head(frames)
            return float(obstacle_loss(head.planner, frames))

    short = behaviour_cloning(OBSTACLES, 3, epochs=1, env_kwargs=SHORT, keypoints=PLANNER, seed=0)
    longer = behaviour_cloning(OBSTACLES, 3, epochs=8, env_kwargs=SHORT, keypoints=PLANNER, seed=0)
    assert obstacle_error(longer.model) < obstacle_error(short.model)
    path = longer.save(tmp_path / "model.zip")
    loaded = PPO.load(path, device="cpu")
    observations = np.asarray(demos.observations)
    before, _ = longer.model.predict(observations, deterministic=True)
    assert np.array_equal(loaded.predict(observations, deterministic=True)[0], before)
