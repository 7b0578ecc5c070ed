"""Learning curves of rlkit's learned pixel policies, between the planner and random.

Every point is evaluated on held-out seeds (starts, goals and maps no training episode
had: see ``benchmarks/suites/learning.yaml``), >= 5 seeds, IQM success and SPL with 95%
stratified-bootstrap CIs (Agarwal et al. 2021). X axes: planner demos for behaviour
cloning (one cell per demos count), rounds for DAgger (every round's student is
evaluated), env steps for PPO and SAC (policy snapshots). The cells are those of the
suite, run by ``rlkit.sweep``; this script adds:

- the targets of issue #14 (target | measured | CI | met), each from its curve;
- per encoder of the BC curves (scratch, scratch + shift, frozen, full, LoRA,
  bottleneck adapters): the area under the learning curve (mean IQM success over the
  demos axis, every demos count weighted alike) and the demos needed to reach 0.8 IQM
  success, both with bootstrap CIs over seeds -- the headline question "does
  pretraining help?" asked at budgets that span floor to ceiling;
- bottleneck adapters against LoRA (issue #16): areas with a seed-paired CI of their
  difference, trainable parameters, and the target (>= 0.9x LoRA's area at <= its
  trainable parameters);
- a check that no evaluation reset seed was a training one;
- PNG curves and ``learning.json``.

    python benchmarks/learning.py                  # runs missing cells, writes the report
    python benchmarks/learning.py --report-only    # rewrites the report from the cells
    python benchmarks/learning.py --cells 'bc-adapter*' --workers 1   # only those cells
    python benchmarks/learning.py --quick          # smoke test: tiny cells, temp folder
    python benchmarks/learning.py --suite benchmarks/suites/learning-full.yaml  # GPU
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from learning_analysis import (
    ADAPTER_TARGET,
    ENCODERS,
    METRICS,
    TARGETS,
    adapter_vs_lora,
    analyse,
    encoder_verdict,
    reach_x,
    summarise,
)
from learning_report import plot, report_lines
from scripting import REPO, SuiteArgs, parse_dataclass, suite_main

from rlkit.sweep.suite import Suite

#: What the tests and readers look up here; the numbers live in ``learning_analysis.py``,
#: the report's markdown and plots in ``learning_report.py``.
__all__ = ["ADAPTER_TARGET", "ENCODERS", "METRICS", "TARGETS", "Args", "adapter_vs_lora",
           "analyse", "encoder_verdict", "main", "quick_suite", "reach_x",
           "summarise"]  # fmt: skip


@dataclass
class Args(SuiteArgs):
    suite: str = str(REPO / "benchmarks" / "suites" / "learning.yaml")
    """the suite file (learning-full.yaml: the full budget, for a GPU)"""
    cells: str = ""
    """run only the cells matching this glob (e.g. 'dagger*'); the report covers all"""


def quick_suite(suite: Suite) -> Suite:
    """A few tiny cells: BC from 2 demos (frozen), DAgger for 1 round, PPO for 256 steps
    with 2 snapshots, planner and random; one seed, 2 episodes, four rooms only."""
    tiny = {
        "bc": {"demos": 2, "epochs": 1},
        "dagger": {"demos": 2, "epochs": 1, "iterations": 1, "rollouts_per_iteration": 1},
    }
    agents = []
    for agent in suite.agents:
        keep = agent.kind in ("planner", "random") or agent.name in ("bc-frozen-d10", "dagger")
        if agent.kind == "ppo":
            keep = True
            agent = dataclasses.replace(
                agent,
                steps=256,
                kwargs={
                    **agent.kwargs,
                    "curve_points": 2,
                    "hyperparams": {"n_envs": 2, "n_steps": 64, "batch_size": 64},
                },
            )
        if keep:
            kwargs = {**agent.kwargs, **tiny.get(agent.kind, {})}
            agents.append(
                dataclasses.replace(
                    agent, kwargs=kwargs, seeds=(0,), episodes=2, envs=("fourrooms-pixels",)
                )
            )
    envs = tuple(e for e in suite.envs if e.label == "fourrooms-pixels")
    return dataclasses.replace(suite, name="learning-quick", envs=envs, agents=tuple(agents))


def main(argv: Sequence[str] | None = None) -> int:
    args, _ = parse_dataclass(Args, __doc__, argv)
    return suite_main(
        args, argv, script="benchmarks/learning.py", shrink=quick_suite, analyse=analyse,
        text=report_lines, plots=plot, json_name="learning.json",
        cells=[args.cells] if args.cells else None,
        shown=lambda analysis: 4 + len(analysis["targets"]),  # the targets' table
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
