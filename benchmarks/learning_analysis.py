"""The numbers of ``learning.py``: learning curves from the suite's cell files, their
IQMs and bootstrap CIs, issue #14's targets, the per-encoder BC verdict, bottleneck
adapters against LoRA (issue #16) and the held-out check.

:func:`analyse` makes them all, JSON-ready; :mod:`learning_report` turns them into
the report's markdown and plots.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rlkit.evaluation import iqm, stratified_bootstrap_ci
from rlkit.sweep.cells import cell_path, cell_result, curve_point, read_cell
from rlkit.sweep.suite import Cell, Suite

#: Issue #14's targets: (env label, agent name, metric, at least, what it asks).
TARGETS = (
    ("fourrooms-pixels", "dagger", "success", 0.97, "DAgger, four rooms, <= 5 min training"),
    ("fourrooms-pixels", "dagger", "spl", 0.95, "DAgger, four rooms, <= 5 min training"),
    ("gridnav-pixels", "dagger-maps", "success", 0.90, "DAgger, a new random map every episode"),
    ("armreach-pixels", "dagger-arm", "success", 0.90, "DAgger, ArmReach pixels"),
    (
        "armreach-obstacles-pixels",
        "dagger-arm-cspace",
        "success",
        0.80,
        "DAgger, ArmReachObstacles, sampled actions",
    ),
    ("fourrooms-pixels", "ppo", "success", 0.90, "PPO, four rooms, <= 1M env steps"),
    ("armreach-dict", "sac-her", "success", 0.90, "SAC + HER, ArmReach dict obs"),
)
#: BC agents are named bc-<encoder>-d<demos>.
BC_NAME = re.compile(r"^bc-(?P<encoder>[a-z]+)-d(?P<demos>\d+)$")
ENCODERS = ("scratch", "shift", "frozen", "full", "lora", "adapter")
#: The encoder the pretrained ones are measured against: scratch + random shift, the
#: strong from-scratch baseline of Hansen et al. 2022 (as in the headline experiment).
BASELINE = "shift"
PRETRAINED = ("frozen", "full", "lora", "adapter")
METRICS = ("success", "spl")
#: The success level of "demos needed to reach".
REACH = 0.8
#: Issue #16: adapters reach at least this fraction of LoRA's area under the BC curve,
#: with at most LoRA's trainable parameters.
ADAPTER_TARGET = 0.9


def finished_cells(suite: Suite, folder: Path) -> list[tuple[Cell, dict[str, Any]]]:
    """(cell, document) of every cell that finished without error."""
    done = []
    for cell in suite.cells():
        document = read_cell(cell_path(folder, cell.name))
        if document is not None and document.get("status") == "ok":
            done.append((cell, document))
    return done


def final_point(document: dict[str, Any]) -> dict[str, Any]:
    """Per-seed means of a cell's final evaluation (as ``eval_curve`` points)."""
    return curve_point(cell_result(document))


def curves(suite: Suite, folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """``(env label, curve name) -> {"x_label", "points": {x: {metric: [per seed]}}}``.

    BC agents ``bc-<encoder>-d<N>`` make one curve per encoder over ``N``; a cell with
    an ``eval_curve`` (DAgger, PPO/SAC with ``curve_points``) makes its own over its
    checkpoints; other agents (planner, random) are one point at ``x = 0``.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for cell, document in finished_cells(suite, folder):
        train = document.get("train") or {}
        match = BC_NAME.match(cell.agent.name)
        if match:
            name, x_label = f"bc-{match['encoder']}", "planner demos"
            demos: Any = cell.agent.kwargs.get("demos", match["demos"])
            points = [(int(demos), final_point(document))]
        elif train.get("eval_curve"):
            name, x_label = cell.agent.name, train.get("curve_x") or "x"
            points = [(int(p["x"]), p) for p in train["eval_curve"]]
        else:
            name, x_label = cell.agent.name, "final"
            points = [(0, final_point(document))]
        curve = out.setdefault((cell.env.label, name), {"x_label": x_label, "points": {}})
        for x, point in points:
            slot = curve["points"].setdefault(x, {m: [] for m in (*METRICS, "seeds")})
            slot["seeds"].append(cell.seed)
            for metric in METRICS:
                slot[metric].append(point.get(metric))
    return out


def summarise(values: Sequence[float | None], resamples: int) -> dict[str, Any]:
    """IQM and 95% stratified-bootstrap CI over seeds (one task)."""
    scores = np.array([v for v in values if v is not None], dtype=float)
    if scores.size == 0:
        return {"iqm": None, "ci": None, "n": 0}
    if scores.size == 1 or np.all(scores == scores[0]):
        ci = (float(scores[0]), float(scores[0])) if np.all(scores == scores[0]) else None
        return {"iqm": float(iqm(scores)), "ci": ci, "n": int(scores.size)}
    ci = stratified_bootstrap_ci(scores, iqm, n_resamples=resamples)
    return {"iqm": float(iqm(scores)), "ci": [float(ci[0]), float(ci[1])], "n": int(scores.size)}


def reach_x(xs: Sequence[int], curve: np.ndarray, level: float) -> float:
    """The first x whose value is >= ``level``; inf when the curve never gets there."""
    hits = np.nonzero(curve >= level)[0]
    return float(xs[hits[0]]) if hits.size else float("inf")


def seed_matrix(curve: dict[str, Any]) -> tuple[list[int], list[int], np.ndarray]:
    """``(xs, seeds, seeds x xs success matrix)`` of a curve, over the seeds that have
    every point."""
    xs = sorted(curve["points"])
    per_seed: dict[int, list[float]] = {}
    for x in xs:
        slot = curve["points"][x]
        for s, value in zip(slot["seeds"], slot["success"], strict=True):
            per_seed.setdefault(s, [np.nan] * len(xs))[xs.index(x)] = value
    seeds = sorted(s for s, row in per_seed.items() if not np.any(np.isnan(row)))
    return xs, seeds, np.array([per_seed[s] for s in seeds]).reshape(len(seeds), len(xs))


def area(matrix: np.ndarray) -> float:
    """Area under the learning curve: the mean over x of the IQM over seeds."""
    return float(np.mean([iqm(matrix[:, j]) for j in range(matrix.shape[1])]))


def area_difference(
    curve: dict[str, Any], baseline: dict[str, Any], resamples: int, seed: int = 0
) -> dict[str, Any] | None:
    """Area of ``curve`` minus the baseline's, with a paired bootstrap 95% CI.

    Paired by seed: a seed's BC cells train on the same demos (the same reset seeds)
    whatever the encoder, so seeds are resampled together for both curves.
    """
    xs, seeds, matrix = seed_matrix(curve)
    base_xs, base_seeds, base = seed_matrix(baseline)
    common = sorted(set(seeds) & set(base_seeds))
    if xs != base_xs or len(common) < 2:
        return None
    a = matrix[[seeds.index(s) for s in common]]
    b = base[[base_seeds.index(s) for s in common]]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        rows = rng.integers(0, len(common), len(common))
        draws.append(area(a[rows]) - area(b[rows]))
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"difference": area(a) - area(b), "ci": [float(low), float(high)], "seeds": len(common)}


def encoder_verdict(curve: dict[str, Any], resamples: int, seed: int = 0) -> dict[str, Any] | None:
    """Area under a BC curve and demos to reach 0.8, with bootstrap CIs over seeds.

    Seeds are resampled with replacement (the same seeds at every demos count, as a
    seed's cells share their demos' reset seeds); each resample gives a curve of IQMs.
    """
    xs, seeds, matrix = seed_matrix(curve)  # seeds x demos counts
    if len(seeds) < 2 or len(xs) < 2:
        return None
    point_curve = np.array([iqm(matrix[:, j]) for j in range(len(xs))])
    rng = np.random.default_rng(seed)
    areas, reaches = [], []
    for _ in range(resamples):
        sample = matrix[rng.integers(0, len(seeds), len(seeds))]
        resampled = np.array([iqm(sample[:, j]) for j in range(len(xs))])
        areas.append(resampled.mean())
        reaches.append(reach_x(xs, resampled, REACH))
    return {
        "demos": xs,
        "seeds": len(seeds),
        "auc": float(point_curve.mean()),
        "auc_ci": [float(np.percentile(areas, 2.5)), float(np.percentile(areas, 97.5))],
        "reach": reach_x(xs, point_curve, REACH),
        # Percentiles that pick a resample's value (some are inf: never reached).
        "reach_ci": [float(np.percentile(reaches, q, method="inverted_cdf")) for q in (2.5, 97.5)],
    }


def analyse(suite: Suite, folder: Path, resamples: int) -> dict[str, Any]:
    """Every number of the report, JSON-ready."""
    raw = curves(suite, folder)
    summary: dict[str, Any] = {}
    for (env, name), curve in sorted(raw.items()):
        rows = []
        for x in sorted(curve["points"]):
            slot = curve["points"][x]
            rows.append({"x": x, **{m: summarise(slot[m], resamples) for m in METRICS}})
        summary.setdefault(env, {})[name] = {"x_label": curve["x_label"], "points": rows}
    return {
        "curves": summary,
        "targets": targets(summary, train_seconds(suite, folder)),
        "encoders": encoder_verdicts(raw, resamples),
        "adapter_vs_lora": adapter_vs_lora(raw, trainable_counts(suite), resamples),
        "held_out": held_out_check(suite, folder),
    }


def train_seconds(suite: Suite, folder: Path) -> dict[tuple[str, str], list[float]]:
    """``(env label, agent name) -> training wall times`` of the finished cells."""
    seconds: dict[tuple[str, str], list[float]] = {}
    for cell, document in finished_cells(suite, folder):
        spent = (document.get("train") or {}).get("wall_time_s")
        if spent is not None:
            seconds.setdefault((cell.env.label, cell.agent.name), []).append(spent)
    return seconds


def targets(
    summary: dict[str, Any], spent: dict[tuple[str, str], list[float]]
) -> list[dict[str, Any]]:
    """Each of :data:`TARGETS` against the last point of its curve."""
    rows = []
    for env, name, metric, level, what in TARGETS:
        points = summary.get(env, {}).get(name, {}).get("points", [])
        seconds = spent.get((env, name))
        floor = summary.get(env, {}).get("random", {}).get("points", [])
        last = points[-1] if points else None
        measured = last[metric] if last else None
        rows.append(
            {
                "what": what,
                "env": env,
                "agent": name,
                "metric": metric,
                "target": level,
                "at": last["x"] if last else None,
                "train_seconds": None if not seconds else [min(seconds), max(seconds)],
                "random": floor[0][metric]["iqm"] if floor else None,
                "measured": None if measured is None else measured["iqm"],
                "ci": None if measured is None else measured["ci"],
                "met": None
                if measured is None or measured["iqm"] is None
                else bool(measured["iqm"] >= level),
            }
        )
    return rows


def encoder_verdicts(
    raw: dict[tuple[str, str], dict[str, Any]], resamples: int
) -> dict[str, dict[str, Any]]:
    """:func:`encoder_verdict` of each encoder's BC curve on four rooms, the pretrained
    ones with their :func:`area_difference` from the baseline's."""
    encoders = {}
    baseline = raw.get(("fourrooms-pixels", f"bc-{BASELINE}"))
    for encoder in ENCODERS:
        curve = raw.get(("fourrooms-pixels", f"bc-{encoder}"))
        verdict = None if curve is None else encoder_verdict(curve, resamples)
        if curve is not None and verdict is not None:
            if baseline is not None and encoder in PRETRAINED:
                verdict["vs_baseline"] = area_difference(curve, baseline, resamples)
            encoders[encoder] = verdict
    return encoders


def trainable_counts(suite: Suite) -> dict[str, dict[str, int]]:
    """``encoder -> {"backbone", "policy", "total"}`` parameter counts of the BC student
    of ``bc-lora-*`` and ``bc-adapter-*`` on four rooms (trainable in the backbone:
    the adapters; trainable in the whole policy, heads included; all), built as the
    cell builds it (rlkit.deep.student.make_student with behaviour_cloning's defaults
    and the cell's kwargs)."""
    import inspect

    from rlkit.deep.adapters import parameter_counts
    from rlkit.deep.distill import behaviour_cloning
    from rlkit.deep.policies import backbone_extractors
    from rlkit.deep.student import DistillOptions, make_student

    defaults = {
        name: p.default
        for name, p in inspect.signature(behaviour_cloning).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    counts = {}
    for encoder in ("lora", "adapter"):
        cell = next(
            (c for c in suite.cells()
             if c.env.label == "fourrooms-pixels" and (m := BC_NAME.match(c.agent.name))
             and m["encoder"] == encoder),
            None,
        )  # fmt: skip
        if cell is None:
            continue
        arguments = {**defaults, **cell.agent.kwargs, "env_kwargs": dict(cell.env.kwargs)}
        model = make_student(cell.env.id, DistillOptions.of({**arguments, "device": "cpu"}))
        policy = parameter_counts(model.policy)
        backbone = sum(
            p.numel() for e in backbone_extractors(model.policy) for p in e.backbone_parameters()
        )
        counts[encoder] = {"backbone": backbone, "policy": policy.trainable, "total": policy.total}
        env = model.get_env()
        if env is not None:
            env.close()
    return counts


def adapter_vs_lora(
    raw: dict[tuple[str, str], dict[str, Any]],
    counts: dict[str, dict[str, int]],
    resamples: int,
) -> dict[str, Any] | None:
    """Issue #16's comparison on four rooms: the area under the adapter's BC curve
    against LoRA's (paired by seed, :func:`area_difference`), their ratio, the success
    at the largest demos count, the trainable parameters, and whether the adapters
    reach :data:`ADAPTER_TARGET` x LoRA's area with at most LoRA's trainable
    parameters (in the backbone and in the whole policy)."""
    lora = raw.get(("fourrooms-pixels", "bc-lora"))
    adapter = raw.get(("fourrooms-pixels", "bc-adapter"))
    if lora is None or adapter is None or not {"lora", "adapter"} <= counts.keys():
        return None
    diff = area_difference(adapter, lora, resamples)
    if diff is None:
        return None
    xs, _, adapter_matrix = seed_matrix(adapter)
    _, _, lora_matrix = seed_matrix(lora)
    areas = {"adapter": area(adapter_matrix), "lora": area(lora_matrix)}
    ratio = areas["adapter"] / areas["lora"] if areas["lora"] > 0 else float("inf")
    fewer = all(counts["adapter"][k] <= counts["lora"][k] for k in ("backbone", "policy"))
    return {
        "area": areas,
        "difference": diff,
        "ratio": ratio,
        "demos": xs[-1],
        "final": {
            "adapter": float(iqm(adapter_matrix[:, -1])),
            "lora": float(iqm(lora_matrix[:, -1])),
        },
        "trainable": counts,
        "target": ADAPTER_TARGET,
        "met": bool(ratio >= ADAPTER_TARGET and fewer),
    }


def held_out_check(suite: Suite, folder: Path) -> dict[str, Any]:
    """How held out the evaluation episodes of BC and DAgger cells were.

    Those cells train on episodes reset with seeds ``seed .. seed + episodes - 1``
    (rlkit.deep.distill) and evaluate on SeedSequence-derived reset seeds (recorded in
    each cell). Counted per env: evaluation episodes whose reset seed was a training one
    (goal: none), and those whose first frame equals a training episode's first frame --
    the same map, start and goal drawn again from another seed, which a fixed map with
    ~100 free cells allows now and then (PPO and SAC draw their training episodes from
    the env's own generator and are not checked).
    """
    import gymnasium as gym

    import envs  # noqa: F401 - registers the rlkit/ ids

    frames: dict[tuple[str, int], str] = {}
    made: dict[str, Any] = {}

    def first_frame(cell: Cell, reset_seed: int) -> str:
        key = (cell.env.label, reset_seed)
        if key not in frames:
            if cell.env.label not in made:
                made[cell.env.label] = gym.make(cell.env.id, **cell.env.kwargs)
            obs, _ = made[cell.env.label].reset(seed=reset_seed)
            frames[key] = hashlib.sha1(np.ascontiguousarray(obs).tobytes()).hexdigest()
        return frames[key]

    by_env: dict[str, dict[str, int]] = {}
    for cell, document in finished_cells(suite, folder):
        if cell.agent.kind not in ("bc", "dagger"):
            continue
        counts = by_env.setdefault(
            cell.env.label, {"episodes": 0, "same_reset_seed": 0, "same_first_frame": 0}
        )
        trained = range(cell.seed, cell.seed + int(document["train"]["info"]["episodes"]))
        seen = {first_frame(cell, s) for s in trained}
        for record in document["result"]["records"]:
            counts["episodes"] += 1
            counts["same_reset_seed"] += int(record["reset_seed"]) in trained
            counts["same_first_frame"] += first_frame(cell, int(record["reset_seed"])) in seen
    for env in made.values():
        env.close()
    return by_env
