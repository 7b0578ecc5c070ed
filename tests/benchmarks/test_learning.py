"""benchmarks/learning.py: a --quick smoke run end to end, and its curve statistics."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest


def test_quick_run_writes_targets_curves_and_plots(run_suite_quick: Any) -> None:
    run = run_suite_quick("learning.py")
    assert "## Targets (issue #14)" in run.stdout
    assert (
        "| target | env | agent | metric | at | measured IQM | 95% CI | met | random | train s |"
        in run.report
    )
    assert "## Held-out evaluation" in run.report
    data = run.json("learning.json")
    curves = data["curves"]["fourrooms-pixels"]
    # DAgger: one point per round (0 = behaviour cloning); PPO: its snapshots.
    assert [p["x"] for p in curves["dagger"]["points"]] == [0, 1]
    assert curves["dagger"]["x_label"] == "DAgger round"
    assert [p["x"] for p in curves["ppo"]["points"]] == [128, 256]
    assert [p["x"] for p in curves["bc-frozen"]["points"]] == [2]  # the demos it had
    assert curves["planner"]["points"][0]["success"]["iqm"] == 1.0
    held = data["held_out"]["fourrooms-pixels"]
    assert held["episodes"] == 4 and held["same_reset_seed"] == 0
    assert 0 <= held["same_first_frame"] <= 4
    by_agent = {(t["agent"], t["metric"]): t for t in data["targets"]}
    assert by_agent[("dagger", "success")]["at"] == 1
    assert by_agent[("sac-her", "success")]["met"] is None  # not in the quick run
    assert (run.folder / "learning_fourrooms-pixels.png").stat().st_size > 0


@pytest.fixture(scope="module")
def learning(load_script: Any) -> ModuleType:
    return load_script("learning.py")


def bc_curve(per_seed: dict[int, list[float]], demos: list[int]) -> dict[str, Any]:
    """The ``curves()`` layout of a BC curve from per-seed success rates."""
    points = {}
    for j, x in enumerate(demos):
        seeds = sorted(per_seed)
        points[x] = {
            "seeds": seeds,
            "success": [per_seed[s][j] for s in seeds],
            "spl": [per_seed[s][j] for s in seeds],
        }
    return {"x_label": "planner demos", "points": points}


def test_encoder_verdict_area_and_demos_to_reach(learning: ModuleType) -> None:
    demos = [10, 25, 50, 100]
    same = {s: [0.2, 0.5, 0.85, 1.0] for s in range(5)}  # every seed alike: no spread
    verdict = learning.encoder_verdict(bc_curve(same, demos), resamples=200)
    assert verdict["auc"] == pytest.approx(np.mean([0.2, 0.5, 0.85, 1.0]))
    assert verdict["auc_ci"] == pytest.approx([verdict["auc"]] * 2)
    assert verdict["reach"] == 50 and verdict["reach_ci"] == [50, 50]
    never = {s: [0.1, 0.2, 0.3, 0.4 + 0.05 * s] for s in range(5)}
    verdict = learning.encoder_verdict(bc_curve(never, demos), resamples=200)
    assert verdict["reach"] == float("inf")
    low, high = verdict["auc_ci"]
    assert low < verdict["auc"] < high  # seeds differ at 100 demos: a real interval


def test_reach_x_is_the_first_crossing(learning: ModuleType) -> None:
    assert learning.reach_x([1, 2, 3], np.array([0.9, 0.1, 0.95]), 0.8) == 1
    assert learning.reach_x([1, 2, 3], np.array([0.1, 0.2, 0.3]), 0.8) == float("inf")


def test_summarise_iqm_and_interval(learning: ModuleType) -> None:
    summary = learning.summarise([0.0, 0.5, 0.5, 1.0, None], resamples=200)
    assert summary["n"] == 4 and summary["iqm"] == pytest.approx(0.5)
    low, high = summary["ci"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    assert learning.summarise([None], resamples=10) == {"iqm": None, "ci": None, "n": 0}


def test_every_target_names_an_agent_of_the_suite(learning: ModuleType) -> None:
    from rlkit.sweep.schema import load_suite

    suite = load_suite(learning.Args.suite)
    cells = {(c.env.label, c.agent.name) for c in suite.cells()}
    for env, agent, metric, level, _ in learning.TARGETS:
        assert (env, agent) in cells and metric in learning.METRICS and 0 < level <= 1


def test_the_dagger_curve_measures_the_shipped_defaults(learning: ModuleType) -> None:
    """The suite's `dagger` agent spells out dagger()'s defaults (a cell's fingerprint
    sees only its kwargs): change one and this fails until the suite follows."""
    import inspect

    from rlkit.deep.distill import dagger
    from rlkit.sweep.schema import load_suite

    defaults = {
        name: p.default
        for name, p in inspect.signature(dagger).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    for suite in ("learning", "learning-full"):
        (agent,) = [a for a in load_suite(suite).agents if a.name == "dagger"]
        assert agent.kwargs and all(defaults[k] == v for k, v in agent.kwargs.items())


@pytest.mark.parametrize(
    ("env_id", "agent_name", "env_label"),
    [
        ("rlkit/GridNav-v0", "dagger-maps", "gridnav-pixels"),
        ("rlkit/ArmReach-v0", "dagger-arm", "armreach-pixels"),
        ("rlkit/ArmReachObstacles-v0", "dagger-arm-cspace", "armreach-obstacles-pixels"),
    ],
)
def test_rlkit_distill_env_defaults_are_what_the_suite_measured(
    env_id: str, agent_name: str, env_label: str
) -> None:
    """rlkit distill's per-env defaults (rlkit/deep/hyperparams/distill.yml) are the
    kwargs of the learning-suite cell whose numbers the README quotes for them."""
    from rlkit.deep.distill_cli import env_defaults
    from rlkit.sweep.schema import load_suite

    suite = load_suite("learning")
    (agent,) = [a for a in suite.agents if a.name == agent_name]
    (env,) = [e for e in suite.envs if e.label == env_label]
    assert env.id == env_id and env_label in agent.envs
    assert env_defaults(env_id) == agent.kwargs


@pytest.mark.parametrize("suite", ["learning", "learning-full"])
def test_every_encoder_has_the_same_bc_demos_counts(learning: ModuleType, suite: str) -> None:
    """The per-encoder comparison (adapters included, issue #16) needs every encoder's
    BC curve at the same demos counts on four rooms."""
    from rlkit.sweep.schema import load_suite

    demos: dict[str, set[int]] = {}
    for agent in load_suite(suite).agents:
        if agent.kind == "bc" and agent.envs == ("fourrooms-pixels",):
            encoder, _, count = agent.name.removeprefix("bc-").rpartition("-d")
            assert agent.kwargs["demos"] == int(count)
            demos.setdefault(encoder, set()).add(int(count))
    assert set(demos) == set(learning.ENCODERS)
    assert all(counts == demos["lora"] for counts in demos.values())
    assert {"adapter", "lora"} <= {a.kwargs.get("finetune") for a in load_suite(suite).agents}


@pytest.mark.parametrize(
    ("scale", "adapter_params", "met"),
    [(0.95, 2688, True), (0.85, 2688, False), (1.0, 5000, False)],
    ids=["within-10pc", "below-0.9x", "more-parameters"],
)
def test_adapter_vs_lora_target(
    learning: ModuleType, scale: float, adapter_params: int, met: bool
) -> None:
    demos = [10, 100, 400]
    lora = {s: [0.2, 0.6, 0.9 + 0.02 * s] for s in range(5)}
    adapter = {s: [scale * v for v in row] for s, row in lora.items()}
    raw = {
        ("fourrooms-pixels", "bc-lora"): bc_curve(lora, demos),
        ("fourrooms-pixels", "bc-adapter"): bc_curve(adapter, demos),
    }
    counts = {
        "lora": {"backbone": 4224, "policy": 29381, "total": 85926},
        "adapter": {"backbone": adapter_params, "policy": 25157 + adapter_params, "total": 1},
    }
    result = learning.adapter_vs_lora(raw, counts, resamples=200)
    assert result["ratio"] == pytest.approx(scale)
    assert result["met"] is met and result["target"] == learning.ADAPTER_TARGET == 0.9
    low, high = result["difference"]["ci"]
    assert low <= result["difference"]["difference"] <= high
    assert (high < 0) == (scale < 1)  # the same seeds, scaled: a paired CI below zero
    assert result["demos"] == 400
    assert learning.adapter_vs_lora({}, counts, resamples=10) is None
