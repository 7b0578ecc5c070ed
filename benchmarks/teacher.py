"""Teacher -> student distillation between networks (issue #16, part 2).

Per task, one teacher and ``--seeds`` students, each distilled with
:func:`rlkit.deep.distill.distil_teacher` (Hinton et al. 2015's temperature-softened KL,
on states gathered by the student as in DAgger; Rusu et al. 2016) and evaluated, with
its teacher and a random agent, on the held-out episodes of evaluation seed ``1000 +
seed`` (reset seeds from ``SeedSequence``, never a training episode's small ints):

- ``fourrooms``: ``rlkit/GridNav-Map-v0`` (``obs="pixels"``, ``max_steps=60``). The
  teacher is the pixel policy :func:`rlkit.deep.distill.dagger` trains with its
  defaults (pretrained ``rlkit-cnn-v2``, fine-tuned ``full``); the student is
  ``student_size="small"`` (a CNN from scratch), distilled with ``distil_teacher``'s
  defaults (100 teacher episodes, 6 rounds of 100, 10 epochs a round).
- ``armreach``: ``rlkit/ArmReach-v0``. The teacher is SAC + HER on ``obs="dict"`` (the
  ``sac-her`` cell of ``benchmarks/suites/learning.yaml``: 30k steps); the student sees
  only pixels (``student_size="tiny"``, the size under a quarter of SAC's actor), its
  states stepped in a second, synchronised copy of the env for the teacher; 50 teacher
  episodes and 2 rounds of 25 (episodes of a failing student run to 200 steps).

Budget (a 2-core CPU shared with other jobs): each task trains ONE teacher (seed
``--teacher-seed``), cached in ``--cache`` and reused by every student seed and by
later runs; the students differ by seed (init, states, minibatches). Per seed: teacher,
student and random success on ``--episodes`` held-out episodes; the ratio
student/teacher of the same episodes; IQM over seeds with 95% stratified-bootstrap CIs
(:mod:`rlkit.evaluation.metrics`). Parameters count what each network uses to act
(:func:`rlkit.deep.teacher.acting_parameters`); inference speed-up is the median time of
a batched forward pass (``--batch`` observations) of teacher over student, timed in the
same run on one torch thread. Target: student >= 0.95x teacher success at <= 0.25x its
parameters. Each seed's numbers are written to ``OUT/cells/`` as it finishes; a rerun
skips finished seeds.

    python benchmarks/teacher.py                  # both tasks (teachers cached after)
    python benchmarks/teacher.py --tasks fourrooms
    python benchmarks/teacher.py --quick --out /tmp/teacher   # smoke test
"""

from __future__ import annotations

import json
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scripting import machine, markdown_table, parse_dataclass, progress, write_json_atomic

from rlkit.atomic import atomic_write_text

#: Per task: env, the student's env kwargs, the teacher's, the student size and budget.
TASKS: dict[str, dict[str, Any]] = {
    "fourrooms": {
        "env_id": "rlkit/GridNav-Map-v0",
        "env_kwargs": {"max_steps": 60},
        "teacher": "dagger",
        "teacher_env_kwargs": {"obs": "pixels", "max_steps": 60},
        "student_size": "small",
        "distil": {},  # distil_teacher's defaults: 100 demos, 6 rounds of 100 episodes
    },
    "armreach": {
        "env_id": "rlkit/ArmReach-v0",
        "env_kwargs": {},
        "teacher": "sac-her",
        "teacher_env_kwargs": {"obs": "dict"},
        "student_size": "tiny",
        # Episodes run to 200 steps while the student fails: a smaller budget of states.
        "distil": {"demos": 50, "iterations": 2, "rollouts_per_iteration": 25},
    },
}
TARGET_RATIO, TARGET_PARAMETERS = 0.95, 0.25
#: Why a task may miss the target, shown under the table when it does ({} from its row).
DIAGNOSIS = {
    "armreach": (
        "The pixel student stays near the random floor ({student} against random {random}) "
        "although its teacher succeeds ({teacher}): success needs the end effector within "
        "5% of the reach of the goal, read from 64x64 frames by a CNN of a few thousand "
        "parameters, while the teacher reads both positions as numbers. The labels are not "
        "the cause: DAgger students with planner labels and the full pretrained CNN also "
        "stayed near the floor (benchmarks/results/learning/report.md, dagger-arm). The "
        "pixel student is also slower than the state teacher's MLP (speed-up below 1): "
        "fewer parameters, but convolutions over 64x64 frames instead of a 12-number input."
    ),
}
#: SAC + HER on ArmReach dict observations: the sac-her cell of suites/learning.yaml.
SAC_HER = {
    "replay_buffer_class": "HerReplayBuffer",
    "replay_buffer_kwargs": {"n_sampled_goal": 4, "goal_selection_strategy": "future"},
}


DEFAULT_OUT, DEFAULT_CACHE = "benchmarks/results/teacher", "runs/teacher-cache"


@dataclass
class Args:
    tasks: list[str] = field(default_factory=lambda: ["fourrooms", "armreach"])
    """tasks to run (fourrooms, armreach)"""
    seeds: int = 5
    """student seeds 0 .. SEEDS-1, each evaluated on evaluation seed 1000 + seed"""
    episodes: int = 20
    """held-out evaluation episodes per seed (teacher, student and random alike)"""
    temperature: float = 3.0
    """temperature T of the distillation loss"""
    teacher_seed: int = 0
    """seed of the one teacher per task"""
    sac_steps: int = 30000
    """SAC + HER teacher's env steps (armreach)"""
    batch: int = 256
    """observations per timed forward pass"""
    repeats: int = 30
    """timed forward passes per network (the median counts)"""
    threads: int = 1
    """torch threads"""
    cache: str = DEFAULT_CACHE
    """folder of the trained teachers, reused when present (--quick: OUT/cache)"""
    out: str = DEFAULT_OUT
    """results folder: report.md, teacher.json, cells/"""
    resamples: int = 2000
    """bootstrap resamples of every interval"""
    quick: bool = False
    """smoke test: tiny teachers and students, 2 seeds, 3 episodes"""


#: --quick: a toy budget, and never the committed results (a temporary folder unless --out).
QUICK: dict[str, Any] = {
    "seeds": 2, "episodes": 3, "sac_steps": 300, "batch": 8, "repeats": 2, "resamples": 100,
    "out": lambda out: tempfile.mkdtemp(prefix="teacher-quick-") if out == DEFAULT_OUT else out,
}  # fmt: skip
#: --quick: the distillation and the DAgger teacher at a toy budget.
QUICK_DISTIL = {"demos": 2, "iterations": 1, "rollouts_per_iteration": 2, "epochs": 1}


def train_teacher(task: str, spec: dict[str, Any], args: Args) -> tuple[Path, dict[str, Any]]:
    """The task's teacher ``.zip`` (trained now, or found in the cache) and its JSON
    record: the seconds its training took, its seed and how it was made."""
    suffix = "-quick" if args.quick else ""
    path = Path(args.cache) / f"{task}-{spec['teacher']}-seed{args.teacher_seed}{suffix}.zip"
    about = path.with_suffix(".json")
    if path.is_file() and about.is_file():
        return path, dict(json.loads(about.read_text()))
    started = time.perf_counter()
    if spec["teacher"] == "dagger":
        from rlkit.deep.distill import dagger

        budget: dict[str, Any] = dict(QUICK_DISTIL) if args.quick else {}
        result = dagger(spec["env_id"], seed=args.teacher_seed, device="cpu",
                        env_kwargs=spec["env_kwargs"], progress_bar=True, **budget)  # fmt: skip
        result.save(path)
    else:
        from rlkit.deep.trainer import train

        trained = train("sac", spec["env_id"], total_steps=args.sac_steps, seed=args.teacher_seed,
                        device="cpu", env_kwargs=spec["teacher_env_kwargs"], hyperparams=SAC_HER,
                        tensorboard=False, progress_bar=True)  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        trained.model.save(path)
    record = {"task": task, "seconds": time.perf_counter() - started, "seed": args.teacher_seed}
    write_json_atomic(about, record)
    return path, record


def success(
    agent: Any, spec: dict[str, Any], env_kwargs: dict[str, Any], seed: int, args: Args
) -> float:
    """Share of the held-out episodes of evaluation seed ``1000 + seed`` that succeed."""
    from rlkit.evaluation import evaluate

    kwargs = {**spec["env_kwargs"], **env_kwargs}
    result = evaluate(agent, spec["env_id"], episodes=args.episodes, seeds=[1000 + seed],
                      env_kwargs=kwargs, progress_bar=False)  # fmt: skip
    return float(np.mean([record.success for record in result.records]))


def forward_seconds(model: Any, args: Args) -> float:
    """Median seconds of one batched greedy forward pass (observation -> action)."""
    import torch

    space = model.observation_space
    space.seed(0)
    samples = [space.sample() for _ in range(args.batch)]
    batch: Any = (
        {k: np.stack([s[k] for s in samples]) for k in samples[0]}
        if isinstance(samples[0], dict)
        else np.stack(samples)
    )
    policy = model.policy
    obs, _ = policy.obs_to_tensor(batch)
    times = []
    with torch.no_grad():
        for i in range(args.repeats + 3):  # 3 warm-up passes
            started = time.perf_counter()
            policy._predict(obs, deterministic=True)
            if i >= 3:
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_seed(
    task: str, spec: dict[str, Any], teacher: Path, seed: int, args: Args
) -> dict[str, Any]:
    """Distil one student and evaluate it, its teacher and a random agent."""
    from rlkit.deep.distill import distil_teacher
    from rlkit.deep.teacher import load_teacher

    budget = QUICK_DISTIL if args.quick else spec["distil"]
    result = distil_teacher(
        teacher, spec["env_id"], temperature=args.temperature, student_size=spec["student_size"],
        seed=seed, device="cpu", env_kwargs=spec["env_kwargs"],
        teacher_env_kwargs={**spec["env_kwargs"], **spec["teacher_env_kwargs"]}, **budget,
    )  # fmt: skip
    teacher_model = load_teacher(teacher, device="cpu").model
    teacher_time, student_time = (
        forward_seconds(teacher_model, args),
        forward_seconds(result.model, args),
    )
    summary = result.summary()
    return {
        "task": task,
        "seed": seed,
        "evaluation_seed": 1000 + seed,
        "teacher_success": success(teacher_model, spec, spec["teacher_env_kwargs"], seed, args),
        "student_success": success(result.model, spec, {"obs": "pixels"}, seed, args),
        "random_success": success("random", spec, {"obs": "pixels"}, seed, args),
        "teacher_parameters": summary["teacher_parameters"],
        "student_parameters": summary["student_parameters"],
        "teacher_forward_s": teacher_time,
        "student_forward_s": student_time,
        "distil_seconds": summary["seconds"],
        "states": summary["samples"],
        "loss_first": summary["loss_first"],
        "loss_last": summary["loss_last"],
        "teacher_rollout_success": summary["teacher_success_rate"],
    }


def interval(values: list[float], args: Args) -> dict[str, float]:
    """IQM and its 95% stratified-bootstrap CI over seeds."""
    from rlkit.evaluation.metrics import iqm, stratified_bootstrap_ci

    scores = np.asarray(values, dtype=float)[:, None]
    low, high = stratified_bootstrap_ci(scores, iqm, n_resamples=args.resamples)
    return {"iqm": float(iqm(scores)), "low": float(low), "high": float(high)}


def aggregate(
    task: str, cells: list[dict[str, Any]], teacher_seconds: float, args: Args
) -> dict[str, Any]:
    """The task's numbers over seeds: IQMs with CIs, ratios, the verdict."""
    teacher = [c["teacher_success"] for c in cells]
    student = [c["student_success"] for c in cells]
    ratios = [s / t if t > 0 else float("nan") for s, t in zip(student, teacher, strict=True)]
    finite = [r for r in ratios if np.isfinite(r)]
    params = cells[0]["student_parameters"] / cells[0]["teacher_parameters"]
    speedups = [c["teacher_forward_s"] / c["student_forward_s"] for c in cells]
    ratio = (
        interval(finite, args)
        if finite
        else {"iqm": float("nan"), "low": float("nan"), "high": float("nan")}
    )
    return {
        "task": task,
        "seeds": len(cells),
        "teacher_train_seconds": teacher_seconds,
        "teacher": interval(teacher, args),
        "student": interval(student, args),
        "random": interval([c["random_success"] for c in cells], args),
        "ratio": ratio,
        "parameter_ratio": params,
        "speedup_median": statistics.median(speedups),
        "met": bool(ratio["iqm"] >= TARGET_RATIO and params <= TARGET_PARAMETERS),
    }


def ci(entry: dict[str, float]) -> str:
    return f"{entry['iqm']:.2f} [{entry['low']:.2f}, {entry['high']:.2f}]"


def seed_row(c: dict[str, Any]) -> list[object]:
    """A row of a task's per-seed table."""
    ratio = c["student_success"] / c["teacher_success"] if c["teacher_success"] else None
    return [
        c["seed"], c["evaluation_seed"], f"{c['teacher_success']:.2f}",
        f"{c['student_success']:.2f}", f"{c['random_success']:.2f}",
        "n/a" if ratio is None else f"{ratio:.2f}", f"{1000 * c['teacher_forward_s']:.2f}",
        f"{1000 * c['student_forward_s']:.2f}", c["states"],
        f"{c['loss_first']:.3f} -> {c['loss_last']:.3f}", f"{c['distil_seconds']:.0f}",
    ]  # fmt: skip


def target_row(row: dict[str, Any], first: dict[str, Any]) -> list[object]:
    """A row of the targets table."""
    counts = f"{first['student_parameters']:,} / {first['teacher_parameters']:,}"
    return [
        row["task"], ci(row["teacher"]), ci(row["student"]), ci(row["random"]), ci(row["ratio"]),
        f"{counts} = {row['parameter_ratio']:.3f}", f"{row['speedup_median']:.2f}x",
        "yes" if row["met"] else "**no**",
    ]  # fmt: skip


def report(
    args: Args,
    rows: list[dict[str, Any]],
    cells: dict[str, list[dict[str, Any]]],
    about: dict[str, Any],
) -> str:
    """The markdown report."""
    versions = ", ".join(
        f"{k} {about.get(k)}" for k in ("torch", "stable-baselines3", "gymnasium", "numpy")
    )
    lines = [
        "# Teacher -> student distillation (issue #16, part 2)",
        "",
        " ".join((__doc__ or "").split("\n\n")[1].split()),
        "",
        f"- Command: `{shlex.join(['python', 'benchmarks/teacher.py', *sys.argv[1:]])}`",
        f"- Made with: {versions}, Python {about['python']}, commit {about['git_commit']}",
        f"- Machine: {about['cpu']} ({about['cpus']} CPUs, load {about['load_1min']} at the "
        f"end), {args.threads} torch thread(s); date {about['date']}",
        f"- Budget: one teacher per task (seed {args.teacher_seed}; trained in "
        + ", ".join(f"{r['task']} {r['teacher_train_seconds']:.0f} s" for r in rows)
        + f"), {args.seeds} student seeds, {args.episodes} held-out episodes per seed, "
        f"temperature {args.temperature}",
        *[f"- Teacher of {r['task']}: {r['teacher_note']}" for r in rows if r["teacher_note"]],
        "",
        "## Targets: student >= 0.95x teacher success at <= 0.25x its parameters",
        "",
    ]
    header = ["task", "teacher success", "student success", "random", "student / teacher",
              "parameters (student / teacher)", "inference speed-up", "met"]  # fmt: skip
    table = [target_row(row, cells[row["task"]][0]) for row in rows]
    lines += [markdown_table(header, "|---|---|---|---|---|--:|--:|:-:|", table), ""]
    for row in rows:
        if not row["met"] and row["task"] in DIAGNOSIS:
            shown = {k: ci(row[k]) for k in ("student", "random", "teacher")}
            lines += [f"Diagnosis ({row['task']}): " + DIAGNOSIS[row["task"]].format(**shown), ""]
    lines += [
        "Success: IQM over seeds [95% stratified-bootstrap CI]; the ratio is per seed, "
        "student over teacher on the same episodes. Speed-up: median over seeds of the "
        "teacher's over the student's median batched forward time.",
        "",
    ]
    for task, task_cells in cells.items():
        header = ["seed", "eval seed", "teacher", "student", "random", "ratio",
                  "teacher fwd ms", "student fwd ms", "states", "KL first -> last",
                  "distil s"]  # fmt: skip
        body = [seed_row(c) for c in task_cells]
        lines += [f"## {task}: per seed", ""]
        lines += [markdown_table(header, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|", body), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args, parser = parse_dataclass(Args, __doc__, argv, QUICK)
    unknown = set(args.tasks) - set(TASKS)
    if unknown:
        parser.error(f"--tasks: unknown {sorted(unknown)}; choose from {list(TASKS)}")
    if args.quick and args.cache == DEFAULT_CACHE:
        args.cache = str(Path(args.out) / "cache")
    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    started = time.perf_counter()
    rows, cells = [], {}
    for task in args.tasks:
        spec = TASKS[task]
        teacher, record = train_teacher(task, spec, args)
        task_cells = []
        for seed in progress(range(args.seeds), desc=f"{task} students", unit="seed"):
            path = out / "cells" / f"{task}__seed{seed}.json"
            if path.is_file() and not args.quick:
                cell = json.loads(path.read_text())
            else:
                cell = run_seed(task, spec, teacher, seed, args)
                write_json_atomic(path, cell)
            task_cells.append(cell)
        cells[task] = task_cells
        rows.append(aggregate(task, task_cells, float(record["seconds"]), args))
        rows[-1]["teacher_note"] = str(record.get("note", ""))
    about = machine("torch", "stable-baselines3", "gymnasium")
    text = report(args, rows, cells, about)
    atomic_write_text(out / "report.md", text + "\n")
    write_json_atomic(out / "teacher.json", {
        "command": [sys.executable, *sys.argv], "args": asdict(args), "machine": about,
        "wall_time_s": time.perf_counter() - started, "tasks": rows, "cells": cells,
    })  # fmt: skip
    print(text)
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
