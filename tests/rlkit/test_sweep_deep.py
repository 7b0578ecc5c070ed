"""Deep agent kinds in suites: PPO and behaviour-cloning cells run end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlkit.sweep.cells import cell_result, read_cell
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
        if cell.agent.kind == "ppo":
            assert train["steps"] >= 64
            assert train["info"]["hyperparameters"]["n_steps"] == 32
        else:
            assert train["info"]["method"] == "bc" and train["info"]["expert_episodes"] == 2
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
    ],
)
def test_bad_deep_agent_specs_are_refused_when_the_suite_loads(
    kind: str, kwargs: dict[str, object], steps: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_agent_kind(kind, kwargs, steps)
