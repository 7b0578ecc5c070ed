"""The ``ensemble`` kind in suites: registered, its kwargs checked, cells that record the
ensemble, each member on the same episodes and the per-episode disagreement."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from rlkit.sweep.cells import cell_result, run_cell
from rlkit.sweep.kinds import AGENT_KINDS, check_agent_kind
from rlkit.sweep.schema import parse_suite

#: A 3x4 pixel GridNav with a fixed goal (as tests/rlkit/test_sweep_deep.py).
ENV = {
    "label": "tiny-pixels",
    "id": "rlkit/GridNav-Map-v0",
    "kwargs": {"map": "....\n.#..\n....", "obs": "pixels", "goal": [2, 3], "max_steps": 12},
}
MEMBER = {"demos": 2, "epochs": 2, "finetune": "frozen"}


def suite(*agents: dict[str, Any], seeds: int = 1) -> Any:
    return parse_suite(
        {
            "suite": "ensemble-tiny",
            "defaults": {"episodes": 3, "seeds": seeds},
            "envs": [ENV],
            "agents": list(agents),
        }
    )


def test_the_kind_is_registered_and_trains_on_demos() -> None:
    kind = AGENT_KINDS["ensemble"]
    assert kind.trains and kind.takes_kwargs and not kind.needs_steps
    check_agent_kind("ensemble", {"members": 3, "mode": "bagging", **MEMBER}, None)
    check_agent_kind("ensemble", {"method": "dagger", "iterations": 2}, None)


@pytest.mark.parametrize(
    ("kwargs", "steps", "message"),
    [
        ({"members": 0}, None, "members must be an int >= 1"),
        ({"members": "5"}, None, "members must be an int >= 1"),
        ({"members": True}, None, "members must be an int >= 1"),
        ({"method": "ppo"}, None, "method must be 'bc' or 'dagger'"),
        ({"mode": "boosting"}, None, "mode must be 'seeds' or 'bagging'"),
        ({"method": "dagger", "mode": "bagging"}, None, "use method 'bc'"),
        ({"demoss": 2}, None, "takes no argument 'demoss'"),
        ({"iterations": 2}, None, "behaviour_cloning takes no argument 'iterations'"),
        ({"seed": 3}, None, "set by the cell"),
        ({"members": 2}, 100, "remove 'steps'"),
    ],
)
def test_bad_ensemble_kwargs_are_refused_when_the_suite_loads(
    kwargs: dict[str, Any], steps: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_agent_kind("ensemble", kwargs, steps)
    agent: dict[str, Any] = {"name": "e", "kind": "ensemble", "kwargs": kwargs}
    if steps is not None:
        agent["steps"] = steps
    with pytest.raises(ValueError, match=message):
        parse_suite({"suite": "bad", "envs": [ENV], "agents": [agent]})


@pytest.mark.parametrize("mode", ["seeds", "bagging"])
def test_a_cell_records_the_ensemble_its_members_and_the_disagreement(mode: str) -> None:
    spec = {"name": "ens", "kind": "ensemble", "kwargs": {"members": 3, "mode": mode, **MEMBER}}
    (cell,) = suite(spec).cells()
    document = run_cell(cell)
    assert document["status"] == "ok", document["error"]
    records = cell_result(document).records
    train = document["train"]
    assert train["curve_x"] == "ensemble member"
    curve = train["eval_curve"]
    # Every member, evaluated on the cell's own held-out episodes.
    assert [p["x"] for p in curve] == [0, 1, 2]
    assert all(p["episodes"] == len(records) == 3 for p in curve)
    info = train["info"]
    assert info["members"] == 3 and info["mode"] == mode and info["member_seeds"] == [0, 1000, 2000]
    assert len(info["episode_disagreement"]) == len(records)
    assert len(info["episode_max_disagreement"]) == len(records)
    pairs = zip(info["episode_disagreement"], info["episode_max_disagreement"], strict=True)
    assert all(0 <= m <= x for m, x in pairs)
    assert train["episodes"] == 2  # the members share one set of 2 demos
    assert train["steps"] == sum(m["updates"] for m in info["member_training"])


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
def test_ray_and_local_ensemble_cells_agree(tmp_path: Path, ray_and_local: Any) -> None:
    spec = {"name": "ens", "kind": "ensemble", "kwargs": {"members": 2, **MEMBER}}
    for local, ray in ray_and_local(suite(spec, seeds=2), tmp_path):
        assert local["train"]["eval_curve"] == ray["train"]["eval_curve"]
        disagreements = [d["train"]["info"]["episode_disagreement"] for d in (local, ray)]
        assert disagreements[0] == disagreements[1]
