"""Tabular learners: updates per second, plain loop against batched, and episodes to the
optimum.

1. throughput: every algorithm learns with the plain one-environment loop (``gym.make``,
   Gymnasium's wrappers included) and, in the same run, as ``K`` independent copies at
   once (``rlkit.tabular.Batched*``) on a numpy vector env: ``ModelVectorEnv`` (the
   toy-text model) for FrozenLake, the native ``GridNavVectorEnv`` for GridNav in
   ``"index"`` mode. For reference the batched learner also runs on Gymnasium's
   ``SyncVectorEnv``, which steps its ``K`` environments one by one in Python.
   Updates/s = learned transitions per second (a batched step counts ``K``; the
   ignored autoreset steps count too, about one per episode). n-step SARSA has no
   batched version.
2. sample efficiency: on a fixed deterministic map (FrozenLake 4x4 without slipping;
   GridNav four rooms), the episodes until the greedy policy first walks an optimal
   path (its length from value iteration), for plain learners over ``--seeds`` seeds and
   for every copy of a batched learner.

Prints markdown tables with the batched/plain ratio (target >= 10x) and a machine line;
writes everything to a JSON file. Exits 0 whether targets are met or not (a
measurement, not a test).

    python benchmarks/tabular.py            # 1-2 minutes
    python benchmarks/tabular.py --quick    # smoke test, seconds
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
from scripting import REPO, machine, markdown_table, parse_dataclass, write_results

from rlkit.tabular import (
    ALGORITHMS,
    BatchedDoubleQLearning,
    BatchedExpectedSARSA,
    BatchedQLearning,
    BatchedSARSA,
    BatchedTabularLearner,
    ModelVectorEnv,
    TabularLearner,
    TabularModel,
    value_iteration,
)

BATCHED: dict[str, type[BatchedTabularLearner]] = {
    cls.single_class.algorithm: cls
    for cls in (BatchedQLearning, BatchedSARSA, BatchedExpectedSARSA, BatchedDoubleQLearning)
}
TARGET_RATIO = 10.0
#: Hyper-parameters of every run: a constant exploration rate keeps runs of any length
#: comparable (fractional schedules would stretch with the budget).
CONFIG: dict[str, Any] = {"gamma": 0.95, "learning_rate": 0.5, "epsilon": 0.1}
#: GridNav's four-rooms map with fixed corners: "index" observations need a fixed goal.
GRIDNAV: dict[str, Any] = {"obs": "index", "start": (0, 0), "goal": (10, 10)}


@dataclass
class Args:
    steps: int = 100_000
    """environment steps of each plain-loop run (timed)"""
    batched_steps: int = 4_000
    """vector steps of each batched run on a numpy vector env (every copy takes this many)"""
    sync_steps: int = 200
    """vector steps of each batched run on Gymnasium's SyncVectorEnv"""
    copies: int = 256
    """K: copies learned at once by the batched learners"""
    repeat: int = 2
    """timing repeats of each run; the fastest counts"""
    seeds: int = 5
    """plain learners (seeds 0..N-1) per algorithm in the sample-efficiency section"""
    max_episodes: int = 2_000
    """episodes after which a sample-efficiency run that has not found the optimum gives up"""
    max_steps: int = 30_000
    """environment steps (of each copy) after which such a run gives up"""
    out: str = str(REPO / "benchmarks/results/tabular.json")
    """JSON file for the results (written atomically)"""
    quick: bool = False
    """smoke test: a few thousand steps, 8 copies, 1 seed, 30 episodes, one repeat"""


#: What --quick sets.
QUICK = {"steps": 2_000, "batched_steps": 50, "sync_steps": 5, "copies": 8, "repeat": 1,
         "seeds": 1, "max_episodes": 30, "max_steps": 2_000}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> Args:
    return parse_dataclass(Args, __doc__, argv, QUICK)[0]


# ---------------------------------------------------------------------- environments


@dataclass
class Task:
    """One environment in its three forms: single, numpy-vector and Gymnasium-sync."""

    name: str
    make: Callable[[], gym.Env[Any, Any]]
    make_vector: Callable[[int], Any]
    make_sync: Callable[[int], Any]


def tasks() -> tuple[list[Task], list[Task], str]:
    """(throughput tasks, deterministic tasks, what happened to GridNav)."""
    throughput = [
        Task(
            "FrozenLake-v1 (4x4, slippery)",
            lambda: gym.make("FrozenLake-v1"),
            lambda k: ModelVectorEnv.from_env("FrozenLake-v1", k),
            lambda k: gym.make_vec("FrozenLake-v1", num_envs=k, vectorization_mode="sync"),
        )
    ]
    deterministic = [
        Task(
            "FrozenLake-v1 (4x4, not slippery)",
            lambda: gym.make("FrozenLake-v1", is_slippery=False),
            lambda k: ModelVectorEnv.from_env("FrozenLake-v1", k, is_slippery=False),
            lambda k: None,
        )
    ]
    try:
        import envs  # noqa: F401  (registers rlkit/GridNav-*)
    except ImportError as error:
        return throughput, deterministic, f"skipped: envs not importable ({error})"
    gridnav = Task(
        "rlkit/GridNav-Map-v0 (four rooms, index)",
        lambda: gym.make("rlkit/GridNav-Map-v0", **GRIDNAV),
        lambda k: gym.make_vec(
            "rlkit/GridNav-Map-v0", num_envs=k, vectorization_mode="vector_entry_point", **GRIDNAV
        ),
        lambda k: gym.make_vec(
            "rlkit/GridNav-Map-v0", num_envs=k, vectorization_mode="sync", **GRIDNAV
        ),
    )
    return [*throughput, gridnav], [*deterministic, gridnav], "included"


# ---------------------------------------------------------------------- 1. throughput


def fastest(run: Callable[[], float], repeat: int) -> float:
    """The shortest of ``repeat`` timed runs, in seconds."""
    return min(run() for _ in range(repeat))


def time_plain(name: str, task: Task, steps: int) -> float:
    agent = ALGORITHMS[name](task.make(), seed=0, **CONFIG)
    agent.learn(total_steps=min(steps, 1_000))  # warm-up: first-call costs, filled caches
    started = time.perf_counter()
    agent.learn(total_steps=steps)
    return time.perf_counter() - started


def time_batched(name: str, vector: Any, steps: int) -> float:
    batch = BATCHED[name](vector, seed=0, **CONFIG)
    batch.learn(total_steps=min(steps, 50))
    started = time.perf_counter()
    batch.learn(total_steps=steps)
    return time.perf_counter() - started


def throughput_rows(args: Args, task_list: list[Task]) -> list[dict[str, Any]]:
    rows = []
    for task in task_list:
        for name in ALGORITHMS:
            seconds = fastest(partial(time_plain, name, task, args.steps), args.repeat)
            plain = args.steps / seconds
            row: dict[str, Any] = {"env": task.name, "algorithm": name, "plain_per_s": plain}
            if name in BATCHED:
                K = args.copies
                run = partial(time_batched, name, task.make_vector(K), args.batched_steps)
                row["batched_per_s"] = K * args.batched_steps / fastest(run, args.repeat)
                run = partial(time_batched, name, task.make_sync(K), args.sync_steps)
                row["sync_per_s"] = K * args.sync_steps / fastest(run, args.repeat)
                row["ratio"] = row["batched_per_s"] / plain
                row["sync_ratio"] = row["sync_per_s"] / plain
            rows.append(row)
            print(f"throughput: {task.name} {name} done", file=sys.stderr, flush=True)
    return rows


# ---------------------------------------------------------------------- 2. sample efficiency


def greedy_reaches_optimum(
    q: np.ndarray, model: TabularModel, start: int, optimum: int
) -> np.ndarray:
    """For tables ``q`` (K, S, A) on a deterministic model: does each greedy policy end
    the episode with a reward in exactly ``optimum`` steps (the shortest possible)?"""
    index = np.arange(q.shape[0])
    state = np.full(q.shape[0], start)
    ok = np.ones(q.shape[0], dtype=bool)
    for step in range(optimum):
        action = q[index, state].argmax(axis=1)
        terminated = model.terminated[state, action, 0]
        if step < optimum - 1:
            ok &= ~terminated  # ending early (in a hole) is a failure
        else:
            ok &= terminated & (model.reward[state, action, 0] > 0)
        state = model.next_state[state, action, 0]
    return ok


def optimum_of(task: Task) -> tuple[TabularModel, int, int]:
    """The model, start state and optimal episode length (value iteration's greedy path)."""
    env = task.make()
    start, _ = env.reset(seed=0)
    model = TabularModel.from_transitions(env.unwrapped.P)  # type: ignore[attr-defined]
    _, Q, _ = value_iteration(model, model.n_states, model.n_actions, gamma=CONFIG["gamma"])
    for length in range(1, model.n_states + 1):
        if greedy_reaches_optimum(Q[None], model, int(start), length)[0]:
            return model, int(start), length
    raise RuntimeError(f"{task.name}: the optimal policy does not reach the goal")


def plain_episodes(
    name: str, task: Task, model: TabularModel, start: int, optimum: int, seed: int, args: Args
) -> int | None:
    """Episodes one plain learner takes until its greedy policy is optimal (None: never)."""
    found: list[int] = []

    def stop(learner: TabularLearner, summary: Any) -> bool:
        if greedy_reaches_optimum(learner.q_table[None], model, start, optimum)[0]:
            found.append(summary.episodes)
            return False
        return True

    agent = ALGORITHMS[name](task.make(), seed=seed, **CONFIG)
    agent.learn(total_steps=args.max_steps, episodes=args.max_episodes, callback=stop)
    return found[0] if found else None


def episodes_rows(args: Args, task_list: list[Task]) -> list[dict[str, Any]]:
    rows = []
    for task in task_list:
        model, start, optimum = optimum_of(task)
        for name in ALGORITHMS:
            row: dict[str, Any] = {
                "env": task.name,
                "algorithm": name,
                "optimal_length": optimum,
                "plain": [
                    plain_episodes(name, task, model, start, optimum, seed, args)
                    for seed in range(args.seeds)
                ],
            }
            if name in BATCHED:
                row["batched"] = batched_episodes(name, task, model, start, optimum, args)
            rows.append(row)
            print(f"episodes: {task.name} {name} done", file=sys.stderr, flush=True)
    return rows


def batched_episodes(
    name: str, task: Task, model: TabularModel, start: int, optimum: int, args: Args
) -> list[int | None]:
    first = np.full(args.copies, -1)

    def record(batch: BatchedTabularLearner, summary: Any) -> bool:
        now = greedy_reaches_optimum(batch.q_tables, model, start, optimum) & (first < 0)
        first[now] = summary.episodes[now]
        return bool((first < 0).any())

    batch = BATCHED[name](task.make_vector(args.copies), seed=0, **CONFIG)
    batch.learn(total_steps=args.max_steps, episodes=args.max_episodes, callback=record)
    return [int(e) if e >= 0 else None for e in first]


def median_or_none(values: list[int | None]) -> str:
    reached = [v for v in values if v is not None]
    if not reached:
        return "not reached"
    text = f"{statistics.median(reached):.0f}"
    return text if len(reached) == len(values) else f"{text} ({len(reached)}/{len(values)})"


# ---------------------------------------------------------------------- report


def throughput_table(rows: list[dict[str, Any]], copies: int) -> str:
    cells = []
    for r in rows:
        batched: tuple[str, ...] = ("no batched version | | |",)  # three empty cells
        if "ratio" in r:
            mark = "" if r["ratio"] >= TARGET_RATIO else " (below target)"
            batched = (f"{r['batched_per_s']:,.0f}", f"**{r['ratio']:.1f}x**{mark}",
                       f"{r['sync_per_s']:,.0f}", f"{r['sync_ratio']:.1f}x")  # fmt: skip
        cells.append((r["env"], r["algorithm"], f"{r['plain_per_s']:,.0f}", *batched))
    header = ("env", "algorithm", "plain updates/s", f"batched K={copies} updates/s",
              "batched/plain", "batched on SyncVectorEnv updates/s", "sync/plain")  # fmt: skip
    return markdown_table(header, "|---|---|--:|--:|--:|--:|--:|", cells)


def episodes_table(rows: list[dict[str, Any]], args: Args) -> str:
    cells = [
        (r["env"], r["algorithm"], r["optimal_length"], median_or_none(r["plain"]),
         median_or_none(r["batched"]) if "batched" in r else "-")
        for r in rows
    ]  # fmt: skip
    header = ("env", "algorithm", "optimal length",
              f"episodes to optimal greedy, plain (median of {args.seeds} seeds)",
              f"batched (median of {args.copies} copies)")  # fmt: skip
    return markdown_table(header, "|---|---|--:|--:|--:|", cells)


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    throughput_tasks, deterministic_tasks, gridnav = tasks()
    throughput = throughput_rows(args, throughput_tasks)
    episodes = episodes_rows(args, deterministic_tasks)
    about = machine("gymnasium", "rlkit")
    wall = time.perf_counter() - started
    ratios = [r["ratio"] for r in throughput if "ratio" in r]
    tables = {
        "throughput": throughput_table(throughput, args.copies),
        "episodes_to_optimal": episodes_table(episodes, args),
    }

    print(tables["throughput"])
    print()
    print(tables["episodes_to_optimal"])
    print()
    print(f"GridNav: {gridnav}")
    print(
        f"batched/plain: {min(ratios):.1f}x to {max(ratios):.1f}x (target >= "
        f"{TARGET_RATIO:.0f}x: {'met' if min(ratios) >= TARGET_RATIO else 'missed'}); "
        f"hyper-parameters {CONFIG}; best of {args.repeat}; wall time {wall:.1f} s"
    )
    print(
        f"machine: {about['platform']} | {about['cpu']} ({about['cpus']} CPUs) "
        f"| Python {about['python']} | numpy {about['numpy']}, gymnasium {about['gymnasium']} "
        f"| rlkit {about['rlkit']} | {about['date']} | git {about['git_commit']}"
    )
    write_results(args.out, args, about, wall, config=CONFIG, gridnav=gridnav,
                  target_ratio=TARGET_RATIO, throughput=throughput,
                  episodes_to_optimal=episodes, tables=tables)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
