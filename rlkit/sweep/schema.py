"""Suite files: finding them, reading the YAML, and validating it against the schema.

A suite file (``benchmarks/suites/<name>.yaml``)::

    suite: quick                     # name; results go to <out>/<suite>/
    description: what it is for      # optional
    defaults:                        # optional; each agent may override episodes/seeds
      episodes: 20                   # evaluation episodes per seed
      seeds: 5                       # a count (seeds 0..4) or a list [0, 3, 7]
    report:                          # optional
      baseline: random               # agent that "P(> baseline)" columns compare with
    envs:
      - label: fourrooms             # name in cells and reports
        id: rlkit/GridNav-Map-v0     # any Gymnasium id
        kwargs: {obs: index, goal: [10, 10]}   # optional, of gymnasium.make
        max_steps: 200               # optional, evaluation step cap per episode
    agents:
      - name: planner                # name in cells and reports
        kind: planner                # a kind of rlkit.sweep.kinds.AGENT_KINDS, or "module:function"
      - name: q_learning
        kind: q_learning
        steps: 50000                 # training budget; required by kinds that train
        kwargs: {learning_rate: 0.5} # optional, of the kind's learner
        envs: [fourrooms*]           # optional label patterns (fnmatch) the agent runs on
        episodes: 10                 # optional overrides of the defaults
        seeds: 3
        actions: sampled             # optional: a policy's actions in evaluation (greedy)

Every error is a :class:`~rlkit.sweep.suite.SuiteError` naming the file and the key
(``quick.yaml: agents[2] (q_learning).steps: must be a positive integer, got -5``).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlkit.sweep.suite import AgentSpec, EnvSpec, Suite, SuiteError
from rlkit.sweep.yaml_loader import load_yaml, yaml_module

__all__ = ["find_suite", "load_suite", "parse_suite", "suite_folders"]

#: Most seeds a suite may name by count (each is a cell per agent and env).
MAX_SEEDS = 10_000
_SUITE_KEYS = ("suite", "description", "defaults", "report", "envs", "agents")
_DEFAULT_KEYS = ("episodes", "seeds")
_REPORT_KEYS = ("baseline",)
_ENV_KEYS = ("label", "id", "kwargs", "max_steps")
_AGENT_KEYS = ("name", "kind", "kwargs", "steps", "episodes", "seeds", "envs", "actions")
#: Names become file names and are joined with "__" into cell names.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: Most values a kwargs mapping may hold, nested ones included.
_MAX_KWARGS_VALUES = 100_000


# -- finding and reading suite files -----------------------------------------------------


def suite_folders() -> list[Path]:
    """Where suite names are looked up: ``./benchmarks/suites``, then the source tree's."""
    source_tree = Path(__file__).resolve().parents[2] / "benchmarks" / "suites"
    folders = [Path.cwd() / "benchmarks" / "suites", source_tree]
    return list(dict.fromkeys(f.resolve() for f in folders))


def find_suite(name_or_path: str | Path) -> Path:
    """The YAML file of a suite name (``"quick"``) or path.

    Raises
    ------
    FileNotFoundError
        If there is no such file; the message lists the suites found.
    """
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise FileNotFoundError(f"suite file {text!r} does not exist")
        return path
    known: dict[str, Path] = {}
    for folder in suite_folders():
        for path in sorted(folder.glob("*.y*ml")):
            known.setdefault(path.stem, path)
    if text in known:
        return known[text]
    where = ", ".join(str(f) for f in suite_folders())
    raise FileNotFoundError(
        f"no suite named {text!r} (looked in {where}); known suites: "
        f"{', '.join(sorted(known)) or 'none'}; or pass the path of a .yaml file"
    )


def load_suite(name_or_path: str | Path) -> Suite:
    """Read and validate a suite file (a name is looked up with :func:`find_suite`).

    Raises
    ------
    FileNotFoundError
        If the suite does not exist.
    SuiteError
        If the YAML is malformed or breaks the schema (the message names file and key).
    """
    yaml = yaml_module()
    path = find_suite(name_or_path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SuiteError(f"{path}: not valid YAML: {error}") from None
    except UnicodeDecodeError as error:
        raise SuiteError(f"{path}: not UTF-8 text ({error.reason}): save it as UTF-8") from None
    return parse_suite(data, source=str(path))


# -- validation ------------------------------------------------------------------------


class _Checker:
    """Error messages that name the file and the key path (``agents[2].steps``)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> SuiteError:
        return SuiteError(f"{self.source}: {where}: {message}")

    def mapping(self, value: object, where: str, allowed: Sequence[str] | None) -> dict[str, Any]:
        """``value`` as a dict; with ``allowed``, its keys are checked too."""
        if not isinstance(value, Mapping):
            raise self.fail(where, f"must be a mapping (key: value), got {_show(value)}")
        if allowed is not None:
            self.keys(value, where, allowed)
        return dict(value)

    def keys(self, value: Mapping[Any, Any], where: str, allowed: Sequence[str]) -> None:
        for key in value:
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.fail(where, f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})")

    def name(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not _NAME.fullmatch(value) or "__" in value:
            raise self.fail(
                where,
                f"must be a name of letters, digits, '_', '-', '.' without '__' (it becomes "
                f"part of file names), got {_show(value)}",
            )
        return value

    def count(self, value: object, where: str, *, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(where, f"must be a positive integer, got {_show(value)}")
        return value

    def seeds(self, value: object, where: str) -> tuple[int, ...]:
        if isinstance(value, int) and not isinstance(value, bool):
            count = self.count(value, where)
            assert count is not None
            if count > MAX_SEEDS:
                raise self.fail(where, f"at most {MAX_SEEDS} seeds, got {count}")
            return tuple(range(count))
        if not isinstance(value, list) or not value:
            raise self.fail(
                where, f"must be a count (5) or a list of seeds ([0, 3]), got {value!r}"
            )
        for seed in value:
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise self.fail(where, f"seeds must be non-negative integers, got {_show(seed)}")
        if len(set(value)) != len(value):
            raise self.fail(where, f"repeats a seed: {value}")
        return tuple(value)

    def kwargs(self, value: object, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise self.fail(where, f"must be a mapping of argument names, got {_show(value)}")
        if _too_large(value, _MAX_KWARGS_VALUES):  # YAML aliases can nest into 10**9 values
            raise self.fail(where, f"holds more than {_MAX_KWARGS_VALUES} values (nested aliases?)")
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise self.fail(where, "values must be plain YAML (numbers, strings, lists)") from None
        return dict(value)

    def entries(
        self, value: object, section: str, name_key: str, required: str, allowed: Sequence[str]
    ) -> Iterator[tuple[dict[str, Any], str, str]]:
        """The entries of the list ``section`` (``envs``, ``agents``) as ``(spec, name, where)``.

        Each entry is checked to be a mapping with a valid name under ``name_key``, only
        ``allowed`` keys, and the ``required`` one; ``where`` names it for error messages,
        with its name (``agents[2] (q_learning)``).
        """
        if not isinstance(value, list) or not value:
            raise self.fail(section, f"must be a non-empty list of {section}")
        for index, entry in enumerate(value):
            where = f"{section}[{index}]"
            spec = self.mapping(entry, where, None)
            if name_key not in spec:
                raise self.fail(where, f"missing the key {name_key!r}")
            name = self.name(spec[name_key], f"{where}.{name_key}")
            where = f"{section}[{index}] ({name})"
            self.keys(spec, where, allowed)
            if required not in spec:
                raise self.fail(where, f"missing the key {required!r}")
            yield spec, name, where


def _too_large(value: object, budget: int) -> bool:
    """Whether ``value`` holds more than ``budget`` values, counting each alias again."""
    stack = [value]
    while stack:
        budget -= 1
        if budget < 0:
            return True
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_suite(data: object, source: str = "<suite>") -> Suite:
    """Validate the parsed YAML of a suite (a dict) and build the :class:`Suite`.

    Parameters
    ----------
    data : dict
        As ``yaml.safe_load`` returns it.
    source : str
        How error messages name the suite (its file).

    Raises
    ------
    SuiteError
        Naming ``source`` and the offending key.

    Examples
    --------
    >>> suite = parse_suite({
    ...     "suite": "demo",
    ...     "defaults": {"episodes": 2, "seeds": 2},
    ...     "envs": [{"label": "lake", "id": "FrozenLake-v1"}],
    ...     "agents": [{"name": "random", "kind": "random"}],
    ... })
    >>> [cell.name for cell in suite.cells()]
    ['random__lake__seed0', 'random__lake__seed1']
    >>> parse_suite({"suite": "demo", "envs": [], "agents": []}, source="demo.yaml")
    Traceback (most recent call last):
    ...
    rlkit.sweep.suite.SuiteError: demo.yaml: envs: must be a non-empty list of envs
    """
    check = _Checker(source)
    top = check.mapping(data, "top level", _SUITE_KEYS)
    for key in ("suite", "envs", "agents"):
        if key not in top:
            raise check.fail("top level", f"missing the key {key!r}")
    name = check.name(top["suite"], "suite")
    description = top.get("description") or ""
    if not isinstance(description, str):
        raise check.fail("description", f"must be text, got {_show(description)}")
    defaults = check.mapping(top.get("defaults") or {}, "defaults", _DEFAULT_KEYS)
    episodes = check.count(defaults.get("episodes", 20), "defaults.episodes")
    assert episodes is not None
    seeds = check.seeds(defaults.get("seeds", 5), "defaults.seeds")

    envs = _parse_envs(check, top["envs"])
    labels = [env.label for env in envs]
    agents = _parse_agents(check, top["agents"], labels, episodes, seeds)

    report = check.mapping(top.get("report") or {}, "report", _REPORT_KEYS)
    baseline = report.get("baseline")
    if baseline is not None and baseline not in [a.name for a in agents]:
        raise check.fail(
            "report.baseline",
            f"{baseline!r} is not an agent name ({', '.join(a.name for a in agents)})",
        )
    return Suite(name, tuple(envs), tuple(agents), description.strip(), baseline, source)


def _parse_envs(check: _Checker, entries: object) -> list[EnvSpec]:
    envs = []
    for spec, label, where in check.entries(entries, "envs", "label", "id", _ENV_KEYS):
        env_id = spec["id"]
        if not isinstance(env_id, str) or not env_id:
            raise check.fail(f"{where}.id", f"must be a Gymnasium env id, got {_show(env_id)}")
        envs.append(
            EnvSpec(
                label=label,
                id=env_id,
                kwargs=check.kwargs(spec.get("kwargs"), f"{where}.kwargs"),
                max_steps=check.count(spec.get("max_steps"), f"{where}.max_steps", optional=True),
            )
        )
    _unique(check, "envs", [e.label for e in envs], "label")
    return envs


def _parse_agents(
    check: _Checker,
    entries: object,
    labels: list[str],
    episodes: int,
    seeds: tuple[int, ...],
) -> list[AgentSpec]:
    """The agents of a suite; ``labels`` are its envs', ``episodes`` and ``seeds`` the
    defaults."""
    from rlkit.sweep.kinds import check_agent_kind

    agents: list[AgentSpec] = []
    for spec, agent_name, where in check.entries(entries, "agents", "name", "kind", _AGENT_KEYS):
        kind = spec["kind"]
        if not isinstance(kind, str):
            raise check.fail(f"{where}.kind", f"must be a kind name, got {_show(kind)}")
        kwargs = check.kwargs(spec.get("kwargs"), f"{where}.kwargs")
        steps = check.count(spec.get("steps"), f"{where}.steps", optional=True)
        try:
            check_agent_kind(kind, kwargs, steps)
        except ValueError as error:
            raise check.fail(where, str(error)) from None
        patterns = spec.get("envs") or []
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise check.fail(
                f"{where}.envs", f"must be a list of env labels or patterns, got {_show(patterns)}"
            )
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(label, pattern) for label in labels):
                raise check.fail(
                    f"{where}.envs",
                    f"{pattern!r} matches no env label (labels: {', '.join(labels)})",
                )
        agent_episodes = check.count(spec.get("episodes", episodes), f"{where}.episodes")
        assert agent_episodes is not None
        actions = spec.get("actions", "greedy")
        if actions not in ("greedy", "sampled"):
            raise check.fail(f"{where}.actions", f"must be greedy or sampled, got {_show(actions)}")
        agent = AgentSpec(
            name=agent_name,
            kind=kind,
            kwargs=kwargs,
            steps=steps,
            episodes=agent_episodes,
            seeds=check.seeds(spec["seeds"], f"{where}.seeds") if "seeds" in spec else seeds,
            envs=tuple(patterns),
            actions=actions,
        )
        agents.append(agent)
    _unique(check, "agents", [a.name for a in agents], "name")
    return agents


def _unique(check: _Checker, where: str, names: Iterable[str], key: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise check.fail(where, f"two entries have the {key} {name!r}; {key}s must differ")
        seen.add(name)
