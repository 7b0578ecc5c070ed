"""Frames and the simulator's state behind them, collected from GridNav and ArmReach.

Pretraining and the probes both need pixels paired with what the simulator knows
(where the agent and goal are, the joint angles, the end effector). Episodes are
played by three behaviours so that frames cover both what a learner explores and what
an expert sees: ``"random"`` actions, the ``"planner"`` (``expert_action()``) and
``"mixed"`` (the planner with probability ``1 - eps``, ``eps`` drawn per episode).

Every episode is reset with its own seed, ``first_seed + i``, so the maps, obstacles,
starts and goals of a collection are a function of ``first_seed``: pretraining uses
``seed * 1_000_000 + i``, the probes :data:`HELD_OUT_FIRST_SEED` ``+ i``, disjoint draws.

State vector (:data:`STATE_NAMES`, ``nan`` where it does not apply to the task):

- GridNav: agent and goal cell as ``((row + 0.5) / rows, (col + 0.5) / cols)``, the
  cell centre as a fraction of the frame (the map fills the frame at every size).
- ArmReach: ``cos`` and ``sin`` of both joint angles, end effector ``(x, y)`` relative
  to the base divided by the arm's reach.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from envs.arm import ArmReachEnv
from envs.grid import GridNavEnv

__all__ = [
    "ARMREACH_IDS",
    "ARMREACH_SEED_OFFSET",
    "GRIDNAV_LAYOUTS",
    "HELD_OUT_FIRST_SEED",
    "POLICIES",
    "STATE_NAMES",
    "STATE_SLICES",
    "TASKS",
    "FrameDataset",
    "collect_armreach",
    "collect_gridnav",
    "pretraining_first_seed",
]

GRIDNAV_LAYOUTS = ("empty", "random", "rooms", "maze")
ARMREACH_IDS = ("rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0")
POLICIES = ("random", "planner", "mixed")
TASKS = ("gridnav", "armreach")
#: The state vector; GridNav fills the first 4, ArmReach the last 6.
STATE_NAMES = (
    "grid_agent_row", "grid_agent_col", "grid_goal_row", "grid_goal_col",
    "arm_cos_q0", "arm_cos_q1", "arm_sin_q0", "arm_sin_q1", "arm_ee_x", "arm_ee_y",
)  # fmt: skip
STATE_SLICES = {"gridnav": slice(0, 4), "armreach": slice(4, 10)}
#: First reset seed of held-out collections; pretraining seeds stay below it.
HELD_OUT_FIRST_SEED = 10**12
#: Episodes a pretraining collection may use per seed (seeds may not overlap).
SEEDS_PER_RUN = 1_000_000
#: A pretraining run's ArmReach episodes take the upper half of its seed block.
ARMREACH_SEED_OFFSET = SEEDS_PER_RUN // 2

IntArray = npt.NDArray[np.int64]


def pretraining_first_seed(seed: int) -> int:
    """First episode reset seed of a pretraining run with ``seed``; runs with different
    seeds and the held-out probes never share an episode.

    Examples
    --------
    >>> pretraining_first_seed(0), pretraining_first_seed(2)
    (0, 2000000)
    """
    if not 0 <= seed < HELD_OUT_FIRST_SEED // SEEDS_PER_RUN:
        raise ValueError(f"seed must be in [0, {HELD_OUT_FIRST_SEED // SEEDS_PER_RUN}), got {seed}")
    return seed * SEEDS_PER_RUN


@dataclass
class FrameDataset:
    """Frames with their states, task and position in their episode.

    Attributes
    ----------
    frames : uint8 array, shape (N, 3, H, W)
        RGB frames, channels first (the encoder's layout).
    states : float32 array, shape (N, len(STATE_NAMES))
        The simulator's state (see the module docstring); ``nan`` outside the frame's task.
    task : int8 array, shape (N,)
        Index into :data:`TASKS`.
    episode : int64 array, shape (N,)
        Episode number, unique within the dataset; frames of an episode are contiguous
        and in time order.
    source : list of str
        What each episode was: ``"<env id> size=<n> policy=<p> seed=<s>"`` (kept short
        for the model card's data description).
    """

    frames: npt.NDArray[np.uint8]
    states: npt.NDArray[np.float32]
    task: npt.NDArray[np.int8]
    episode: IntArray
    source: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)

    @classmethod
    def concatenate(cls, parts: Sequence[FrameDataset]) -> FrameDataset:
        """One dataset of ``parts`` in order, episode numbers renumbered to stay unique."""
        offset, episodes = 0, []
        for part in parts:
            episodes.append(part.episode + offset)
            offset += int(part.episode.max()) + 1 if len(part) else 0
        return cls(
            frames=np.concatenate([p.frames for p in parts]),
            states=np.concatenate([p.states for p in parts]),
            task=np.concatenate([p.task for p in parts]),
            episode=np.concatenate(episodes),
            source=[s for p in parts for s in p.source],
        )

    def positive_pairs(self, k: int) -> tuple[IntArray, IntArray]:
        """``(anchors, positives)``: every frame ``t`` whose episode has a frame ``t + k``.

        Examples
        --------
        >>> data = FrameDataset(
        ...     frames=np.zeros((5, 3, 16, 16), np.uint8),
        ...     states=np.zeros((5, 10), np.float32),
        ...     task=np.zeros(5, np.int8),
        ...     episode=np.array([0, 0, 0, 1, 1]),
        ... )
        >>> data.positive_pairs(1)
        (array([0, 1, 3]), array([1, 2, 4]))
        """
        if k < 1:
            raise ValueError(f"the temporal offset k must be >= 1, got {k}")
        anchors = np.flatnonzero(self.episode[:-k] == self.episode[k:]).astype(np.int64)
        return anchors, anchors + k

    def channel_stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the frames on the ``[0, 255]`` scale."""
        sums = np.zeros(3)
        squares = np.zeros(3)
        for start in range(0, len(self), 4096):  # in chunks: float64 of all frames is big
            chunk = self.frames[start : start + 4096].astype(np.float64)
            sums += chunk.sum(axis=(0, 2, 3))
            squares += (chunk**2).sum(axis=(0, 2, 3))
        count = len(self) * self.frames.shape[2] * self.frames.shape[3]
        mean = sums / count
        std = np.sqrt(np.maximum(squares / count - mean**2, 1e-6))
        return [float(m) for m in mean], [float(s) for s in std]

    def fingerprint(self) -> str:
        """sha256 of the arrays: equal datasets, equal fingerprints (resume checks it)."""
        digest = hashlib.sha256()
        for array in (self.frames, self.states, self.task, self.episode):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def summary(self) -> dict[str, Any]:
        """Frame and episode counts per task and per source kind (for model cards)."""
        out: dict[str, Any] = {"frames": len(self), "episodes": len(self.source)}
        for index, name in enumerate(TASKS):
            mask = self.task == index
            out[f"{name}_frames"] = int(mask.sum())
            out[f"{name}_episodes"] = len(np.unique(self.episode[mask]))
        return out


class _Recorder:
    """Accumulates frames and states of episodes, then stacks them."""

    def __init__(self, task: str) -> None:
        self.task = TASKS.index(task)
        self.frames: list[npt.NDArray[np.uint8]] = []
        self.states: list[npt.NDArray[np.float32]] = []
        self.episode: list[int] = []
        self.source: list[str] = []

    def add(self, frame: npt.NDArray[np.uint8], state: npt.NDArray[np.float32]) -> None:
        self.frames.append(frame)
        self.states.append(state)
        self.episode.append(len(self.source) - 1)

    def dataset(self, n_frames: int) -> FrameDataset:
        frames = np.stack(self.frames[:n_frames]).transpose(0, 3, 1, 2)
        episode = np.asarray(self.episode[:n_frames], dtype=np.int64)
        return FrameDataset(
            frames=np.ascontiguousarray(frames),
            states=np.stack(self.states[:n_frames]).astype(np.float32),
            task=np.full(len(frames), self.task, dtype=np.int8),
            episode=episode,
            source=self.source[: int(episode[-1]) + 1] if len(episode) else [],
        )


def _behaviour(policy: str, rng: np.random.Generator) -> float:
    """Probability of a random action in an episode of ``policy``."""
    if policy == "random":
        return 1.0
    if policy == "planner":
        return 0.0
    return float(rng.uniform(0.1, 0.6))


def _check(n_frames: int, episode_len: int, policies: Sequence[str]) -> None:
    if n_frames < 1 or episode_len < 2:
        raise ValueError(f"need n_frames >= 1 and episode_len >= 2, got {n_frames}, {episode_len}")
    unknown = set(policies) - set(POLICIES)
    if unknown or not policies:
        raise ValueError(f"policies must be a non-empty subset of {POLICIES}, got {policies}")


def collect_gridnav(
    n_frames: int,
    *,
    first_seed: int,
    sizes: Sequence[int] = (7, 9, 11, 13, 15),
    layouts: Sequence[str] = GRIDNAV_LAYOUTS,
    policies: Sequence[str] = POLICIES,
    episode_len: int = 40,
    pixel_size: int = 64,
) -> FrameDataset:
    """``n_frames`` GridNav frames; episode ``i`` is reset with seed ``first_seed + i``.

    Episodes cycle through every (layout, size, policy) and last ``episode_len`` frames
    or until the goal (its frame included).

    Examples
    --------
    >>> data = collect_gridnav(30, first_seed=0, sizes=[7], episode_len=10)
    >>> data.frames.shape, data.states.shape
    ((30, 3, 64, 64), (30, 10))
    >>> bool(np.all((data.states[:, :4] > 0) & (data.states[:, :4] < 1)))
    True
    """
    _check(n_frames, episode_len, policies)
    combos = [(lay, size, pol) for lay in layouts for size in sizes for pol in policies]
    made: dict[tuple[str, int], gym.Env[Any, Any]] = {}
    rec = _Recorder("gridnav")
    rng = np.random.default_rng([first_seed, 1])  # actions; resets have their own seeds
    i = 0
    while len(rec.frames) < n_frames:
        layout, size, policy = combos[i % len(combos)]
        env = made.get((layout, size))
        if env is None:
            env = made[layout, size] = gym.make(
                "rlkit/GridNav-v0", layout=layout, size=size, obs="pixels", pixel_size=pixel_size
            )
        eps = _behaviour(policy, rng)
        seed = first_seed + i
        frame, _ = env.reset(seed=seed)
        rec.source.append(f"GridNav layout={layout} size={size} policy={policy} seed={seed}")
        base = cast(GridNavEnv, env.unwrapped)
        rows, cols = base.grid.shape
        n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
        for _ in range(episode_len):
            (ar, ac), (gr, gc) = base.agent_cell, base.goal_cell
            state = np.full(len(STATE_NAMES), np.nan, dtype=np.float32)
            state[:4] = ((ar + 0.5) / rows, (ac + 0.5) / cols, (gr + 0.5) / rows, (gc + 0.5) / cols)
            rec.add(frame, state)
            if base.agent_cell == base.goal_cell:
                break
            explore = rng.random() < eps
            action = int(rng.integers(n_actions)) if explore else base.expert_action()
            frame, _, _, truncated, _ = env.step(action)
            if truncated:
                break
        i += 1
    return rec.dataset(n_frames)


def collect_armreach(
    n_frames: int,
    *,
    first_seed: int,
    env_ids: Sequence[str] = ARMREACH_IDS,
    policies: Sequence[str] = POLICIES,
    episode_len: int = 40,
    pixel_size: int = 64,
) -> FrameDataset:
    """``n_frames`` ArmReach frames (2-link arm); episode ``i`` is reset with seed
    ``first_seed + i``, cycling through every (env id, policy).

    Random actions are smooth (a random walk of joint velocities), since independent
    uniform commands only jitter the arm in place.

    Examples
    --------
    >>> data = collect_armreach(20, first_seed=0, episode_len=10)
    >>> data.states[:, 4:].shape, bool(np.isnan(data.states[:, :4]).all())
    ((20, 6), True)
    """
    _check(n_frames, episode_len, policies)
    combos = [(env_id, pol) for env_id in env_ids for pol in policies]
    made: dict[str, gym.Env[Any, Any]] = {}
    rec = _Recorder("armreach")
    rng = np.random.default_rng([first_seed, 2])
    i = 0
    while len(rec.frames) < n_frames:
        env_id, policy = combos[i % len(combos)]
        env = made.get(env_id)
        if env is None:
            env = made[env_id] = gym.make(env_id, obs="pixels", pixel_size=pixel_size)
        eps = _behaviour(policy, rng)
        seed = first_seed + i
        frame, _ = env.reset(seed=seed)
        rec.source.append(f"{env_id.split('/')[-1]} policy={policy} seed={seed}")
        base = cast(ArmReachEnv, env.unwrapped)
        velocity: npt.NDArray[np.float64] = rng.uniform(-1.0, 1.0, size=base.arm.n_joints)
        for _ in range(episode_len):
            rec.add(frame, _arm_state(base))
            velocity = np.clip(velocity + rng.normal(0.0, 0.5, size=velocity.shape), -1.0, 1.0)
            action = velocity if rng.random() < eps else base.expert_action()
            frame, _, terminated, truncated, _ = env.step(np.asarray(action, dtype=np.float32))
            if terminated or truncated:  # record the final frame (goal reached), then stop
                rec.add(frame, _arm_state(base))
                break
        i += 1
    return rec.dataset(n_frames)


def _arm_state(base: ArmReachEnv) -> npt.NDArray[np.float32]:
    """The state vector of an ArmReach env (a 2-link arm) in its current configuration."""
    arm = base.arm
    if arm.n_joints != 2:
        raise ValueError(f"the state vector describes a 2-link arm, got {arm.n_joints} links")
    q = np.asarray(base.q, dtype=np.float64)
    ee = (np.asarray(arm.end_effector(q)) - np.asarray(arm.base)) / float(arm.max_reach)
    state = np.full(len(STATE_NAMES), np.nan, dtype=np.float32)
    state[4:] = (*np.cos(q), *np.sin(q), *ee)
    return state
