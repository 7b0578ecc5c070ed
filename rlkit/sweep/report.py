"""The report of a suite: ``report.md`` and PNG plots, from the cell files on disk.

The per-seed results of an (agent, env) are merged across cells
(:meth:`EvalResult.merge`) and summarised by the evaluation harness: IQM over seeds with
stratified-bootstrap 95% intervals, probability of improvement over a baseline
(:func:`rlkit.evaluation.compare`), bars with intervals and learning curves
(:mod:`rlkit.evaluation.plots`). Every file is written atomically and says how it was
made (command, git commit, versions, date).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlkit.evaluation.atomic import atomic_output, atomic_write_text
from rlkit.evaluation.markdown import TITLES, format_estimate, markdown_table
from rlkit.evaluation.provenance import provenance
from rlkit.evaluation.records import DEFAULT_METRICS
from rlkit.evaluation.report import compare
from rlkit.evaluation.result import EvalResult
from rlkit.sweep.cells import CELL_STATES, cell_path, cell_result, cell_state
from rlkit.sweep.suite import Cell, EnvSpec, Suite

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["write_report"]

#: Learning-curve values plotted (keys of the curve points) and their axis labels.
_CURVES = {
    "episode_return": "training episode return",
    "episode_length": "training episode length",
}
#: Bootstrap resamples of every interval in the report (rliable's default is 2000 too).
N_RESAMPLES = 2000


def write_report(
    suite: Suite,
    folder: str | os.PathLike[str],
    *,
    command: list[str] | None = None,
    plots: bool = True,
    sections: Sequence[str] = (),
) -> Path:
    """Write ``<folder>/report.md`` (and ``<folder>/plots/*.png``) from the cell files.

    Cells not finished yet, failed, or made with other settings than the suite's are
    listed, not counted.

    Parameters
    ----------
    suite : Suite
        The suite the folder holds.
    folder : path-like
        ``<out>/<suite name>``.
    command : list of str, optional
        Recorded as the command that made the report (default ``sys.argv``).
    plots : bool
        Also draw the PNG plots (matplotlib).
    sections : sequence of str
        Markdown lines put before the per-env tables (an experiment's own findings,
        such as the headline experiment's verdict).

    Returns
    -------
    pathlib.Path
        The report's path.
    """
    folder = Path(folder)
    stamp = provenance(command)
    cells = suite.cells()
    read = {c.name: cell_state(cell_path(folder, c.name), c) for c in cells}
    documents = {name: document for name, (_, document) in read.items()}
    by_state = {s: [c for c in cells if read[c.name][0] == s] for s in CELL_STATES}
    finished, failed, stale = by_state["ok"], by_state["error"], by_state["stale"]
    missing, damaged = by_state["not run"], by_state["damaged"]

    lines = [f"# Benchmark suite `{suite.name}`", ""]
    if suite.description:
        lines += [suite.description, ""]
    lines += _stamp_lines(stamp, suite)
    lines.append(
        f"- Cells: {len(finished)} of {len(cells)} finished, {len(failed)} failed, "
        f"{len(missing)} not run"
        + (f", {len(stale)} made with other settings" if stale else "")
        + (f", {len(damaged)} damaged" if damaged else "")
    )
    lines.append(
        f"- Statistics: each seed scores the mean of its episodes; tables show the IQM "
        f"over seeds with {N_RESAMPLES}-resample stratified-bootstrap 95% CIs; "
        "P(> baseline) is the probability that a seed of the row's agent beats a seed of "
        "the baseline (ties count half)"
    )
    lines.append("")

    lines += [*sections, ""] if sections else []
    merged = _merge(finished, documents)
    if merged:
        lines += _overview(suite, merged)
    for env in suite.envs:
        results = [
            merged[(a.name, env.label)] for a in suite.agents if (a.name, env.label) in merged
        ]
        if not results:
            continue
        env_cells = [c for c in finished if c.env.label == env.label]
        lines += _env_section(suite, env, results, env_cells, documents)
        if plots:
            lines += _plots(env, results, env_cells, documents, folder, stamp)
    lines += _problems(failed, stale, missing, damaged, documents)
    path = folder / "report.md"
    atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path


def _stamp_lines(stamp: dict[str, Any], suite: Suite) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in stamp["versions"].items() if v is not None)
    commit = stamp.get("git_commit")
    if commit:
        versions += f", commit {commit[:10]}" + (
            " (uncommitted changes)" if stamp.get("git_dirty") else ""
        )
    return [
        f"- Command: `{stamp['command']}`",
        f"- Made with: {versions}, Python {stamp['python']}",
        f"- Date: {stamp['date']}",
        f"- Suite file: `{suite.source}`",
    ]


def _stamp_text(stamp: dict[str, Any]) -> str:
    commit = (stamp.get("git_commit") or "no git")[:10] + ("+" if stamp.get("git_dirty") else "")
    rlkit = stamp["versions"].get("rlkit")
    return f"{stamp['command']} | commit {commit} | rlkit {rlkit} | {stamp['date']}"


def _merge(
    finished: list[Cell], documents: dict[str, dict[str, Any] | None]
) -> dict[tuple[str, str], EvalResult]:
    """One result per (agent, env label): the per-seed results of its cells merged."""
    parts: dict[tuple[str, str], list[EvalResult]] = {}
    for cell in finished:
        document = documents[cell.name]
        assert document is not None
        parts.setdefault((cell.agent.name, cell.env.label), []).append(cell_result(document))
    return {key: EvalResult.merge(results) for key, results in parts.items()}


def _overview(suite: Suite, merged: dict[tuple[str, str], EvalResult]) -> list[str]:
    """Agents x envs: success rate IQM (return where the env reports no success)."""
    header = ["Agent"]
    columns: list[tuple[EnvSpec, str]] = []
    for env in suite.envs:
        results = [r for (_, label), r in merged.items() if label == env.label]
        if not results:
            continue
        has_success = any(
            r.summary(["success"], n_resamples=10)["success"].available for r in results
        )
        metric = "success" if has_success else "return"
        columns.append((env, metric))
        header.append(f"{env.label} ({TITLES[metric].lower()})")
    rows = []
    for agent in suite.agents:
        row = [agent.name]
        for env, metric in columns:
            result = merged.get((agent.name, env.label))
            if result is None:
                row.append("n/a")
                continue
            s = result.summary([metric], n_resamples=N_RESAMPLES)[metric]
            row.append(format_estimate(s.iqm, s.iqm_ci, digits=2) if s.available else "n/a")
        rows.append(row)
    return ["## Overview: IQM [95% CI]", "", _table(header, rows), ""]


def _env_section(
    suite: Suite,
    env: EnvSpec,
    results: list[EvalResult],
    cells: list[Cell],
    documents: dict[str, dict[str, Any] | None],
) -> list[str]:
    """The tables of one env: the comparison of its agents, and their training."""
    kwargs = ", ".join(f"{k}={_short(v)}" for k, v in env.kwargs.items())
    title = f"## {env.label}: `{env.id}`" + (f" ({kwargs})" if kwargs else "")
    lines = [title, ""]
    if env.max_steps is not None:
        lines += [f"Evaluation episodes are cut after {env.max_steps} steps.", ""]
    names = [r.agent for r in results]
    baseline = names.index(suite.baseline) if suite.baseline in names else 0
    table = compare(results, DEFAULT_METRICS, baseline=baseline, n_resamples=N_RESAMPLES)
    lines += [table.rstrip(), ""]

    training = _training_rows(suite, cells, documents)
    if training:
        header = [
            "Agent",
            "Seeds",
            "Train steps",
            "Train episodes",
            "Train time (s)",
            "Eval time (s)",
            "Last training return",
        ]
        lines += ["Training (mean over seeds):", "", _table(header, training), ""]
    return lines


def _training_rows(
    suite: Suite, cells: list[Cell], documents: dict[str, dict[str, Any] | None]
) -> list[list[object]]:
    rows: list[list[object]] = []
    for agent in suite.agents:
        trains = [documents[c.name] for c in cells if c.agent.name == agent.name]
        train = [d["train"] for d in trains if d is not None and d["train"]["steps"] is not None]
        if not train:
            continue
        ends = [t["learning_curve"][-1] for t in train if t["learning_curve"]]
        last = [e["episode_return"] for e in ends if e.get("episode_return") is not None]
        evals = [d["eval_wall_time_s"] for d in trains if d is not None]
        rows.append(
            [
                agent.name,
                len(train),
                f"{_mean([t['steps'] for t in train]):.0f}",
                f"{_mean([t['episodes'] or 0 for t in train]):.0f}",
                f"{_mean([t['wall_time_s'] or 0.0 for t in train]):.2f}",
                f"{_mean(evals):.2f}",
                f"{_mean(last):.3f}" if last else "n/a",
            ]
        )
    return rows


def _plots(
    env: EnvSpec,
    results: list[EvalResult],
    cells: list[Cell],
    documents: dict[str, dict[str, Any] | None],
    folder: Path,
    stamp: dict[str, Any],
) -> list[str]:
    """The plots of one env, saved under ``<folder>/plots``: their markdown links."""
    from rlkit.evaluation.plots import plot_comparison, plot_learning_curves

    links = []
    for metric in DEFAULT_METRICS:
        shown = [r for r in results if r.summary([metric], n_resamples=10)[metric].available]
        if not shown:
            continue
        title = f"{env.label}: {TITLES[metric]} (IQM, 95% CI)"
        figure = plot_comparison(shown, metric, n_resamples=N_RESAMPLES, title=title)
        name = f"{env.label}__{metric}.png"
        links.append(_plot_link(figure, folder, name, f"{TITLES[metric]} on {env.label}", stamp))
    for key, ylabel in _CURVES.items():
        curves = _learning_curves(cells, documents, key)
        if not curves:
            continue
        title = f"{env.label}: learning curves (mean, min-max over seeds)"
        figure = plot_learning_curves(curves, ylabel=ylabel, title=title)
        name = f"{env.label}__learning_{key.removeprefix('episode_')}.png"
        alt = f"{ylabel.capitalize()} on {env.label}"
        links.append(_plot_link(figure, folder, name, alt, stamp))
    return [" ".join(links), ""] if links else []


def _learning_curves(
    cells: list[Cell], documents: dict[str, dict[str, Any] | None], key: str
) -> dict[str, list[tuple[float, float]]]:
    """``(step, value of key)`` of every learning-curve point of the cells, per agent."""
    curves: dict[str, list[tuple[float, float]]] = {}
    for cell in cells:
        document = documents[cell.name]
        points = ((document or {}).get("train") or {}).get("learning_curve") or []
        for point in points:
            if point.get(key) is not None:
                pair = (float(point["step"]), float(point[key]))
                curves.setdefault(cell.agent.name, []).append(pair)
    return curves


def _plot_link(figure: Figure, folder: Path, name: str, alt: str, stamp: dict[str, Any]) -> str:
    """Save ``figure`` as ``<folder>/plots/<name>``; its markdown image link."""
    _save(figure, folder / "plots" / name, stamp)
    return f"![{alt}](plots/{name})"


def _save(figure: Figure, path: Path, stamp: dict[str, Any]) -> None:
    """Save a PNG with the provenance as a footer and as PNG text metadata."""
    text = _stamp_text(stamp)
    figure.text(0.0, 0.0, text, fontsize=6, color="0.4", ha="left", va="top")
    metadata = {
        "Software": f"rlkit {stamp['versions'].get('rlkit')}",
        "Source": stamp["command"],
        "Description": text,
        "Creation Time": stamp["date"],
    }
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata=metadata)


def _problems(
    failed: list[Cell],
    stale: list[Cell],
    missing: list[Cell],
    damaged: list[Cell],
    documents: dict[str, dict[str, Any] | None],
) -> list[str]:
    lines: list[str] = []
    if failed:
        rows: list[list[object]] = []
        for cell in failed:
            error = (documents[cell.name] or {}).get("error")
            error = error if isinstance(error, dict) else {}
            rows.append([cell.name, f"{error.get('type', '?')}: {error.get('message', '')}"])
        lines += [
            "## Failed cells",
            "",
            "Tracebacks are in `cells/<cell>.json`; a rerun retries these cells.",
            "",
            _table(["Cell", "Error"], rows, align="ll"),
            "",
        ]
    if stale or missing or damaged:
        lines += ["## Cells without results", ""]
        if missing:
            lines.append(f"- Not run yet ({len(missing)}): {_names(missing)}")
        if stale:
            lines.append(
                f"- Made with other settings, rerun to refresh ({len(stale)}): {_names(stale)}"
            )
        if damaged:
            lines.append(
                f"- Damaged files (cut short, edited or not this cell's), not trusted; rerun "
                f"to redo them ({len(damaged)}): {_names(damaged)}"
            )
        lines.append("")
    return lines


def _names(cells: Sequence[Cell], limit: int = 12) -> str:
    shown = ", ".join(f"`{c.name}`" for c in cells[:limit])
    return shown + (f" and {len(cells) - limit} more" if len(cells) > limit else "")


def _short(value: object) -> str:
    text = str(value).replace("\n", "/")
    return text if len(text) <= 40 else text[:37] + "..."


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _table(
    header: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None
) -> str:
    """A markdown table (default alignment: the first column left, the others right)."""
    return markdown_table(header, rows, align or "l" + "r" * (len(header) - 1))
