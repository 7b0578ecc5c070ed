"""The parts of a benchmark suite: envs, agents, and the cells they expand to.

Cells are agents x (their envs) x (their seeds), named ``{agent}__{env}__seed{seed}``.
The seed is the training seed of agents that train and the evaluation seed of every
agent, so the per-seed results of an (agent, env) merge into one ``seeds x 1`` score
matrix. Suites are read from YAML files by :func:`rlkit.sweep.schema.load_suite`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gymnasium as gym

__all__ = ["AgentSpec", "Cell", "EnvSpec", "Suite", "SuiteError"]


class SuiteError(ValueError):
    """A suite that breaks the schema; the message names the file and the key."""


@dataclass(frozen=True)
class EnvSpec:
    """One env of a suite: ``gymnasium.make(id, **kwargs)``, called ``label``."""

    label: str
    id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    max_steps: int | None = None


@dataclass(frozen=True)
class AgentSpec:
    """One agent of a suite: a kind, its arguments and budget, where and how long it runs.

    ``actions`` is how a policy acts in evaluation: ``"greedy"`` (its most likely action)
    or ``"sampled"`` (drawn from its action distribution).
    """

    name: str
    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    episodes: int = 20
    seeds: tuple[int, ...] = (0,)
    envs: tuple[str, ...] = ()
    actions: str = "greedy"

    def runs_on(self, label: str) -> bool:
        """Whether the agent's env patterns (none: every env) match ``label``."""
        return not self.envs or any(fnmatch.fnmatchcase(label, p) for p in self.envs)


@dataclass(frozen=True)
class Cell:
    """One unit of work: train (if the kind trains) and evaluate an agent on an env, one seed.

    Examples
    --------
    >>> cell = Cell("demo", AgentSpec("planner", "planner"), EnvSpec("nav", "rlkit/GridNav-v0"), 3)
    >>> cell.name
    'planner__nav__seed3'
    >>> len(cell.fingerprint())
    16
    """

    suite: str
    agent: AgentSpec
    env: EnvSpec
    seed: int

    @property
    def name(self) -> str:
        """``{agent}__{env label}__seed{seed}``, also the stem of the cell's file."""
        return f"{self.agent.name}__{self.env.label}__seed{self.seed}"

    @property
    def episodes(self) -> int:
        """Evaluation episodes (of this cell's one seed)."""
        return self.agent.episodes

    def config(self) -> dict[str, Any]:
        """Everything that decides the cell's records (what :meth:`fingerprint` hashes)."""
        return {
            "agent": {
                "name": self.agent.name,
                "kind": self.agent.kind,
                "kwargs": self.agent.kwargs,
                "steps": self.agent.steps,
                # only when not the default, so older cells keep their fingerprints
                **({} if self.agent.actions == "greedy" else {"actions": self.agent.actions}),
            },
            "env": {
                "label": self.env.label,
                "id": self.env.id,
                "kwargs": self.env.kwargs,
                "max_steps": self.env.max_steps,
            },
            "seed": self.seed,
            "episodes": self.episodes,
        }

    def fingerprint(self) -> str:
        """A hash of :meth:`config`: a finished cell is only reused while it matches, so
        editing a suite's budget or kwargs reruns the cells it changes."""
        text = json.dumps(self.config(), sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def make_env(self, **overrides: Any) -> gym.Env[Any, Any]:
        """A fresh env of this cell (``overrides`` update its kwargs)."""
        from rlkit.evaluation import make_env

        return make_env(self.env.id, {**self.env.kwargs, **overrides})


@dataclass(frozen=True)
class Suite:
    """A parsed, validated suite (see the module docstring for the file format)."""

    name: str
    envs: tuple[EnvSpec, ...]
    agents: tuple[AgentSpec, ...]
    description: str = ""
    baseline: str | None = None
    source: str = "<suite>"

    def cells(self) -> list[Cell]:
        """Every cell, agent-major in file order (agents, then envs, then seeds)."""
        return [
            Cell(self.name, agent, env, seed)
            for agent in self.agents
            for env in self.envs
            if agent.runs_on(env.label)
            for seed in agent.seeds
        ]

    def select(self, patterns: Sequence[str] | None = None) -> list[Cell]:
        """The cells whose names match any of ``patterns`` (fnmatch; None: all).

        Raises
        ------
        ValueError
            If a pattern matches no cell.
        """
        cells = self.cells()
        if not patterns:
            return cells
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(c.name, pattern) for c in cells):
                raise ValueError(
                    f"--cells {pattern!r} matches no cell of suite {self.name!r}; cells are "
                    f"named AGENT__ENV__seedN, e.g. {cells[0].name!r} (try 'q_learning__*')"
                )
        return [c for c in cells if any(fnmatch.fnmatchcase(c.name, p) for p in patterns)]
