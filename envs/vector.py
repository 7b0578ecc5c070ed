"""What the native vector envs share: Gymnasium's reset, autoreset and info conventions.

:class:`NumpyVectorEnv` is the base of :class:`~envs.grid.vector.GridNavVectorEnv` and
:class:`~envs.arm.vector.ArmReachVectorEnv`: seeding (:func:`sub_env_seeds`), reset
masks (:func:`reset_mask`), the three autoreset modes, batched infos
(:func:`batched_infos`) and ``final_obs`` / ``final_info``. A subclass supplies the
numpy step of all sub-environments and how new episodes are written in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.base import EnvConfig

__all__ = ["NumpyVectorEnv", "batched_infos", "reset_mask", "sub_env_seeds", "unbatch"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


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


def reset_mask(options: dict[str, Any] | None, n: int) -> BoolArray:
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


def batched_infos(
    values: Mapping[str, npt.NDArray[Any]], keys: Sequence[str], mask: BoolArray | None
) -> dict[str, Any]:
    """Infos batched as ``VectorEnv._add_info`` does: zeros and a False mask where absent.

    ``values[key]`` holds one value per sub-env; ``mask`` (``None``: all) says which
    sub-envs report.

    Examples
    --------
    >>> infos = batched_infos({"x": np.array([1.0, 2.0])}, ["x"], np.array([True, False]))
    >>> infos["x"].tolist(), infos["_x"].tolist()
    ([1.0, 0.0], [True, False])
    """
    infos: dict[str, Any] = {}
    for key in keys:
        value = values[key]
        present = np.ones(len(value), dtype=bool) if mask is None else mask
        if mask is not None:
            value = np.where(mask, value, np.zeros_like(value))
        infos[key] = value
        infos[f"_{key}"] = present.copy()
    return infos


def unbatch(obs: Any, i: int) -> Any:
    """Sub-env ``i``'s observation as the single env returns it (a copy).

    A dict gives a dict, a 1-D batch a Python scalar, anything else row ``i``.

    Examples
    --------
    >>> unbatch(np.array([3, 4]), 1), unbatch({"a": np.eye(2)}, 0)
    (4, {'a': array([1., 0.])})
    """
    if isinstance(obs, dict):
        return {key: value[i].copy() for key, value in obs.items()}
    if obs.ndim == 1:
        return obs[i].item()
    return obs[i].copy()


ConfigT = TypeVar("ConfigT", bound=EnvConfig)


class NumpyVectorEnv(VectorEnv[Any, Any, Any], Generic[ConfigT]):
    """``num_envs`` sub-environments of one config, stepped together with numpy.

    The Gymnasium side of a native vector env: :meth:`reset` (seeds and reset masks),
    :meth:`step` with its autoreset (``NEXT_STEP``, ``SAME_STEP`` or ``DISABLED``),
    batched infos and ``final_obs`` / ``final_info``. Each sub-environment keeps its
    own generator, made from its seed as a single env's ``reset(seed=...)`` makes it.

    A subclass defines :attr:`info_keys` and:

    - ``_step_batch(actions, active)``: check the actions, step every sub-env (or only
      those in ``active``, the others about to reset), return rewards, terminations
      and truncations;
    - ``_begin(ids, rngs)``: draw new episodes for sub-envs ``ids`` from their
      generators and write them in;
    - ``_observe()`` and ``_info_values()``: the batched observation and info values.

    Parameters
    ----------
    num_envs : int
        Number of sub-environments (an int >= 1, checked by the subclass).
    config : ConfigT
        The validated arguments of the sub-environments.
    autoreset_mode : AutoresetMode or str
        Gymnasium 1.x autoreset: ``NEXT_STEP`` (the step after an episode ends resets
        that sub-environment and ignores its action), ``SAME_STEP`` (reset at once;
        ``info["final_obs"]`` and ``info["final_info"]`` hold the end of the episode) or
        ``DISABLED`` (reset with ``reset(options={"reset_mask": mask})``).
    max_episode_steps : int or None
        Truncation limit from :func:`gymnasium.make_vec`; the smaller of it and the
        config's ``max_steps`` applies. (A :class:`~gymnasium.wrappers.TimeLimit` around
        a single env would also truncate an episode that terminates on its last step.)
    render_mode : {None, "rgb_array"}
        ``render()`` returns one frame per sub-environment.
    render_fps : int
        ``metadata["render_fps"]``, that of the single env.
    """

    #: Keys of the batched ``info``, in order.
    info_keys: tuple[str, ...] = ()

    def __init__(
        self,
        num_envs: int,
        config: ConfigT,
        *,
        autoreset_mode: str | AutoresetMode,
        max_episode_steps: int | None,
        render_mode: str | None,
        render_fps: int,
    ) -> None:
        self.config = cfg = config
        if max_episode_steps is not None:
            cfg.max_steps = min(cfg.max_steps, int(max_episode_steps))
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {
            "render_modes": ["rgb_array"],
            "render_fps": render_fps,
            "autoreset_mode": self.autoreset_mode,
        }
        self.num_envs = n = num_envs
        self.single_observation_space = cfg.observation_space
        self.single_action_space = cfg.action_space
        self.observation_space = batch_space(cfg.observation_space, n)
        self.action_space = batch_space(cfg.action_space, n)
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._autoreset = np.zeros(n, dtype=bool)
        self._ready = np.zeros(n, dtype=bool)

    # ------------------------------------------------------------------ API
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Reset all sub-environments (or those in ``options["reset_mask"]``).

        ``seed``: ``None``, an int (sub-environment ``i`` gets ``seed + i``) or one seed
        per sub-environment.
        """
        n = self.num_envs
        seeds = sub_env_seeds(seed, n)
        mask = reset_mask(options, n)
        ids = np.flatnonzero(mask)
        self._reset_envs(ids, [seeds[i] for i in ids])
        self._autoreset[mask] = False
        return self._observe(), self._infos(mask)

    def step(
        self, actions: npt.ArrayLike
    ) -> tuple[Any, FloatArray, BoolArray, BoolArray, dict[str, Any]]:
        """Step every sub-environment; see the class docstring for autoreset."""
        if not self._ready.all():
            raise ResetNeeded("call reset() before step()")
        resetting = self._autoreset  # all False unless NEXT_STEP
        any_resetting = bool(resetting.any())
        rewards, terminated, truncated = self._step_batch(
            actions, ~resetting if any_resetting else None
        )
        infos: dict[str, Any] = {}
        if any_resetting:  # their action was ignored; the reset replaces everything
            ids = np.flatnonzero(resetting)
            self._reset_envs(ids, [None] * ids.size)
            rewards[resetting] = 0.0
            terminated[resetting] = False
            truncated[resetting] = False
        elif self.autoreset_mode == AutoresetMode.SAME_STEP:
            done = terminated | truncated
            if done.any():
                infos = self._final(done)
                ids = np.flatnonzero(done)
                self._reset_envs(ids, [None] * ids.size)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._autoreset = terminated | truncated
        infos.update(self._infos(None))
        return self._observe(), rewards, terminated, truncated, infos

    # ------------------------------------------------------------------ for subclasses
    def _step_batch(
        self, actions: npt.ArrayLike, active: BoolArray | None
    ) -> tuple[FloatArray, BoolArray, BoolArray]:
        """Rewards, terminations and truncations of one step of the sub-envs ``active``
        (``None``: all); the others are left as they are."""
        raise NotImplementedError

    def _begin(self, ids: npt.NDArray[np.intp], rngs: list[np.random.Generator]) -> None:
        """Draw and write in new episodes for sub-envs ``ids``, one generator each."""
        raise NotImplementedError

    def _observe(self) -> Any:
        """The batched observation now."""
        raise NotImplementedError

    def _info_values(self) -> dict[str, npt.NDArray[Any]]:
        """One value per sub-env for each of :attr:`info_keys`."""
        raise NotImplementedError

    def _reseeded(self, i: int) -> None:
        """Sub-env ``i`` got a new generator (a hook; nothing by default)."""

    # ------------------------------------------------------------------ internals
    def _reset_envs(self, ids: npt.NDArray[np.intp], seeds: Sequence[int | None]) -> None:
        """New episodes for envs ``ids``: a new generator where a seed is given (or none
        exists yet), then :meth:`_begin`."""
        rngs = []
        for i, seed in zip(ids.tolist(), seeds, strict=True):
            rng = self._rngs[i]
            if seed is not None or rng is None:
                rng = self._rngs[i] = seeding.np_random(seed)[0]
                self._reseeded(i)
            rngs.append(rng)
        self._begin(ids, rngs)
        self._ready[ids] = True

    def _infos(self, mask: BoolArray | None) -> dict[str, Any]:
        return batched_infos(self._info_values(), self.info_keys, mask)

    def _final(self, done: BoolArray) -> dict[str, Any]:
        """``final_obs`` and ``final_info`` of the episodes ending now (SAME_STEP)."""
        obs = self._observe()
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in np.flatnonzero(done).tolist():  # what the single env returned
            final_obs[i] = unbatch(obs, i)
        return {
            "final_obs": final_obs,
            "_final_obs": done.copy(),
            "final_info": self._infos(done),
            "_final_info": done.copy(),
        }
