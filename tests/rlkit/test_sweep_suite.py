"""Suite files: the schema's errors name the file and the key; cells and their selection."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, ClassVar

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
        (("agents", 1, "actions"), "mean", "agents[1] (q).actions: must be greedy or sampled"),
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


class _Recorder:
    """A policy that records the ``deterministic`` flags it is asked with."""

    seen: ClassVar[set[bool]] = set()

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
        self.seen.add(deterministic)
        return 0, None


def recorder_kind(cell: Any) -> Any:
    """A plugin kind (``module:function``) whose agent is a :class:`_Recorder`."""
    from rlkit.sweep.kinds.registry import TrainedAgent

    return TrainedAgent(_Recorder())


recorder_kind.trains = False  # type: ignore[attr-defined]
recorder_kind.takes_kwargs = False  # type: ignore[attr-defined]


@pytest.mark.parametrize(("actions", "deterministic"), [("greedy", True), ("sampled", False)])
def test_actions_reach_the_evaluation_and_only_sampled_changes_the_fingerprint(
    actions: str, deterministic: bool
) -> None:
    from rlkit.sweep.cells import run_cell

    suite = {
        "suite": "demo",
        "defaults": {"episodes": 2, "seeds": 1},
        "envs": [{"label": "lake", "id": "FrozenLake-v1"}],
        "agents": [{"name": "recorder", "kind": f"{__name__}:recorder_kind"}],
    }
    (default,) = parse_suite(suite).cells()
    suite["agents"][0]["actions"] = actions  # type: ignore[index]
    (cell,) = parse_suite(suite).cells()
    assert cell.agent.actions == actions
    assert (cell.fingerprint() == default.fingerprint()) is (actions == "greedy")
    _Recorder.seen.clear()
    document = run_cell(cell)
    assert document["status"] == "ok", document.get("error")
    assert _Recorder.seen == {deterministic}
    assert document["result"]["metadata"]["deterministic"] is deterministic
