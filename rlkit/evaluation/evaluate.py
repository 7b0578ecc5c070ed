"""evaluate(): run an agent for a fixed set of seeded episodes and record each one.

Rules the records follow:

- **Seeds.** ``seeds`` is a count ``n`` (seeds ``0 .. n-1``) or an iterable of
  non-negative ints, and ``episodes`` is the number of episodes *per seed*. Episode
  ``k`` of seed ``s`` resets the env with a seed derived from ``(s, k)``
  (:func:`reset_seeds`) and reseeds stochastic agents with another, so the same
  arguments give the same records, apart from wall time, in any process.
- **Return.** The sum of the rewards returned by ``env.step`` of the env the harness
  steps. For an env id that env is ``gymnasium.make(env_id, **env_kwargs)`` with
  Gymnasium's default wrappers (time limit, order enforcing, passive checker), none of
  which changes rewards. For an env you pass, it is whatever that env returns; its
  wrapper chain is recorded in ``metadata["env_wrappers"]`` so a reward-shaping or
  normalizing wrapper is visible in the result.
- **Env-reported facts.** ``success``, ``optimal_length`` and ``path_length`` are the last
  values of ``info["is_success"]``, ``info["optimal_length"]`` and ``info["path_length"]``
  reported at reset or any step; None when the env never reports them. ``collisions``
  counts steps with a truthy ``info["collision"]``.
"""

from __future__ import annotations

import contextlib
import difflib
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.agents import Agent, PolicyAgent, Seedable, agent_name, prepare_agent
from rlkit.evaluation.metrics import spl
from rlkit.evaluation.provenance import provenance
from rlkit.evaluation.records import EpisodeRecord
from rlkit.evaluation.result import EvalResult

__all__ = ["STEP_CAP", "Episode", "evaluate", "make_env", "reset_seeds", "run_episode"]

#: Steps per episode at most on envs without a time limit, unless max_steps says otherwise.
STEP_CAP = 10_000

StepHook = Callable[[gym.Env[Any, Any]], None]


def make_env(
    env_id: str, env_kwargs: dict[str, Any] | None = None, *, render_mode: str | None = None
) -> gym.Env[Any, Any]:
    """``gymnasium.make`` with a clear error for an unknown id.

    ``rlkit/...`` ids are registered by ``import envs``, which this function does when
    the id is not registered yet.

    Raises
    ------
    ValueError
        If ``env_id`` is not registered; the message suggests close matches.

    Examples
    --------
    >>> make_env("FrozenLake-v2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown env id 'FrozenLake-v2'; did you mean 'FrozenLake-v1'...
    """
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"env id must be a non-empty string, got {env_id!r}")
    if ":" not in env_id and env_id not in gym.registry:  # "module:Id" imports its module
        with contextlib.suppress(ImportError):
            import envs  # noqa: F401 - registers the rlkit/ ids
    if ":" not in env_id and env_id not in gym.registry:
        ids = list(gym.registry)
        lowered = {i.lower(): i for i in ids}
        close = difflib.get_close_matches(env_id.lower(), list(lowered), n=3, cutoff=0.7)
        hint = f"; did you mean {' or '.join(repr(lowered[c]) for c in close)}?" if close else ""
        raise ValueError(
            f"unknown env id {env_id!r}{hint} (ids are those in gymnasium.registry; "
            "rlkit/... ids are registered by `import envs`)"
        )
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    return gym.make(env_id, **kwargs)


def reset_seeds(seed: int, episode: int) -> tuple[int, int]:
    """``(env_seed, agent_seed)`` of episode ``episode`` of evaluation seed ``seed``.

    Both come from ``numpy.random.SeedSequence([seed, episode])``, so they are fixed by
    ``(seed, episode)`` and independent of each other (an env and a random agent
    seeded alike would draw the same numbers).

    Examples
    --------
    >>> reset_seeds(0, 0) == reset_seeds(0, 0), reset_seeds(0, 1) == reset_seeds(1, 0)
    (True, False)
    """
    env_seed, agent_seed = np.random.SeedSequence([seed, episode]).generate_state(2)
    return int(env_seed), int(agent_seed)


@dataclass
class Episode:
    """The outcome of :func:`run_episode` (a record without its place in the evaluation)."""

    episode_return: float = 0.0
    length: int = 0
    terminated: bool = False
    truncated: bool = False
    success: bool | None = None
    optimal_length: float | None = None
    path_length: float | None = None
    collisions: int | None = None

    def observe(self, info: dict[str, Any]) -> None:
        """Keep the env-reported facts of a reset or step ``info``."""
        if info.get("is_success") is not None:
            self.success = bool(info["is_success"])
        if info.get("optimal_length") is not None:
            self.optimal_length = float(info["optimal_length"])
        if info.get("path_length") is not None:
            self.path_length = float(info["path_length"])
        if "collision" in info:
            self.collisions = (self.collisions or 0) + bool(info["collision"])


def run_episode(
    agent: Agent,
    env: gym.Env[Any, Any],
    *,
    reset_seed: int | None = None,
    max_steps: int | None = None,
    on_step: StepHook | None = None,
    where: str = "episode 0",
) -> Episode:
    """Play one episode of ``agent`` in ``env`` (already bound and seeded).

    Parameters
    ----------
    agent : Agent
        Acts; its ``reset()`` is called after ``env.reset``.
    env : gymnasium.Env
        Reset with ``reset_seed``.
    max_steps : int, optional
        Stop (as truncated) after this many steps, on top of the env's own time limit.
    on_step : callable, optional
        Called with ``env`` after the reset and after every step (to record frames).
    where : str
        How error messages name this episode.

    Raises
    ------
    ValueError
        If the agent returns an action outside ``env.action_space``.
    """
    outcome = Episode()
    obs, info = env.reset(seed=reset_seed)
    agent.reset()
    outcome.observe(info)
    if on_step is not None:
        on_step(env)
    while True:
        action = agent.act(obs)
        if not env.action_space.contains(action):
            raise ValueError(
                f"agent {agent_name(agent)!r} returned the action {action!r} at {where}, step "
                f"{outcome.length}, which is not in the action space {env.action_space}"
            )
        obs, reward, terminated, truncated, info = env.step(action)
        outcome.episode_return += float(reward)
        outcome.length += 1
        outcome.observe(info)
        if on_step is not None:
            on_step(env)
        if terminated or truncated or (max_steps is not None and outcome.length >= max_steps):
            outcome.terminated, outcome.truncated = bool(terminated), not terminated
            return outcome


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _seed_list(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return list(range(_check_count("seeds (a count)", seeds)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ValueError(f"seeds must be a count or an iterable of ints, got {seeds!r}")
    values = list(seeds)
    if not values:
        raise ValueError("seeds is empty: pass a count (seeds=5) or some seeds (seeds=[0, 1])")
    for seed in values:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seeds must be non-negative ints, got {seed!r} in {values!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"seeds repeat a value: {values!r}")
    return [int(s) for s in values]


def _wrappers(env: gym.Env[Any, Any]) -> list[str]:
    names = []
    while isinstance(env, gym.Wrapper):
        names.append(type(env).__name__)
        env = env.env
    return names


def evaluate(
    agent: Any,
    env_or_id: str | gym.Env[Any, Any],
    episodes: int = 20,
    seeds: int | Iterable[int] = 5,
    *,
    deterministic: bool = True,
    max_steps: int | None = None,
    progress_bar: bool = True,
    env_kwargs: dict[str, Any] | None = None,
    name: str | None = None,
) -> EvalResult:
    """Run ``agent`` for ``episodes`` episodes on each seed and record every episode.

    The rules for seeds, the return and env-reported facts are in the module docstring
    (:mod:`rlkit.evaluation.evaluate`).

    Parameters
    ----------
    agent : Agent, model, callable or str
        Anything :func:`~rlkit.agents.as_agent` wraps, or a name or path for
        :func:`~rlkit.agents.load_agent` (``"planner"``, ``"random"``, ``.npz``,
        ``.zip``). Agents with ``bind(env)`` are bound to the env the harness steps.
    env_or_id : str or gymnasium.Env
        An env id (the harness makes the env and closes it) or an env (used as it is,
        left open).
    episodes : int
        Episodes per seed.
    seeds : int or iterable of int
        A count ``n`` (seeds ``0 .. n-1``) or the seeds themselves.
    deterministic : bool
        How models with ``predict`` act (greedy or sampled).
    max_steps : int, optional
        Truncate episodes after this many steps (the env's own limit still applies).
        Without it, episodes are cut at :data:`STEP_CAP` steps, with a warning when that
        happens, so a policy that never ends an episode of an env without a time limit
        cannot hang the evaluation.
    progress_bar : bool
        Show a tqdm bar.
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make`` (only with an env id).
    name : str, optional
        The agent's name in the result (default: :func:`~rlkit.agents.agent_name`).

    Returns
    -------
    EvalResult
        One record per episode, seed-major; metadata with the arguments and provenance.

    Raises
    ------
    ValueError
        For zero episodes or seeds, an unknown env id (with close matches), or an agent
        action outside the action space (naming the episode, step and action).

    Examples
    --------
    >>> result = evaluate("random", "FrozenLake-v1", episodes=10, seeds=2,
    ...                   progress_bar=False)
    >>> len(result.records), result.seeds
    (20, [0, 1])
    """
    episodes = _check_count("episodes", episodes)
    seed_list = _seed_list(seeds)
    if max_steps is not None:
        max_steps = _check_count("max_steps", max_steps)
    if isinstance(env_or_id, gym.Env):
        if env_kwargs:
            raise ValueError("env_kwargs only apply to an env id; configure your env yourself")
        env, owned = env_or_id, False
        env_id = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    else:
        env, owned, env_id = make_env(env_or_id, env_kwargs), True, env_or_id
    try:
        actor = prepare_agent(agent, env, deterministic=deterministic)
        cap = STEP_CAP if max_steps is None else max_steps
        records = _run(actor, env, env_id, episodes, seed_list, cap, progress_bar, name)
    finally:
        if owned:
            env.close()
    capped = sum(r.truncated and r.length == cap for r in records)
    if max_steps is None and capped:
        warnings.warn(
            f"{capped} episode(s) of {env_id!r} ran {STEP_CAP} steps without ending (does the "
            f"env have a time limit?) and were cut there; pass max_steps= to choose",
            stacklevel=2,
        )
    metadata: dict[str, Any] = {
        "agent": name or agent_name(actor),
        "agent_type": type(actor).__name__,
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs or {}),
        "env_source": "id" if owned else "instance",
        "env_wrappers": _wrappers(env),
        "episodes_per_seed": episodes,
        "seeds": seed_list,
        # Only models with predict() have a greedy/sampled choice to record.
        "deterministic": deterministic if isinstance(actor, PolicyAgent) else None,
        "max_steps": max_steps,
        "step_cap": cap,
        "return_rule": "sum of rewards from env.step of the env evaluated",
        **provenance(),
    }
    return EvalResult(records, metadata)


def _run(
    agent: Agent,
    env: gym.Env[Any, Any],
    env_id: str,
    episodes: int,
    seeds: list[int],
    max_steps: int | None,
    progress_bar: bool,
    name: str | None,
) -> list[EpisodeRecord]:
    from tqdm import tqdm

    records = []
    label = name or agent_name(agent)
    reseed = agent.seed if isinstance(agent, Seedable) and callable(agent.seed) else None
    with tqdm(
        total=episodes * len(seeds),
        desc=f"eval {label} on {env_id}",
        unit="ep",
        disable=not progress_bar,
    ) as bar:
        for seed in seeds:
            for index in range(episodes):
                env_seed, agent_seed = reset_seeds(seed, index)
                if callable(reseed):
                    reseed(agent_seed)
                start = time.perf_counter()
                outcome = run_episode(
                    agent,
                    env,
                    reset_seed=env_seed,
                    max_steps=max_steps,
                    where=f"episode {index} of seed {seed}",
                )
                wall = time.perf_counter() - start
                records.append(
                    EpisodeRecord(
                        task=env_id,
                        seed=seed,
                        episode=index,
                        reset_seed=env_seed,
                        episode_return=outcome.episode_return,
                        length=outcome.length,
                        terminated=outcome.terminated,
                        truncated=outcome.truncated,
                        success=outcome.success,
                        optimal_length=outcome.optimal_length,
                        path_length=outcome.path_length,
                        spl=spl(outcome.success, outcome.optimal_length, outcome.path_length),
                        collisions=outcome.collisions,
                        wall_time_s=wall,
                    )
                )
                bar.update()
    return records
