"""Turning continuous observations into state indices for the tabular learners."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

__all__ = ["DiscretizeObservation"]


class DiscretizeObservation(gym.ObservationWrapper[np.int64, Any, npt.NDArray[Any]]):
    """Uniform grid over a Box observation space: observation -> cell index.

    Each dimension ``i`` is cut into ``bins[i]`` equal intervals between ``low[i]`` and
    ``high[i]``; values outside fall into the first or last interval. The cell of an
    observation is the row-major index of its interval per dimension, so the wrapped
    environment has ``Discrete(prod(bins))`` observations.

    Parameters
    ----------
    env : gymnasium.Env
        Environment with a Box observation space.
    bins : int or sequence of int
        Intervals per dimension (one number for all), each >= 1.
    low, high : float or sequence of float, optional
        Range per dimension; default the space's bounds. Required where those are
        infinite (e.g. CartPole's velocities).

    Raises
    ------
    ValueError
        If the space is not a Box, ``bins`` has the wrong length or a value < 1, or a
        bound is infinite and not given.

    Examples
    --------
    >>> import gymnasium as gym
    >>> env = DiscretizeObservation(gym.make("MountainCar-v0"), bins=(6, 5))
    >>> env.observation_space
    Discrete(30)
    >>> int(env.observation(np.array([-1.2, 0.07])))
    4
    >>> cartpole = gym.make("CartPole-v1")
    >>> bounds = dict(low=[-2.4, -3, -0.21, -3], high=[2.4, 3, 0.21, 3])  # velocities unbounded
    >>> env = DiscretizeObservation(cartpole, bins=3, **bounds)
    >>> env.observation_space
    Discrete(81)
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        bins: int | Sequence[int],
        *,
        low: float | Sequence[float] | None = None,
        high: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box):
            raise ValueError(f"DiscretizeObservation needs a Box observation space, got {space}")
        dims = int(np.prod(space.shape))
        counts = np.broadcast_to(np.asarray(bins), (dims,)) if np.ndim(bins) == 0 else bins
        counts = np.asarray(counts)
        if counts.shape != (dims,) or counts.dtype.kind not in "iu" or (counts < 1).any():
            raise ValueError(
                f"bins must be an integer >= 1 or {dims} of them (one per dimension of "
                f"{space}), got {bins!r}"
            )
        self.bins: npt.NDArray[np.int64] = counts.astype(np.int64)
        self.low = _bound(low, space.low, dims, "low")
        self.high = _bound(high, space.high, dims, "high")
        if (self.high <= self.low).any():
            raise ValueError(f"high must exceed low in every dimension: {self.low} vs {self.high}")
        self._width = (self.high - self.low) / self.bins
        self.observation_space = gym.spaces.Discrete(int(np.prod(self.bins)))

    def observation(self, observation: npt.NDArray[Any]) -> np.int64:
        """The cell index of one observation (an integer, like Discrete's samples)."""
        values = np.asarray(observation, dtype=np.float64).reshape(-1)
        cells = np.floor((values - self.low) / self._width).astype(np.int64)
        cells = np.clip(cells, 0, self.bins - 1)
        return np.int64(np.ravel_multi_index(tuple(cells), tuple(self.bins)))


def _bound(
    given: float | Sequence[float] | None,
    space_bound: npt.NDArray[Any],
    dims: int,
    name: str,
) -> npt.NDArray[np.float64]:
    if given is None:
        bound = np.asarray(space_bound, dtype=np.float64).reshape(-1)
        if not np.isfinite(bound).all():
            raise ValueError(
                f"the observation space is unbounded ({name}={bound.tolist()}); "
                f"give DiscretizeObservation(..., {name}=[...]) with a finite value per dimension"
            )
        return bound
    try:
        bound = np.broadcast_to(np.asarray(given, dtype=np.float64), (dims,)).copy()
    except ValueError:
        raise ValueError(f"{name} must be a number or {dims} numbers, got {given!r}") from None
    if not np.isfinite(bound).all():
        raise ValueError(f"{name} must be finite, got {given!r}")
    return bound
