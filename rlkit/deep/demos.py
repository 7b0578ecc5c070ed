"""Expert demonstrations: the planner's actions on pixel observations, as arrays.

:func:`collect_demos` plays the env's planner (``env.unwrapped.expert_action()``);
:func:`labelled_rollouts` lets any policy act while the planner labels every state, the
data of DAgger (:mod:`rlkit.deep.distill`). This module needs numpy and gymnasium only.

Examples
--------
>>> demos = collect_demos("rlkit/GridNav-v0", 2, env_kwargs={"layout": "empty", "size": 4})
>>> demos.observations.shape[1:], demos.num_episodes, bool(demos.episode_successes.all())
((64, 64, 3), 2, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Demos",
    "check_positive",
    "collect_demos",
    "labelled_rollouts",
    "make_expert_env",
    "observation_key",
    "play_labelled",
]

#: Observation rows: one array, or one array per key of a ``Dict`` space.
Observations = NDArray[Any] | dict[str, NDArray[Any]]


@dataclass(frozen=True, eq=False)
class Demos:
    """Labelled states: one row per step, in episode order.

    Attributes
    ----------
    observations : numpy.ndarray or dict of numpy.ndarray
        What the env returned before each step: uint8 ``(N, H, W, 3)`` frames for
        ``obs="pixels"``, or one ``(N, ...)`` array per key of a ``Dict`` space.
    actions : numpy.ndarray
        The expert's action in each state: int64 ``(N,)`` (``Discrete``) or float32
        ``(N, n)`` (``Box``). With DAgger it need not be the action taken.
    episode_ids : numpy.ndarray
        int64 ``(N,)``: the episode of each row, ``0 .. num_episodes - 1``.
    episode_seeds, episode_returns, episode_lengths, episode_successes : numpy.ndarray
        One entry per episode: its reset seed, return, steps and whether it reached the
        goal (``info["is_success"]`` at its end).
    positions : numpy.ndarray or None
        float32 ``(N, 2 * P)``: where the agent stands in each frame, as ``(row, col)``
        fractions of the frame's height and width (:func:`agent_position`; ``P`` points,
        1 on a grid, the agent first); privileged state for the auxiliary losses of a
        value iteration head (:mod:`rlkit.deep.planning`) or a keypoint head
        (:mod:`rlkit.deep.keypoints`), used in training only. None where the env does
        not tell.
    """

    observations: Observations
    actions: NDArray[Any]
    episode_ids: NDArray[np.int64]
    episode_seeds: NDArray[np.int64]
    episode_returns: NDArray[np.float64]
    episode_lengths: NDArray[np.int64]
    episode_successes: NDArray[np.bool_]
    positions: NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    @property
    def num_episodes(self) -> int:
        """How many episodes the rows come from."""
        return int(self.episode_seeds.shape[0])

    @classmethod
    def concatenate(cls, parts: Sequence[Demos]) -> Demos:
        """The rows of ``parts`` one after the other, episodes renumbered in order."""
        if not parts:
            raise ValueError("parts is empty: concatenate at least one Demos")
        offsets = np.cumsum([0] + [p.num_episodes for p in parts[:-1]])
        first = parts[0].observations
        observations: Observations
        if isinstance(first, dict):
            observations = {
                key: np.concatenate([_as_dict(p.observations)[key] for p in parts]) for key in first
            }
        else:
            observations = np.concatenate([np.asarray(p.observations) for p in parts])
        return cls(
            observations=observations,
            actions=np.concatenate([p.actions for p in parts]),
            episode_ids=np.concatenate(
                [p.episode_ids + o for p, o in zip(parts, offsets, strict=True)]
            ),
            episode_seeds=np.concatenate([p.episode_seeds for p in parts]),
            episode_returns=np.concatenate([p.episode_returns for p in parts]),
            episode_lengths=np.concatenate([p.episode_lengths for p in parts]),
            episode_successes=np.concatenate([p.episode_successes for p in parts]),
            positions=(
                None
                if any(p.positions is None for p in parts)
                else np.concatenate([np.asarray(p.positions) for p in parts])
            ),
        )


def _as_dict(observations: Observations) -> dict[str, NDArray[Any]]:
    if not isinstance(observations, dict):
        raise ValueError("cannot concatenate Demos with dict and array observations")
    return observations


def check_positive(name: str, value: object) -> int:
    """``value`` as an int, checked to be one >= 1 (else ``ValueError`` naming ``name``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def make_expert_env(env_id: str, env_kwargs: dict[str, Any] | None) -> gym.Env[Any, Any]:
    """Make ``env_id`` with ``obs="pixels"`` (unless ``env_kwargs`` says otherwise),
    checked to have ``env.unwrapped.expert_action()`` and ``Discrete`` or ``Box`` actions.

    Raises
    ------
    ValueError
        If ``env_id`` is unknown or has no expert, or ``env_kwargs`` do not fit it.
    """
    from rlkit.evaluation.evaluate import make_env

    kwargs = {"obs": "pixels", **(env_kwargs or {})}
    try:
        env = make_env(env_id, kwargs)
    except TypeError as error:  # the env takes no such keyword (obs= on a non-rlkit env)
        raise ValueError(f"env_kwargs {kwargs!r} do not fit env_id {env_id!r}: {error}") from None
    if not callable(getattr(env.unwrapped, "expert_action", None)):
        env.close()
        raise ValueError(
            f"env_id {env_id!r} has no expert: distillation needs env.unwrapped.expert_action() "
            "(the rlkit/GridNav-* and rlkit/ArmReach* envs have one)"
        )
    if not isinstance(env.action_space, (gym.spaces.Discrete, gym.spaces.Box)):
        env.close()
        raise ValueError(
            f"env_id {env_id!r} has the action space {env.action_space}: the student "
            "learns Discrete or Box actions"
        )
    return env


def observation_key(obs: Any) -> bytes:
    """The bytes of an observation (every array of a dict one), to spot a repeat."""
    if isinstance(obs, dict):
        return b"".join(np.ascontiguousarray(obs[k]).tobytes() for k in sorted(obs))
    return np.ascontiguousarray(obs).tobytes()


def labelled_rollouts(
    env: gym.Env[Any, Any],
    seeds: Sequence[int],
    choose: Callable[[Any, Any], Any] | None = None,
    stop_on_repeat: int | None = None,
) -> Demos:
    """Play one episode per reset seed, labelling every state with the expert's action.

    ``env`` comes from :func:`make_expert_env`. ``choose(obs, expert_action)`` picks the
    action taken (DAgger's mixture policy); the expert's by default. With
    ``stop_on_repeat=k`` an episode also ends when one observation comes back for the
    ``k``-th time: a policy caught in a loop would only add copies of the same states.
    """
    expert = env.unwrapped.expert_action  # type: ignore[attr-defined]

    def reset(seed: int) -> tuple[Any, dict[str, Any]]:
        return env.reset(seed=seed)

    position = partial(agent_position, env) if tells_position(env) else None
    return play_labelled(
        reset, env.step, expert, env.observation_space, env.action_space,
        seeds, choose, stop_on_repeat, position,
    )  # fmt: skip


def tells_position(env: gym.Env[Any, Any]) -> bool:
    """Whether :func:`agent_position` knows where things are in ``env``'s frames: a grid
    env (``agent_cell``) whose frame shows the whole map, or an env with ``keypoints``
    (ArmReach) on pixel observations."""
    base = env.unwrapped
    config: Any = getattr(base, "config", None)
    if hasattr(type(base), "keypoints"):
        return getattr(config, "obs", None) == "pixels"
    return getattr(config, "view", None) == "full" and hasattr(type(base), "agent_cell")


def agent_position(env: gym.Env[Any, Any]) -> tuple[float, ...] | None:
    """Where the agent is in ``env``'s frame, as fractions ``(row, col)`` of its height
    and width; None when the env does not say (:func:`tells_position`).

    On a grid: the agent's cell centre. On an env with ``keypoints`` (ArmReach): every
    keypoint in order, ``(row, col)`` pairs one after the other (the end effector first,
    then the goal and the joints).

    >>> import envs, gymnasium as gym
    >>> env = gym.make("rlkit/GridNav-v0", obs="pixels")
    >>> _ = env.reset(seed=0)
    >>> row, col = agent_position(env)
    >>> 0 < row < 1 and 0 < col < 1
    True
    >>> arm = gym.make("rlkit/ArmReach-v0", obs="pixels")
    >>> _ = arm.reset(seed=0)
    >>> len(agent_position(arm))  # end effector, goal, elbow
    6
    """
    if not tells_position(env):
        return None
    base: Any = env.unwrapped
    if hasattr(type(base), "keypoints"):
        return tuple(float(v) for v in np.asarray(base.keypoints).ravel())
    row, col = base.agent_cell
    return ((row + 0.5) / base.config.rows, (col + 0.5) / base.config.cols)


#: ``step(action) -> (obs, reward, terminated, truncated, info)``, as gymnasium's.
Step = Callable[[Any], tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]]


def play_labelled(
    reset: Callable[[int], tuple[Any, dict[str, Any]]],
    step: Step,
    label: Callable[[], Any],
    observation_space: gym.Space[Any],
    action_space: gym.Space[Any],
    seeds: Sequence[int],
    choose: Callable[[Any, Any], Any] | None = None,
    stop_on_repeat: int | None = None,
    position: Callable[[], tuple[float, ...] | None] | None = None,
) -> Demos:
    """The episode loop of :func:`labelled_rollouts`, on any labeller.

    ``reset(seed) -> (obs, info)`` and ``step`` play an env whose observations fill
    ``observation_space``; ``label()`` is the expert's action in the state last
    returned (an int for a ``Discrete`` ``action_space``, else float32). ``choose`` and
    ``stop_on_repeat`` as in :func:`labelled_rollouts`. ``position()``, when given,
    is the agent's position in the state last returned (:attr:`Demos.positions`).
    """
    discrete = isinstance(action_space, gym.spaces.Discrete)
    observations: list[Any] = []
    actions: list[Any] = []
    ids: list[int] = []
    positions: list[tuple[float, ...] | None] = []
    returns, lengths, successes = [], [], []
    for episode, seed in enumerate(seeds):
        obs, info = reset(int(seed))
        total, steps, done = 0.0, 0, False
        success = bool(info.get("is_success", False))
        seen: dict[bytes, int] = {}
        while not done:
            expert_action = label()
            expert_action = (
                int(expert_action) if discrete else np.asarray(expert_action, dtype=np.float32)
            )
            observations.append(obs)
            actions.append(expert_action)
            ids.append(episode)
            if position is not None:
                positions.append(position())
            action = expert_action if choose is None else choose(obs, expert_action)
            obs, reward, terminated, truncated, info = step(action)
            total += float(reward)
            steps += 1
            done = terminated or truncated
            success = bool(info.get("is_success", success))
            if stop_on_repeat is not None and not done:
                key = observation_key(obs)
                seen[key] = seen.get(key, 0) + 1
                done = seen[key] >= stop_on_repeat
        returns.append(total)
        lengths.append(steps)
        successes.append(success)
    stacked: Observations
    if isinstance(observation_space, gym.spaces.Dict):
        stacked = {k: np.stack([o[k] for o in observations]) for k in observation_space.spaces}
    else:
        stacked = np.stack(observations)
    return Demos(
        observations=stacked,
        actions=np.asarray(actions, dtype=np.int64 if discrete else np.float32),
        episode_ids=np.asarray(ids, dtype=np.int64),
        episode_seeds=np.asarray(seeds, dtype=np.int64),
        episode_returns=np.asarray(returns, dtype=np.float64),
        episode_lengths=np.asarray(lengths, dtype=np.int64),
        episode_successes=np.asarray(successes, dtype=np.bool_),
        positions=(
            None
            if position is None or any(p is None for p in positions)
            else np.asarray(positions, dtype=np.float32).reshape(len(positions), -1)
        ),
    )


def collect_demos(
    env_id: str,
    episodes: int,
    *,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
) -> Demos:
    """Roll out the planner expert for ``episodes`` episodes on pixel observations.

    Parameters
    ----------
    env_id : str
        An env with ``env.unwrapped.expert_action()`` (``rlkit/GridNav-*``,
        ``rlkit/ArmReach*``).
    episodes : int
        Episodes to play; episode ``i`` resets with seed ``seed + i``.
    seed : int, default 0
        Reset seed of the first episode.
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make``, on top of ``obs="pixels"``.

    Returns
    -------
    Demos

    Raises
    ------
    ValueError
        If ``episodes < 1``, ``env_kwargs`` do not fit the env, or ``env_id`` has no
        expert.

    Examples
    --------
    >>> demos = collect_demos("rlkit/ArmReach-v0", 1, env_kwargs={"pixel_size": 32})
    >>> demos.observations.dtype, demos.actions.dtype, demos.actions.shape[1]
    (dtype('uint8'), dtype('float32'), 2)
    """
    episodes = check_positive("episodes", episodes)
    env = make_expert_env(env_id, env_kwargs)
    try:
        return labelled_rollouts(env, [seed + i for i in range(episodes)])
    finally:
        env.close()
