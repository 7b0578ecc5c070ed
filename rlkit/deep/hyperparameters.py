"""The algorithms :func:`rlkit.deep.train` runs and their hyperparameters.

:data:`ALGORITHMS` names the stable-baselines3 classes. Hyperparameters come from the
per-algorithm YAML files shipped in ``rlkit/deep/hyperparams/`` (rl-zoo style: one entry
per env id over a ``default`` entry), read by :func:`load_hyperparams`;
:func:`resolve_hyperparams` adds :func:`~rlkit.deep.train`'s own arguments and the
fallbacks, :func:`sb3_kwargs` turns the JSON-like values into SB3 constructor arguments
and :func:`jsonable` turns them back for ``config.json``.

Examples
--------
>>> hp = resolve_hyperparams("dqn", "rlkit/GridNav-v0", {"batch_size": 8}, {"n_envs": 2})
>>> hp["batch_size"], hp["n_envs"], hp["checkpoint_every"]
(8, 2, 10000)
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from importlib import resources
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import DQN, PPO, SAC, HerReplayBuffer
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import DictReplayBuffer, ReplayBuffer
from stable_baselines3.common.utils import LinearSchedule
from torch import nn

__all__ = [
    "ALGORITHMS",
    "RLKIT_KEYS",
    "allowed_hyperparams",
    "check_action_space",
    "check_algo",
    "jsonable",
    "load_hyperparams",
    "resolve_hyperparams",
    "sb3_kwargs",
]

#: The algorithms :func:`~rlkit.deep.train` runs, by name.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "dqn": DQN, "sac": SAC}
#: Action spaces each algorithm handles (SB3's own limits).
_ACTION_SPACES: dict[str, tuple[type[gym.Space[Any]], ...]] = {
    "ppo": (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary),
    "dqn": (gym.spaces.Discrete,),
    "sac": (gym.spaces.Box,),
}
#: Hyperparameter keys rlkit reads itself; every other key is an SB3 constructor argument.
RLKIT_KEYS = ("n_envs", "total_steps", "checkpoint_every", "backbone_lr_scale")
#: Values of the keys the files leave out.
_FALLBACKS: dict[str, Any] = {"n_envs": 1, "checkpoint_every": 10_000, "backbone_lr_scale": 1.0}
#: SB3 constructor arguments :func:`~rlkit.deep.train` sets from its own arguments.
_MANAGED = ("self", "policy", "env", "seed", "device", "tensorboard_log", "verbose")
_REPLAY_BUFFERS: dict[str, type[ReplayBuffer]] = {
    "ReplayBuffer": ReplayBuffer,
    "DictReplayBuffer": DictReplayBuffer,
    "HerReplayBuffer": HerReplayBuffer,
}


def allowed_hyperparams(algo: str) -> list[str]:
    """The keys a hyperparameter entry of ``algo`` may hold: its SB3 constructor's
    arguments (less those :func:`~rlkit.deep.train` sets) and :data:`RLKIT_KEYS`.

    >>> {"n_steps", "n_envs", "policy_kwargs"} <= set(allowed_hyperparams("ppo"))
    True
    >>> "seed" in allowed_hyperparams("dqn")
    False
    """
    parameters = inspect.signature(ALGORITHMS[check_algo(algo)].__init__).parameters
    return sorted([*RLKIT_KEYS, *(p for p in parameters if p not in _MANAGED and p[0] != "_")])


def load_hyperparams(
    algo: str, env_id: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The hyperparameters of ``algo`` on ``env_id``: the file's ``default`` entry, then
    its ``env_id`` entry, then ``overrides``; later ones win, and keys ending in
    ``_kwargs`` (``policy_kwargs``, ...) are merged key by key.

    Values stay as written (JSON-like): ``replay_buffer_class`` may name a buffer
    (``"HerReplayBuffer"``), ``learning_rate`` may be ``"lin_3e-4"`` (linear decay to
    0), ``policy_kwargs.activation_fn`` may be ``"relu"`` or ``"nn.Tanh"``.

    Raises
    ------
    ValueError
        For an unknown algorithm, a key the algorithm does not take (the message
        lists the allowed ones) or a hyperparameter file that is not a YAML mapping.
    TypeError
        For a key that is not a string.

    Examples
    --------
    >>> hp = load_hyperparams("dqn", "rlkit/GridNav-v0", {"batch_size": 8})
    >>> hp["batch_size"], hp["n_envs"] >= 1
    (8, True)
    """
    algo = check_algo(algo)
    text = resources.files("rlkit.deep").joinpath(f"hyperparams/{algo}.yml").read_text("utf-8")
    yaml = importlib.import_module("yaml")
    try:
        table = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"rlkit/deep/hyperparams/{algo}.yml: not valid YAML: {error}") from None
    if not isinstance(table, dict):
        raise ValueError(f"rlkit/deep/hyperparams/{algo}.yml must map env ids to entries")
    merged: dict[str, Any] = {}
    for source, entry in (("default", table.get("default")), (env_id, table.get(env_id))):
        if entry is not None and not isinstance(entry, dict):
            raise ValueError(f"rlkit/deep/hyperparams/{algo}.yml: {source!r} must be a mapping")
        merged = _merge(merged, entry or {})
    merged = _merge(merged, dict(overrides or {}))
    odd = [key for key in merged if not isinstance(key, str)]
    if odd:
        raise TypeError(f"hyperparams: keys must be names (str), got {odd[0]!r}")
    allowed = allowed_hyperparams(algo)
    unknown = sorted(set(merged) - set(allowed))
    if unknown:
        raise ValueError(
            f"hyperparams: {algo} takes no {', '.join(map(repr, unknown))}; "
            f"allowed keys: {', '.join(allowed)}"
        )
    return merged


def resolve_hyperparams(
    algo: str,
    env_id: str,
    overrides: Mapping[str, Any] | None,
    explicit: Mapping[str, Any | None],
) -> dict[str, Any]:
    """:func:`load_hyperparams`, then the ``explicit`` values that are not None (the
    arguments of :func:`~rlkit.deep.train` of the same names), then the fallbacks of
    the keys still missing.

    Raises
    ------
    ValueError
        As :func:`load_hyperparams`, and where ``total_steps``, ``n_envs`` or
        ``checkpoint_every`` is not a positive integer.
    """
    hp = load_hyperparams(algo, env_id, overrides)
    hp.update({k: v for k, v in explicit.items() if v is not None})
    for key, value in _FALLBACKS.items():
        hp.setdefault(key, value)
    for key in ("total_steps", "n_envs", "checkpoint_every"):
        if not isinstance(hp.get(key), int) or isinstance(hp[key], bool) or hp[key] < 1:
            raise ValueError(f"{key} must be a positive integer, got {hp.get(key)!r}")
    return hp


def _merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        old = merged.get(key)
        if (
            isinstance(key, str)
            and key.endswith("_kwargs")
            and isinstance(old, Mapping)
            and isinstance(value, Mapping)
        ):
            value = _merge(old, value)
        merged[key] = value
    return merged


def check_algo(algo: str) -> str:
    """``algo``, checked to be one of :data:`ALGORITHMS` (else ``ValueError``)."""
    if algo not in ALGORITHMS:
        raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {algo!r}")
    return algo


def check_action_space(algo: str, env_id: str, space: gym.Space[Any]) -> None:
    """Raise ``ValueError`` (naming the algorithms that fit) unless ``algo`` handles
    the action ``space`` of ``env_id``."""
    kinds = _ACTION_SPACES[algo]
    if isinstance(space, kinds):
        return
    fitting = [name for name, k in _ACTION_SPACES.items() if isinstance(space, k)]
    raise ValueError(
        f"algo {algo!r} needs {' or '.join(k.__name__ for k in kinds)} actions, but {env_id} "
        f"has {space}; use algo {' or '.join(map(repr, fitting)) or 'another'}"
        + (" (or ArmReach with env_kwargs={'discrete': True})" if algo == "dqn" else "")
    )


def sb3_kwargs(hp: Mapping[str, Any], backbone_policy: bool) -> dict[str, Any]:
    """SB3 constructor arguments from JSON-like hyperparameters (names -> objects)."""
    kwargs = {k: v for k, v in hp.items() if k not in RLKIT_KEYS}
    for key in ("learning_rate", "clip_range", "clip_range_vf"):
        value = kwargs.get(key)
        if isinstance(value, str) and value.startswith("lin_"):
            kwargs[key] = LinearSchedule(_number(value[4:], key), 0.0, 1.0)
    if isinstance(kwargs.get("train_freq"), list):  # YAML has no tuples: [1, "episode"]
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    buffer = kwargs.get("replay_buffer_class")
    if isinstance(buffer, str):
        if buffer not in _REPLAY_BUFFERS:
            raise ValueError(
                f"hyperparams: replay_buffer_class must be one of {sorted(_REPLAY_BUFFERS)}, "
                f"got {buffer!r}"
            )
        kwargs["replay_buffer_class"] = _REPLAY_BUFFERS[buffer]
    if not isinstance(kwargs.get("policy_kwargs") or {}, Mapping):
        raise TypeError(
            f"hyperparams: policy_kwargs must be a mapping, got {kwargs['policy_kwargs']!r}"
        )
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    activation = policy_kwargs.get("activation_fn")
    if isinstance(activation, str):
        policy_kwargs["activation_fn"] = _activation(activation)
    if backbone_policy:
        policy_kwargs["backbone_lr_scale"] = float(hp["backbone_lr_scale"])
    else:
        policy_kwargs.pop("features_extractor_kwargs", None)
    kwargs["policy_kwargs"] = policy_kwargs
    return kwargs


def _number(text: str, key: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"hyperparams: {key} 'lin_<number>' expected, got {text!r}") from None


def _activation(name: str) -> type[nn.Module]:
    short = {
        "relu": "ReLU",
        "tanh": "Tanh",
        "elu": "ELU",
        "gelu": "GELU",
        "leaky_relu": "LeakyReLU",
    }
    found = getattr(nn, short.get(name, name.removeprefix("nn.")), None)
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise ValueError(
            f"hyperparams: policy_kwargs.activation_fn {name!r} is not a torch.nn module "
            f"(use {', '.join(short)} or 'nn.<Name>')"
        )
    return found


def jsonable(value: Any) -> Any:
    """``value`` with classes and other objects as names/strings (for config.json).

    >>> jsonable({"replay_buffer_class": HerReplayBuffer, "train_freq": (1, "episode")})
    {'replay_buffer_class': 'HerReplayBuffer', 'train_freq': [1, 'episode']}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
