"""What the native vector envs share: Gymnasium's reset conventions for N sub-envs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["reset_mask", "sub_env_seeds"]


def sub_env_seeds(seed: int | Sequence[int | None] | None, n: int) -> list[int | None]:
    """One reset seed per sub-env, as ``SyncVectorEnv`` derives them.

    ``None`` gives ``None`` each; an int ``s`` gives ``s + i`` to sub-env ``i``; a
    sequence must hold one seed per sub-env.

    Examples
    --------
    >>> sub_env_seeds(7, 3)
    [7, 8, 9]
    """
    if seed is None:
        return [None] * n
    if isinstance(seed, int | np.integer):
        return [int(seed) + i for i in range(n)]
    seeds = list(seed)
    if len(seeds) != n:
        raise ValueError(f"seed must give one seed per env ({n}), got {len(seeds)}")
    return seeds


def reset_mask(options: dict[str, Any] | None, n: int) -> npt.NDArray[np.bool_]:
    """Which sub-envs a reset concerns: ``options["reset_mask"]``, or all of them.

    Examples
    --------
    >>> reset_mask(None, 2).tolist()
    [True, True]
    """
    if options is None or "reset_mask" not in options:
        return np.ones(n, dtype=bool)
    mask = np.asarray(options["reset_mask"])
    if mask.shape != (n,) or mask.dtype != np.bool_ or not mask.any():
        raise ValueError(
            f"options['reset_mask'] must be a bool array of shape ({n},) with at "
            f"least one True, got {mask!r}"
        )
    return mask
