"""Suite files: the schema's errors name the file and the key; cells and their selection."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from rlkit.sweep.kinds import TABULAR_KINDS
from rlkit.sweep.schema import find_suite, load_suite, parse_suite
from rlkit.sweep.suite import Suite, SuiteError

VALID: dict[str, Any] = {
    "suite": "demo",
    "defaults": {"episodes": 2, "seeds": 2},
    "envs": [
        {"label": "map-index", "id": "rlkit/GridNav-Map-v0", "kwargs": {"obs": "index"}},
        {"label": "random", "id": "rlkit/GridNav-v0"},
    ],
    "agents": [
        {"name": "planner", "kind": "planner"},
        {"name": "q", "kind": "q_learning", "steps": 100, "envs": ["*-index"], "seeds": [7]},
    ],
}


def edited(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """VALID with the entry at ``path`` set to ``value`` (``...`` deletes it)."""
    data = copy.deepcopy(VALID)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_valid_suite_expands_to_cells_with_env_filters() -> None:
    suite = parse_suite(VALID)
    names = [c.name for c in suite.cells()]
    assert names == [
        "planner__map-index__seed0",
        "planner__map-index__seed1",
        "planner__random__seed0",
        "planner__random__seed1",
        "q__map-index__seed7",
    ]
    assert suite.cells()[-1].episodes == 2


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("envs",), ..., "top level: missing the key 'envs'"),
        (("colour",), 1, "unknown key 'colour'"),
        (("suite",), "a__b", "suite: must be a name"),
        (("defaults", "episodes"), 0, "defaults.episodes: must be a positive integer, got 0"),
        (("defaults", "seeds"), [1, 1], "defaults.seeds: repeats a seed"),
        (("defaults", "seeds"), [-1], "seeds must be non-negative integers"),
        (("envs", 1, "label"), "map-index", "envs: two entries have the label 'map-index'"),
        (("envs", 0, "id"), 5, "envs[0] (map-index).id: must be a Gymnasium env id"),
        (("envs", 0, "kwargs"), [1], "envs[0] (map-index).kwargs: must be a mapping"),
        (("agents", 1, "step"), 5, "agents[1] (q): unknown key 'step'; did you mean 'steps'?"),
        (("agents", 1, "kind"), "q_leaning", "unknown agent kind 'q_leaning'; did you mean"),
        (("agents", 1, "steps"), ..., "kind 'q_learning' trains: give a training budget"),
        (("agents", 0, "steps"), 10, "agents[0] (planner): kind 'planner' does not train"),
        (("agents", 0, "kwargs"), {"a": 1}, "kind 'planner' takes no kwargs"),
        (("agents", 1, "kwargs"), {"alpha": 1}, "q_learning takes no argument 'alpha'"),
        (("agents", 1, "kwargs"), {"seed": 1}, "kwargs.seed: the cell's seed"),
        (("agents", 1, "steps"), -5, "agents[1] (q).steps: must be a positive integer"),
        (("agents", 1, "envs"), ["maze*"], "agents[1] (q).envs: 'maze*' matches no env label"),
        (("agents", 1, "name"), "planner", "agents: two entries have the name 'planner'"),
        (("agents",), [], "agents: must be a non-empty list"),
        (("report",), {"baseline": "nobody"}, "report.baseline: 'nobody' is not an agent"),
    ],
)
def test_schema_errors_name_the_file_and_the_key(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    with pytest.raises(SuiteError, match=r"^demo\.yaml: ") as caught:
        parse_suite(edited(path, value), source="demo.yaml")
    assert message in str(caught.value)


def test_load_suite_reports_yaml_problems_with_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("suite: demo\nenvs: [\n")
    with pytest.raises(SuiteError, match=r"broken\.yaml: not valid YAML"):
        load_suite(broken)
    twice = tmp_path / "twice.yaml"
    twice.write_text("suite: demo\nsuite: other\nenvs: []\nagents: []\n")
    with pytest.raises(SuiteError, match=r"twice\.yaml: .*key 'suite' appears twice"):
        load_suite(twice)
    with pytest.raises(FileNotFoundError, match=r"known suites: .*quick"):
        find_suite("no-such-suite")


@pytest.mark.parametrize("name", ["quick", "full"])
def test_shipped_suites_load(name: str) -> None:
    suite = load_suite(name)
    assert suite.name == name
    cells = suite.cells()
    tabular = [c for c in cells if c.agent.kind in TABULAR_KINDS]
    assert tabular and all(c.env.label.endswith("-index") for c in tabular)
    pixels = [c for c in cells if c.agent.kind in ("bc", "dagger", "ppo", "dqn")]
    assert pixels and all(c.env.kwargs.get("obs") == "pixels" for c in pixels)
    kinds = {a.kind for a in suite.agents}
    assert kinds >= {"planner", "random", *TABULAR_KINDS, "bc", "dagger", "ppo", "dqn"}
    finetunes = {a.kwargs.get("finetune") for a in suite.agents if a.kind == "ppo"}
    assert finetunes == {"scratch", "frozen", "full", "lora"}


def test_select_cells_by_pattern() -> None:
    suite: Suite = parse_suite(VALID)
    assert [c.name for c in suite.select(["q__*", "*__random__seed1"])] == [
        "planner__random__seed1",
        "q__map-index__seed7",
    ]
    with pytest.raises(ValueError, match="'ppo__\\*' matches no cell"):
        suite.select(["ppo__*"])


def test_fingerprint_follows_what_decides_the_records() -> None:
    cell = parse_suite(VALID).cells()[-1]
    changed = parse_suite(edited(("agents", 1, "steps"), 200)).cells()[-1]
    assert cell.name == changed.name
    assert cell.fingerprint() != changed.fingerprint()
    assert parse_suite(VALID).cells()[-1].fingerprint() == cell.fingerprint()


def test_learning_suites_share_their_design_and_the_full_one_spends_more() -> None:
    reduced, full = load_suite("learning"), load_suite("learning-full")
    assert [e.label for e in reduced.envs] == [e.label for e in full.envs]
    assert [a.name for a in reduced.agents] == [a.name for a in full.agents]
    assert len(full.cells()) == 2 * len(reduced.cells())  # 10 seeds instead of 5
    for small, big in zip(reduced.agents, full.agents, strict=True):
        assert (small.steps or 0) <= (big.steps or 0)
        for key in ("demos", "iterations", "rollouts_per_iteration"):
            assert small.kwargs.get(key, 0) <= big.kwargs.get(key, 0)
    ppo = {a.name: a for a in full.agents}["ppo"]
    assert ppo.steps == 1_000_000  # issue #14's PPO budget
    pixels = [c for c in reduced.cells() if c.agent.kind in ("bc", "dagger", "ppo")]
    assert pixels and all(c.env.kwargs.get("obs") == "pixels" for c in pixels)
