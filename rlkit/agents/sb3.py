"""stable-baselines3 models as agents: the adapter, and which algorithm saved a ``.zip``."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rlkit.agents.policy import PolicyAgent

__all__ = ["SB3Agent", "is_sb3_model", "sb3_algorithm"]

#: stable-baselines3 algorithms :func:`~rlkit.agents.load_agent` can infer from a ``.zip``.
_SB3_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "DQN",
    "stable_baselines3.sac.policies": "SAC",
    "stable_baselines3.td3.policies": "TD3",
}
#: ``(field of the saved data, algorithm)`` for models on :mod:`rlkit.deep.policies`,
#: checked in order (PPO and A2C both have ``gae_lambda``; only PPO ``clip_range``).
_RLKIT_POLICY_FIELDS = (
    ("clip_range", "PPO"),
    ("exploration_initial_eps", "DQN"),
    ("target_entropy", "SAC"),
    ("gae_lambda", "A2C"),
)


class SB3Agent(PolicyAgent):
    """A stable-baselines3 model (``PPO``, ``DQN``, ...) or policy.

    Carries the recurrent state between steps (``RecurrentPPO`` and friends) and
    reseeds the model through ``set_random_seed`` when the harness asks (which also
    seeds torch's, numpy's and ``random``'s global generators, as SB3 does).

    Parameters
    ----------
    model : stable_baselines3.common.base_class.BaseAlgorithm or BasePolicy
        The model.
    deterministic : bool
        Passed to ``predict``.
    name : str, optional
        Name in reports; defaults to the model's class name (``"PPO"``).
    """

    def __init__(self, model: Any, *, deterministic: bool = True, name: str | None = None) -> None:
        super().__init__(model, deterministic=deterministic, name=name)
        self._state: Any = None
        self._episode_start = True

    def act(self, obs: Any) -> Any:
        """The model's action for ``obs``."""
        action, self._state = self.model.predict(
            obs,
            state=self._state,
            episode_start=np.array([self._episode_start]),
            deterministic=self.deterministic,
        )
        self._episode_start = False
        return action

    def reset(self) -> None:
        """Drop the recurrent state."""
        self._state = None
        self._episode_start = True

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        algo: str | type | None = None,
        deterministic: bool = True,
        device: str = "auto",
    ) -> SB3Agent:
        """Load a model saved with ``model.save(path)``.

        .. warning::
           An SB3 ``.zip`` holds pickled Python objects: loading one executes code from
           the file. Only load files you trust.

        Parameters
        ----------
        path : path-like
            The ``.zip``.
        algo : str or type, optional
            The algorithm class or its name in ``stable_baselines3`` (``"PPO"``). Inferred
            from the file when omitted (DQN, SAC, TD3, PPO, A2C; DDPG loads as TD3, which
            acts the same).
        deterministic : bool
            Passed to ``predict``.
        device : str
            Torch device; ``"auto"`` uses CUDA when present.

        Raises
        ------
        ValueError
            If ``algo`` is an unknown name or cannot be inferred.
        """
        algo_class = sb3_algorithm(path, algo)
        model = algo_class.load(os.fspath(path), device=device)
        return cls(
            model, deterministic=deterministic, name=f"{algo_class.__name__}:{Path(path).stem}"
        )


def sb3_algorithm(path: str | os.PathLike[str], algo: str | type | None) -> Any:
    """The stable-baselines3 class that loads ``path``: ``algo`` (a class or a name such as
    ``"ppo"``), or the one read off the file's saved policy class when ``algo`` is None."""
    if isinstance(algo, type):
        return algo
    if algo is None:
        algo = _infer_sb3_algorithm(path)
    import stable_baselines3

    found = getattr(stable_baselines3, algo.upper(), None)
    if not isinstance(found, type):
        raise ValueError(
            f"unknown stable-baselines3 algorithm {algo!r}: pass one of "
            "A2C, DDPG, DQN, PPO, SAC, TD3, or the class itself (sb3-contrib models)"
        )
    return found


def _infer_sb3_algorithm(path: str | os.PathLike[str]) -> str:
    """Read the algorithm off a saved model's JSON ``data`` (no pickles are opened)."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{os.fspath(path)!r} is not a stable-baselines3 model (.zip with a 'data' entry)"
        ) from exc
    module = str(data.get("policy_class", {}).get("__module__", ""))
    if module in _SB3_POLICY_MODULES:
        return _SB3_POLICY_MODULES[module]
    if module == "stable_baselines3.common.policies":  # shared by PPO and A2C
        return "PPO" if "clip_range" in data else "A2C"
    if module == "rlkit.deep.policies":  # one module for all: tell by the algorithm's fields
        for field, algorithm in _RLKIT_POLICY_FIELDS:
            if field in data:
                return algorithm
    raise ValueError(
        f"cannot tell which algorithm saved {os.fspath(path)!r} (policy from {module!r}): "
        "pass algo='PPO' (or the class, for sb3-contrib models)"
    )


def is_sb3_model(model: object) -> bool:
    """Whether ``model`` is a stable-baselines3 algorithm or policy (False when SB3 is
    not imported yet: nothing made one)."""
    if "stable_baselines3" not in sys.modules:  # never import torch just to check
        return False
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.policies import BasePolicy

    return isinstance(model, (BaseAlgorithm, BasePolicy))
