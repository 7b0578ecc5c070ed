"""Deep agent kinds in suites: PPO and behaviour-cloning cells run end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlkit.sweep.cells import cell_result, curve_point, read_cell
from rlkit.sweep.kinds import check_agent_kind
from rlkit.sweep.runner import run_suite
from rlkit.sweep.schema import load_suite

#: A 3x4 pixel GridNav with a fixed goal: small enough for a few seconds per cell.
SUITE = """\
suite: deep-tiny
defaults: {episodes: 2, seeds: 1}
envs:
  - label: tiny-pixels
    id: rlkit/GridNav-Map-v0
    kwargs: {map: "....\\n.#..\\n....", obs: pixels, goal: [2, 3], max_steps: 12}
agents:
  - name: bc-frozen
    kind: bc
    kwargs: {demos: 2, finetune: frozen, epochs: 2}
  - name: ppo-lora
    kind: ppo
    steps: 64
    kwargs:
      finetune: lora
      n_envs: 1
      tensorboard: false
      hyperparams: {n_steps: 32, batch_size: 32, n_epochs: 1}
      curve_points: 2
  - name: dagger-frozen
    kind: dagger
    kwargs: {demos: 2, finetune: frozen, epochs: 1, iterations: 2, rollouts_per_iteration: 1}
"""


def test_bc_and_ppo_cells_train_evaluate_and_record(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE)
    suite = load_suite(path)
    run = run_suite(suite, out=tmp_path, workers=1, progress_bar=False)
    assert not run.errors
    for cell in suite.cells():
        document = read_cell(tmp_path / "deep-tiny" / "cells" / f"{cell.name}.json")
        assert document is not None and document["status"] == "ok", document
        assert len(cell_result(document).records) == 2
        train = document["train"]
        assert train["steps"] > 0
        curve = train["eval_curve"]
        final = curve_point(cell_result(document))
        if cell.agent.kind == "ppo":
            assert train["steps"] >= 64
            assert train["info"]["hyperparameters"]["n_steps"] == 32
            # curve_points: 2 -> a snapshot half-way, then the final model
            assert train["curve_x"] == "env steps" and [p["x"] for p in curve] == [32, 64]
        elif cell.agent.kind == "dagger":
            assert train["curve_x"] == "DAgger round" and [p["x"] for p in curve] == [0, 1, 2]
        else:
            assert train["info"]["method"] == "bc" and train["info"]["expert_episodes"] == 2
            assert curve == [] and train["curve_x"] is None
        if curve:  # the last point is the final agent's own evaluation
            assert curve[-1] == {"x": curve[-1]["x"], **final}
            assert all(p["episodes"] == 2 and 0 <= p["success"] <= 1 for p in curve)
    assert (tmp_path / "deep-tiny" / "report.md").is_file()


@pytest.mark.parametrize(
    ("kind", "kwargs", "steps", "message"),
    [
        ("bc", {"demos": 2}, 100, "remove 'steps'"),
        ("bc", {"demoss": 2}, None, "takes no argument 'demoss'"),
        ("bc", {"seed": 3}, None, "set by the cell"),
        ("ppo", {"finetune": "full"}, None, "give a training budget"),
        ("ppo", {"total_steps": 5}, 100, "set by the cell"),
        ("dqn", {"learning_rate": 0.1}, 100, "takes no argument 'learning_rate'"),
        ("ppo", {"curve_points": -1}, 100, "curve_points must be an int >= 0"),
        ("dagger", {"callback": print}, None, "takes no argument 'callback'"),
        ("bc", {"curve_points": 3}, None, "takes no argument 'curve_points'"),
    ],
)
def test_bad_deep_agent_specs_are_refused_when_the_suite_loads(
    kind: str, kwargs: dict[str, object], steps: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_agent_kind(kind, kwargs, steps)
