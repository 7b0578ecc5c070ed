"""The value iteration head (rlkit.deep.planning) and its place in the extractor,
the demos and the distillation loss."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

import envs  # noqa: F401  (registers rlkit/*)
from rlkit.deep.demos import Demos, agent_position, collect_demos, tells_position
from rlkit.deep.distill import DistillResult, behaviour_cloning
from rlkit.deep.distill_cli import add_distill_parser
from rlkit.deep.extractor import BackboneExtractor
from rlkit.deep.planning import (
    ValueIterationHead,
    attention_loss,
    attention_targets,
    check_plan,
)
from rlkit.deep.round_checkpoints import _demos_tensors, _tensors_demos
from rlkit.deep.student import plan_heads

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GRID = "rlkit/GridNav-v0"
ARM = "rlkit/ArmReach-v0"
#: A 5 x 5 random map, short episodes: the tests run in seconds.
SMALL = {"size": 5, "max_steps": 12}
PLAN = {"grid": 5, "iterations": 8, "channels": 4}


# ---------------------------------------------------------------------- the head


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"grid": 1}, r"plan\['grid'\] must be an int >= 2"),
        ({"iterations": 0}, r"plan\['iterations'\] must be an int >= 1"),
        ({"channels": 2.5}, r"plan\['channels'\] must be an int"),
        ({"actions": True}, r"plan\['actions'\] must be an int"),
        ({"pooled": 1}, r"plan\['pooled'\] must be True or False"),
        ({"size": 11}, r"unknown keys \['size'\]"),
        ([11, 30], "plan must be a mapping"),
    ],
)
def test_check_plan_names_the_bad_key(plan: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_plan(plan)


def test_values_stay_bounded_at_any_depth(frames: torch.Tensor) -> None:
    """Softmax transitions times a discount below 1: the values of a deep iteration
    stay finite and no larger than the reward bound (free kernels exploded)."""
    head = ValueIterationHead(grid=8, iterations=300)
    with torch.no_grad():
        for conv in (head.q_reward, head.reward):
            conv.weight.mul_(50)
        out = head(frames)
    assert torch.isfinite(out).all()
    assert out.shape == (3, head.features_dim)


def test_frames_smaller_than_the_grid_are_refused() -> None:
    with pytest.raises(ValueError, match="needs frames of at least 11x11"):
        ValueIterationHead(grid=11)(torch.zeros(1, 3, 8, 8))


def test_attention_targets_are_row_major_cells() -> None:
    positions = torch.tensor([[0.05, 0.05], [0.05, 0.95], [0.95, 0.05], [0.5, 0.5]])
    assert attention_targets(positions, 4).tolist() == [0, 3, 12, 10]


def test_attention_loss_needs_a_forward_pass_on_the_batch(frames: torch.Tensor) -> None:
    head = ValueIterationHead(grid=8, iterations=2)
    with pytest.raises(RuntimeError, match="forward pass on the same batch"):
        attention_loss(head, torch.zeros(3, 2))
    head(frames)
    with pytest.raises(RuntimeError, match="forward pass on the same batch"):
        attention_loss(head, torch.zeros(2, 2))
    assert attention_loss(head, torch.full((3, 2), 0.5)).item() > 0


def test_attention_learns_where_the_agent_is() -> None:
    """The auxiliary loss alone teaches the attention the agent's cell on frames it
    never saw (the part the action loss cannot teach, see the module docstring)."""
    train, test = (collect_demos(GRID, n, seed=s, env_kwargs=SMALL) for n, s in ((30, 0), (10, 99)))
    assert train.positions is not None and test.positions is not None
    torch.manual_seed(0)
    head = ValueIterationHead(grid=5, iterations=2, channels=8)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)

    def frames(demos: Demos) -> torch.Tensor:
        return torch.as_tensor(np.asarray(demos.observations)).permute(0, 3, 1, 2).float()

    x, positions = frames(train), torch.as_tensor(train.positions)
    for _ in range(150):
        head(x)
        loss = attention_loss(head, positions)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        head(frames(test))
    assert head.last_attention_logits is not None
    found = head.last_attention_logits.argmax(1)
    accuracy = (found == attention_targets(torch.as_tensor(test.positions), 5)).float().mean()
    assert accuracy > 0.95


# ---------------------------------------------------------------------- extractor


@pytest.mark.parametrize("pooled", [False, True])
def test_extractor_features_with_a_plan(pooled: bool, frames: torch.Tensor) -> None:
    space = spaces.Box(0, 255, (3, 64, 64), np.uint8)
    extractor = BackboneExtractor(space, plan={**PLAN, "pooled": pooled})
    plain = BackboneExtractor(space)
    assert extractor.plan_head is not None
    expected = (plain.features_dim if pooled else 0) + extractor.plan_head.features_dim
    assert extractor.features_dim == expected
    assert extractor(frames).shape == (3, expected)


def test_without_pooled_features_the_backbone_is_not_run(
    frames: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractor = BackboneExtractor(spaces.Box(0, 255, (3, 64, 64), np.uint8), plan=PLAN)

    def refuse(*_: Any) -> None:
        raise AssertionError("the backbone ran")

    monkeypatch.setattr(extractor.backbone, "forward", refuse)
    assert extractor(frames).shape == (3, 8)


# ---------------------------------------------------------------------- demos


def test_grid_demos_carry_the_agent_position() -> None:
    demos = collect_demos(GRID, 3, env_kwargs=SMALL)
    assert demos.positions is not None and demos.positions.shape == (len(demos), 2)
    env = gym.make(GRID, obs="pixels", **SMALL)
    env.reset(seed=0)  # the first demo's reset
    assert np.allclose(demos.positions[0], agent_position(env))
    assert np.all((demos.positions > 0) & (demos.positions < 1))


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("FrozenLake-v1", {}),
        (GRID, {**SMALL, "view": "agent", "obs": "pixels"}),
        (ARM, {"obs": "flat"}),
    ],
)
def test_envs_that_do_not_tell_give_no_positions(env_id: str, kwargs: dict[str, Any]) -> None:
    """Envs without a position (FrozenLake), a partial view, or no frame (flat obs)."""
    assert not tells_position(gym.make(env_id, **kwargs))


def test_demos_from_a_partial_view_have_no_positions() -> None:
    assert collect_demos(GRID, 1, env_kwargs={**SMALL, "view": "agent"}).positions is None


def test_positions_survive_concatenation_and_round_checkpoints(tmp_path: Path) -> None:
    grid = collect_demos(GRID, 2, env_kwargs=SMALL)
    both = Demos.concatenate([grid, grid])
    assert both.positions is not None and len(both.positions) == 2 * len(grid)
    untold = dataclasses.replace(grid, positions=None)
    assert Demos.concatenate([grid, untold]).positions is None
    path = tmp_path / "data.pt"
    torch.save(_demos_tensors(grid), path)
    restored = _tensors_demos(torch.load(path, weights_only=True), path)
    assert grid.positions is not None and restored.positions is not None
    assert np.array_equal(restored.positions, grid.positions)
    older = {k: v for k, v in _demos_tensors(grid).items() if k != "positions"}
    assert _tensors_demos(older, path).positions is None  # data saved before the field


# ---------------------------------------------------------------------- distillation


@pytest.fixture(scope="module")
def planned() -> DistillResult:
    return behaviour_cloning(GRID, 4, epochs=2, env_kwargs=SMALL, plan=PLAN)


def test_bc_trains_the_plan_head_and_records_it(planned: DistillResult) -> None:
    (head,) = plan_heads(planned.model)
    assert head.grid == 5 and head.iterations == 8
    assert planned.config["plan"] == {**check_plan(PLAN), "pooled": False}
    assert planned.summary()["updates"] > 0


def test_the_attention_loss_joins_the_action_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    import rlkit.deep.student as student

    calls: list[int] = []
    original = student.attention_loss

    def counted(head: ValueIterationHead, positions: torch.Tensor) -> torch.Tensor:
        calls.append(len(positions))
        return original(head, positions)

    monkeypatch.setattr(student, "attention_loss", counted)
    behaviour_cloning(GRID, 2, epochs=1, batch_size=4, env_kwargs=SMALL, plan=PLAN)
    assert calls and max(calls) <= 4


def test_saved_student_keeps_its_plan_head(planned: DistillResult, tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    path = planned.save(tmp_path / "model.zip")
    loaded = PPO.load(path, device="cpu")
    (head,) = plan_heads(loaded)
    obs = np.asarray(collect_demos(GRID, 1, seed=5, env_kwargs=SMALL).observations)
    before, _ = planned.model.predict(obs, deterministic=True)
    assert np.array_equal(loaded.predict(obs, deterministic=True)[0], before)
    assert head.grid == 5


def test_cli_plan_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import rlkit.deep.distill as distill

    parser = argparse.ArgumentParser(prog="rlkit")
    add_distill_parser(parser.add_subparsers(dest="command", required=True))
    called: dict[str, Any] = {}

    def fake(env_id: str, **kwargs: Any) -> DistillResult:
        called.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(distill, "dagger", fake)
    fixed_map = "rlkit/GridNav-Map-v0"  # no per-env defaults
    args = parser.parse_args(["distill", "--env", fixed_map, "--out", str(tmp_path)])
    assert args.func(args) == 2 and "plan" not in called
    argv = ["distill", "--env", fixed_map, "--out", str(tmp_path), "--plan-grid", "11"]
    args = parser.parse_args(argv)
    assert args.func(args) == 2 and called["plan"] == {"grid": 11, "iterations": 30}
    args = parser.parse_args([*argv, "--init-from", str(tmp_path / "x.zip")])
    assert args.func(args) == 2


def test_options_without_plan_build_plain_students() -> None:
    """Callers whose signature has no ``plan`` (ensembles, transfer, teachers; nor
    ``keypoints`` or ``demo_noise``) still build their options."""
    from rlkit.deep.student import DistillOptions

    optional = {"plan", "keypoints", "demo_noise"}
    fields = [f.name for f in dataclasses.fields(DistillOptions) if f.name not in optional]
    arguments = dict.fromkeys(fields)
    arguments.update(finetune="full", epochs=1, batch_size=1, learning_rate=1.0)
    options = DistillOptions.of(arguments)
    assert options.plan is None and options.keypoints is None and options.demo_noise == 0
