"""Adapters for models with ``predict(obs, deterministic=...)``, and ``rlkit.tabular`` models."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import gymnasium as gym

__all__ = ["PolicyAgent", "TabularAgent"]


class PolicyAgent:
    """Adapter for any model with ``predict(obs, deterministic=...) -> (action, state)``.

    Parameters
    ----------
    model : object
        The model; ``predict`` is called with one (unbatched) observation.
    deterministic : bool
        Passed to ``predict``; :func:`~rlkit.evaluation.evaluate` overrides it with its
        own ``deterministic`` argument.
    name : str, optional
        Name in reports; defaults to the model's class name.

    Examples
    --------
    >>> class Greedy:
    ...     def predict(self, obs, deterministic=True):
    ...         return obs + 1, None
    >>> PolicyAgent(Greedy()).act(1)
    2
    """

    def __init__(self, model: Any, *, deterministic: bool = True, name: str | None = None) -> None:
        if not callable(getattr(model, "predict", None)):
            raise TypeError(f"{type(model).__name__} has no predict(obs, deterministic) method")
        self.model = model
        self.deterministic = deterministic
        self.name = name or type(model).__name__

    def with_deterministic(self, deterministic: bool) -> PolicyAgent:
        """The same model acting with another ``deterministic`` setting (a new adapter)."""
        if deterministic == self.deterministic:
            return self
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.deterministic = deterministic
        return clone

    def act(self, obs: Any) -> Any:
        """The model's action for ``obs``."""
        action, _state = self.model.predict(obs, deterministic=self.deterministic)
        return action

    def reset(self) -> None:
        """Nothing to forget: the model is stateless between steps."""

    def seed(self, seed: int) -> None:
        """Reseed the model when it can be (``set_random_seed`` or ``seed``)."""
        for method in ("set_random_seed", "seed"):
            reseed = getattr(self.model, method, None)
            if callable(reseed):
                reseed(seed)
                return


class TabularAgent(PolicyAgent):
    """An ``rlkit.tabular`` model (Q-learning, SARSA, ...) acting greedily by default.

    Parameters
    ----------
    model : object
        A tabular model with ``predict(obs, deterministic=True) -> (action, None)``.
    deterministic : bool
        Greedy (``True``) or the model's exploration policy (``False``).
    name : str, optional
        Name in reports; defaults to ``"tabular:<ModelClass>"``.
    """

    def __init__(self, model: Any, *, deterministic: bool = True, name: str | None = None) -> None:
        super().__init__(
            model, deterministic=deterministic, name=name or f"tabular:{type(model).__name__}"
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env: gym.Env[Any, Any] | None = None,
        *,
        deterministic: bool = True,
    ) -> TabularAgent:
        """Load a model saved by ``rlkit.tabular`` (``.npz``; plain arrays, no code runs).

        Parameters
        ----------
        path : path-like
            The ``.npz`` file.
        env : gymnasium.Env, optional
            Checked against the saved table's state and action counts.
        deterministic : bool
            Greedy or exploring actions.

        Raises
        ------
        ImportError
            If ``rlkit.tabular`` is not installed.
        ValueError
            If the file is not a tabular model or does not fit ``env``.
        """
        try:
            tabular = importlib.import_module("rlkit.tabular")
        except ImportError as exc:
            raise ImportError(f"loading {os.fspath(path)!r} needs rlkit.tabular: {exc}") from exc
        model = tabular.load(path, env)
        algorithm = getattr(model, "algorithm", "") or type(model).__name__
        return cls(model, deterministic=deterministic, name=f"{algorithm}:{Path(path).stem}")
