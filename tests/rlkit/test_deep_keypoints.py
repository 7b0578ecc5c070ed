"""The keypoint head (rlkit.deep.keypoints), ArmReach's keypoints, and their place in
the extractor, the demos and the distillation loss."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

import envs  # noqa: F401  (registers rlkit/*)
from envs.arm.drawing import COLORS
from rlkit.deep.demos import agent_position, collect_demos, tells_position
from rlkit.deep.distill import DistillResult, behaviour_cloning
from rlkit.deep.distill_cli import env_defaults
from rlkit.deep.extractor import BackboneExtractor
from rlkit.deep.keypoints import KEYPOINT_DEFAULTS, KeypointHead, check_keypoints, keypoint_loss
from rlkit.deep.student import auxiliary_heads

if TYPE_CHECKING:
    from tests.rlkit.conftest import FakedDistill

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARM = "rlkit/ArmReach-v0"
SHORT = {"max_steps": 6}
KEYPOINTS = {"count": 4, "channels": 8}


# ---------------------------------------------------------------------- the head


@pytest.mark.parametrize(
    ("keypoints", "message"),
    [
        ({"count": 0}, r"keypoints\['count'\] must be an int >= 1"),
        ({"channels": 2.5}, r"keypoints\['channels'\] must be an int"),
        ({"count": True}, r"keypoints\['count'\] must be an int"),
        ({"weight": -1.0}, r"keypoints\['weight'\] must be a number >= 0"),
        ({"weight": float("nan")}, r"keypoints\['weight'\] must be a number >= 0"),
        ({"pooled": "yes"}, r"keypoints\['pooled'\] must be True or False"),
        ({"size": 3}, r"unknown keys \['size'\]"),
        ([8], "keypoints must be a mapping"),
    ],
)
def test_check_keypoints_names_the_bad_key(keypoints: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_keypoints(keypoints)


def test_check_keypoints_fills_defaults() -> None:
    assert check_keypoints(None) is None
    assert check_keypoints({}) == KEYPOINT_DEFAULTS
    assert check_keypoints({"weight": 2})["weight"] == 2.0


@pytest.mark.parametrize("size", [16, 48, 64])
def test_head_gives_count_points_in_the_frame(size: int) -> None:
    head = KeypointHead(count=5, channels=8)
    out = head(torch.randint(0, 256, (3, 3, size, size)).float())
    assert out.shape == (3, head.features_dim) == (3, 10)
    assert bool((out.abs() <= 1).all())
    assert head.last_keypoints is out


def test_keypoint_loss_compares_row_col_fractions_with_x_y() -> None:
    """A keypoint at (x, y) = (0.5, -0.5) is the point at row 0.25, col 0.75."""
    head = KeypointHead(count=2, channels=4)
    head.last_keypoints = torch.tensor([[0.5, 0.0, -0.5, 0.0]])  # x0, x1, y0, y1
    assert keypoint_loss(head, torch.tensor([[0.25, 0.75]])).item() == pytest.approx(0.0)
    # only the first keypoint is a target; the second is free
    assert keypoint_loss(head, torch.tensor([[0.75, 0.75]])).item() == pytest.approx(1.0)


def test_keypoint_loss_checks_its_batch_and_count() -> None:
    head = KeypointHead(count=2, channels=4)
    with pytest.raises(RuntimeError, match="forward pass on the same batch"):
        keypoint_loss(head, torch.zeros(3, 2))
    head(torch.zeros(3, 3, 16, 16))
    with pytest.raises(RuntimeError, match="forward pass on the same batch"):
        keypoint_loss(head, torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"3 points but the head has 2 keypoints"):
        keypoint_loss(head, torch.zeros(3, 6))


def test_head_learns_where_a_disc_is_to_a_pixel() -> None:
    """The auxiliary loss alone teaches the first keypoint a disc's centre on frames it
    never saw, to about a pixel (the resolution the module docstring is about)."""
    generator = np.random.default_rng(0)
    size = 24

    def discs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        centres = generator.uniform(3, size - 3, (n, 2))
        rows, cols = np.mgrid[0:size, 0:size] + 0.5
        inside = (rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2 <= 4
        frames = np.where(inside[:, None], 255.0, 0.0).repeat(3, axis=1)
        return torch.as_tensor(frames, dtype=torch.float32), torch.as_tensor(
            centres / size, dtype=torch.float32
        )

    train, targets = discs(256)
    torch.manual_seed(0)
    head = KeypointHead(count=2, channels=8)
    optimizer = torch.optim.Adam(head.parameters(), lr=3e-3)
    for _ in range(300):
        head(train)
        loss = keypoint_loss(head, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test, truth = discs(64)
    with torch.no_grad():
        out = head(test)
    found = torch.stack([(out[:, 2] + 1) / 2, (out[:, 0] + 1) / 2], dim=1)  # (row, col)
    error_pixels = ((found - truth) * size).norm(dim=1)
    assert float(error_pixels.median()) < 1.0


# ---------------------------------------------------------------------- the env


def test_arm_keypoints_are_where_the_frame_draws_them() -> None:
    env = gym.make(ARM, obs="pixels")
    for seed in range(5):
        frame, _ = env.reset(seed=seed)
        effector = env.unwrapped.keypoints[0] * frame.shape[:2] - 0.5  # pixel indices
        drawn = np.argwhere((frame == COLORS["effector"]).all(axis=-1))
        assert np.abs(drawn.mean(axis=0) - effector).max() < 0.5


def test_arm_keypoints_scale_with_the_frame() -> None:
    small = gym.make(ARM, obs="pixels", pixel_size=32)
    wide = gym.make(ARM, obs="pixels", pixel_size=(32, 64))
    small.reset(seed=1)
    wide.reset(seed=1)
    k_small, k_wide = small.unwrapped.keypoints, wide.unwrapped.keypoints
    assert np.allclose(k_small[:, 0], k_wide[:, 0])  # same rows: the height is the same
    assert np.allclose(k_wide[:, 1] - 0.5, (k_small[:, 1] - 0.5) / 2)  # twice as wide
    goal = small.unwrapped.goal
    assert k_small[1, 1] > 0.5 if goal[0] > 0 else k_small[1, 1] <= 0.5


def test_arm_pixel_demos_carry_effector_goal_and_joints() -> None:
    env = gym.make(ARM, obs="pixels", **SHORT)
    assert tells_position(env)
    demos = collect_demos(ARM, 2, env_kwargs=SHORT)
    assert demos.positions is not None and demos.positions.shape == (len(demos), 6)
    env.reset(seed=0)  # the first demo's reset
    assert np.allclose(demos.positions[0], agent_position(env))


# ---------------------------------------------------------------------- extractor, training


@pytest.mark.parametrize("pooled", [False, True])
def test_extractor_features_with_keypoints(pooled: bool) -> None:
    space = spaces.Box(0, 255, (3, 64, 64), np.uint8)
    extractor = BackboneExtractor(space, keypoints={**KEYPOINTS, "pooled": pooled})
    plain = BackboneExtractor(space)
    expected = (plain.features_dim if pooled else 0) + 2 * KEYPOINTS["count"]
    assert extractor.features_dim == expected
    assert extractor(torch.zeros(2, 3, 64, 64)).shape == (2, expected)


@pytest.fixture(scope="module")
def reached() -> DistillResult:
    return behaviour_cloning(ARM, 2, epochs=2, env_kwargs=SHORT, keypoints=KEYPOINTS)


def test_bc_trains_the_keypoint_head_and_records_it(reached: DistillResult) -> None:
    plans, keypoints = auxiliary_heads(reached.model)
    assert not plans and len(keypoints) == 1
    head, weight = keypoints[0]
    assert head.count == 4 and weight == 1.0
    assert reached.config["keypoints"] == {**KEYPOINT_DEFAULTS, **KEYPOINTS}


@pytest.mark.parametrize("weight", [0.0, 2.0])
def test_the_keypoint_loss_joins_the_action_loss(
    weight: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rlkit.deep.student as student

    calls: list[tuple[int, int]] = []
    original = student.keypoint_loss

    def counted(head: KeypointHead, positions: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(positions.shape))
        return original(head, positions)

    monkeypatch.setattr(student, "keypoint_loss", counted)
    keypoints = {**KEYPOINTS, "weight": weight}
    behaviour_cloning(ARM, 1, epochs=1, batch_size=4, env_kwargs=SHORT, keypoints=keypoints)
    assert calls and all(rows <= 4 and width == 6 for rows, width in calls)


def test_saved_student_keeps_its_keypoint_head(reached: DistillResult, tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    path = reached.save(tmp_path / "model.zip")
    loaded = PPO.load(path, device="cpu")
    obs = np.asarray(collect_demos(ARM, 1, seed=5, env_kwargs=SHORT).observations)
    before, _ = reached.model.predict(obs, deterministic=True)
    assert np.array_equal(loaded.predict(obs, deterministic=True)[0], before)
    assert auxiliary_heads(loaded)[1][0][0].count == 4


def test_cli_keypoints_flag(faked_distill: FakedDistill, tmp_path: Path) -> None:
    run, called = faked_distill
    base = ["distill", "--env", ARM, "--out", str(tmp_path)]
    assert run([*base, "--keypoints", "6"]) == 2 and called["keypoints"] == {"count": 6}
    assert run([*base, "--keypoints", "0"]) == 2  # none, the env's default neither
    assert "keypoints" not in called and called["demos"] == env_defaults(ARM)["demos"]
    assert run([*base, "--keypoints", "6", "--teacher", str(tmp_path / "t.zip")]) == 2
    assert not called  # refused before training


def test_cli_arm_defaults_and_demo_noise_flag(faked_distill: FakedDistill, tmp_path: Path) -> None:
    """rlkit/ArmReach-v0 takes its measured defaults (keypoint head, noisy demos);
    --demo-noise wins over them and refuses --teacher (no planner demos to shake)."""
    run, called = faked_distill
    defaults = env_defaults(ARM)
    base = ["distill", "--env", ARM, "--out", str(tmp_path)]
    assert run(base) == 2 and {k: called[k] for k in defaults} == defaults
    assert called["keypoints"]["count"] >= 3 and called["demo_noise"] > 0
    assert run([*base, "--demo-noise", "0"]) == 2 and called["demo_noise"] == 0
    assert run([*base, "--demo-noise", "0.1", "--teacher", str(tmp_path / "t.zip")]) == 2
    assert not called
