"""The ``transfer`` suite kind: registered, kwargs checked when a suite loads, cells
train the source once per seed (cache), fine-tune and record the zero-shot start."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from rlkit.evaluation import evaluate
from rlkit.sweep.cells import cell_result, curve_point, run_cell
from rlkit.sweep.kinds import AGENT_KINDS, check_agent_kind
from rlkit.sweep.kinds.transfer import CACHE_VARIABLE, source_path
from rlkit.sweep.schema import parse_suite

SOURCE = {
    "env": "rlkit/GridNav-v0",
    "env_kwargs": {"layout": "empty", "size": 4, "max_steps": 10},
    "method": "bc",
    "kwargs": {"demos": 2, "epochs": 1, "ppo_kwargs": {"n_steps": 16, "batch_size": 16}},
}
TARGET = {"map": "....\n.#..\n....", "obs": "pixels", "max_steps": 10}
FAST = {"demos": 1, "epochs": 1, "ppo_kwargs": {"n_steps": 16, "batch_size": 16}}


def tiny_suite() -> dict[str, Any]:
    return {
        "suite": "transfer-tiny",
        "defaults": {"episodes": 2, "seeds": 1},
        "envs": [{"label": "tiny", "id": "rlkit/GridNav-Map-v0", "kwargs": TARGET}],
        "agents": [
            {"name": "src-bc", "kind": "transfer",
             "kwargs": {"init": "source", "source": SOURCE, "zero_shot": True, **FAST}},
            {"name": "src-dagger", "kind": "transfer",
             "kwargs": {"init": "source", "source": SOURCE, "method": "dagger",
                        "iterations": 1, "rollouts_per_iteration": 1, **FAST}},
            {"name": "scratch", "kind": "transfer", "kwargs": {"init": "scratch", **FAST}},
        ],
    }  # fmt: skip


def test_the_kind_is_registered_as_a_dataset_trainer() -> None:
    kind = AGENT_KINDS["transfer"]
    assert kind.trains and not kind.needs_steps and kind.takes_kwargs


@pytest.mark.parametrize(
    ("kwargs", "steps", "message"),
    [
        ({}, None, "kwargs.init must be one of"),
        ({"init": "sauce"}, None, "kwargs.init must be one of"),
        ({"init": "source"}, None, "kwargs.source: init 'source' needs the source task"),
        ({"init": "scratch", "source": SOURCE}, None, "starts from no source policy"),
        ({"init": "source", "source": {**SOURCE, "algo": "ppo"}}, None, "source.algo: unknown"),
        ({"init": "source", "source": {**SOURCE, "env": 3}}, None, "source.env must be"),
        ({"init": "source", "source": {**SOURCE, "method": "ppo"}}, None, "source.method must"),
        ({"init": "source", "source": {**SOURCE, "kwargs": {"demoss": 2}}}, None, "'demoss'"),
        ({"init": "source", "source": {**SOURCE, "env_kwargs": [1]}}, None, "must be a mapping"),
        ({"init": "scratch", "demoss": 2}, None, "fine_tune takes no argument 'demoss'"),
        ({"init": "scratch", "seed": 2}, None, "set by the cell"),
        ({"init": "scratch", "zero_shot": "yes"}, None, "zero_shot must be true or false"),
        ({"init": "scratch"}, 100, "remove 'steps'"),
    ],
)
def test_bad_kwargs_fail_when_the_suite_loads(
    kwargs: dict[str, Any], steps: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_agent_kind("transfer", kwargs, steps)


def test_good_kwargs_pass() -> None:
    check_agent_kind("transfer", {"init": "source", "source": SOURCE, "demos": 3}, None)
    check_agent_kind("transfer", {"init": "pretrained", "method": "dagger", "iterations": 1}, None)


def test_cells_share_the_source_and_record_the_zero_shot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run_cell in this process, as a backend's worker runs it: the cache variable is
    # seen for sure (a forkserver started by an earlier test keeps its old environment).
    cache = tmp_path / "sources"
    monkeypatch.setenv(CACHE_VARIABLE, str(cache))
    suite = parse_suite(tiny_suite())
    documents = {cell.agent.name: run_cell(cell) for cell in suite.cells()}
    assert all(d["status"] == "ok" for d in documents.values()), documents
    bc, dagger, scratch = (documents[n] for n in ("src-bc", "src-dagger", "scratch"))
    # one source, trained by the first cell and loaded by the second
    assert [p.name for p in cache.iterdir()] == [source_path(cache, SOURCE, 0).name]
    assert bc["train"]["info"]["source"]["reused"] is False
    assert dagger["train"]["info"]["source"]["reused"] is True
    assert scratch["train"]["info"]["source"] is None
    assert bc["train"]["info"]["transfer"]["copied"] > 0
    # curves: the start (-1) and the rounds; the last point is the cell's own result
    assert [p["x"] for p in bc["train"]["eval_curve"]] == [-1, 0]
    assert [p["x"] for p in dagger["train"]["eval_curve"]] == [0, 1]
    assert scratch["train"]["eval_curve"] == []
    assert bc["train"]["eval_curve"][-1] == {"x": 0, **curve_point(cell_result(bc))}
    # the start is the source policy itself, acting on the target's held-out episodes
    from stable_baselines3 import PPO

    source = PPO.load(source_path(cache, SOURCE, 0), device="cpu")
    zero_shot = evaluate(source, "rlkit/GridNav-Map-v0", episodes=2, seeds=[0],
                         env_kwargs=TARGET, progress_bar=False)  # fmt: skip
    assert bc["train"]["eval_curve"][0] == {"x": -1, **curve_point(zero_shot)}


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
def test_ray_backend_runs_transfer_cells_as_local_does(tmp_path: Path, ray_and_local: Any) -> None:
    spec = tiny_suite()
    spec["agents"] = [a for a in spec["agents"] if a["name"] in ("src-bc", "scratch")]
    for local, ray in ray_and_local(parse_suite(spec), tmp_path):
        assert local["train"]["eval_curve"] == ray["train"]["eval_curve"]
