"""The ``teacher`` kind in suites: registered, its kwargs checked, a cell that distils a
saved teacher and evaluates every round's student on the cell's held-out episodes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from rlkit.sweep.cells import cell_result, run_cell
from rlkit.sweep.kinds import AGENT_KINDS, check_agent_kind
from rlkit.sweep.schema import parse_suite

#: A 3x4 pixel GridNav with a fixed goal (as tests/rlkit/test_sweep_ensemble.py).
ENV = {
    "label": "tiny-pixels",
    "id": "rlkit/GridNav-Map-v0",
    "kwargs": {"map": "....\n.#..\n....", "obs": "pixels", "goal": [2, 3], "max_steps": 12},
}
STUDENT = {"demos": 2, "iterations": 1, "rollouts_per_iteration": 2, "epochs": 2}


@pytest.fixture(scope="module")
def teacher_zip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A pixel teacher on the tiny map: behaviour cloning from a few planner demos."""
    import torch

    from rlkit.deep import behaviour_cloning

    torch.set_num_threads(1)
    result = behaviour_cloning(
        ENV["id"], 4, epochs=3, finetune="frozen", env_kwargs=dict(ENV["kwargs"]), device="cpu"
    )
    path = tmp_path_factory.mktemp("teacher") / "teacher.zip"
    result.model.save(path)
    return str(path)


def test_the_kind_is_registered() -> None:
    kind = AGENT_KINDS["teacher"]
    assert kind.trains and kind.takes_kwargs and not kind.needs_steps
    check_agent_kind("teacher", {"teacher": "runs/t/model.zip", **STUDENT}, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "kwargs.teacher: the path"),
        ({"teacher": 3}, "kwargs.teacher: the path"),
        ({"teacher": "model.pt"}, "kwargs.teacher: the path"),
        ({"teacher": "m.zip", "temprature": 2.0}, "takes no argument 'temprature'"),
        ({"teacher": "m.zip", "seed": 1}, "set by the cell"),
    ],
)
def test_bad_teacher_kwargs_are_refused_when_the_suite_loads(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_agent_kind("teacher", kwargs, None)
    agent = {"name": "s", "kind": "teacher", "kwargs": kwargs}
    with pytest.raises(ValueError, match=message):
        parse_suite({"suite": "bad", "envs": [ENV], "agents": [agent]})


def _cell(kwargs: dict[str, Any]) -> Any:
    spec = {"name": "student", "kind": "teacher", "kwargs": kwargs}
    suite = parse_suite(
        {"suite": "teacher-tiny", "defaults": {"episodes": 3, "seeds": 1}, "envs": [ENV],
         "agents": [spec]}
    )  # fmt: skip
    (cell,) = suite.cells()
    return cell


def test_a_cell_distils_the_teacher_and_scores_every_round(teacher_zip: str) -> None:
    document = run_cell(_cell({"teacher": teacher_zip, "student_size": "tiny", **STUDENT}))
    assert document["status"] == "ok", document["error"]
    records = cell_result(document).records
    train = document["train"]
    assert train["curve_x"] == "DAgger round"
    assert [p["x"] for p in train["eval_curve"]] == [0, 1]
    assert all(p["episodes"] == len(records) == 3 for p in train["eval_curve"])
    info = train["info"]
    assert info["method"] == "teacher" and info["teacher"] == teacher_zip
    assert 0 < info["parameter_ratio"] < 1  # the tiny student is smaller than its teacher


def test_a_missing_teacher_file_fails_the_cell_with_its_name(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.zip")
    document = run_cell(_cell({"teacher": missing, **STUDENT}))
    assert document["status"] == "error"
    error = document["error"]
    assert error["type"] == "FileNotFoundError"
    assert "nowhere.zip" in error["message"] and "train the teacher first" in error["message"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
def test_ray_and_local_teacher_cells_agree(
    teacher_zip: str, tmp_path: Path, ray_and_local: Any
) -> None:
    spec = {"name": "student", "kind": "teacher", "kwargs": {"teacher": teacher_zip, **STUDENT}}
    tiny = parse_suite(
        {"suite": "teacher-ray", "defaults": {"episodes": 3, "seeds": 2}, "envs": [ENV],
         "agents": [spec]}
    )  # fmt: skip
    for local, ray in ray_and_local(tiny, tmp_path):
        assert local["train"]["eval_curve"] == ray["train"]["eval_curve"]
