"""Train stable-baselines3 PPO, DQN or SAC on pixels through an :mod:`rlkit.backbones` CNN.

:func:`train` builds the env (``obs="pixels"`` for rlkit envs), wraps it in SB3's
``Monitor``, vectorises it, builds the algorithm with the policy of
:data:`rlkit.deep.policies.POLICIES` and learns. Hyperparameters come from per-algorithm
YAML files shipped in ``rlkit/deep/hyperparams/`` (rl-zoo style: one entry per env id
over a ``default`` entry, see :func:`load_hyperparams`), overridden by ``hyperparams=``.

With ``out=`` a run is a folder that survives being killed::

    out/config.json                   how the run was made (hyperparameters, versions)
    out/model.zip                     the final model (stable-baselines3; rlkit eval loads it)
    out/checkpoints/model_<N>.zip     every checkpoint_every steps, written atomically
    out/checkpoints/replay_buffer_<N>.pkl   off-policy algorithms: the latest buffer
    out/monitor/<rank>.monitor.csv    SB3 Monitor: one row per episode, with its step
    out/tb/                           TensorBoard logs

``resume=True`` continues from the latest checkpoint, so an interrupted run loses at
most one interval: the step count, the Monitor files (episodes after the checkpoint are
dropped, the rest kept) and the TensorBoard run all continue.

Examples
--------
>>> import torch
>>> torch.set_num_threads(1)
>>> result = train(
...     "ppo", "rlkit/GridNav-Empty-v0", total_steps=64,
...     env_kwargs={"size": 3, "pixel_size": 32, "max_steps": 8},
...     hyperparams={"n_envs": 1, "n_steps": 32, "batch_size": 32, "n_epochs": 1},
... )
>>> result.steps, result.model.device.type, result.hyperparams["n_steps"]
(64, 'cpu', 32)
>>> set(result.learning_curve[0]) == {"step", "episode_return", "episode_length", "is_success"}
True
>>> result = train("ppo", "rlkit/GridNav-v0", out="runs/ppo", finetune="lora")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import importlib.util
import inspect
import json
import re
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import DQN, PPO, SAC, HerReplayBuffer
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import DictReplayBuffer, ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import HumanOutputFormat, KVWriter, Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn

from rlkit.backbones import DEFAULT_BACKBONE, resolve_device
from rlkit.deep.extractor import FINETUNE_MODES
from rlkit.deep.policies import POLICIES
from rlkit.deep.wrappers import GoalPixels
from rlkit.evaluation.atomic import atomic_output, atomic_write_text
from rlkit.evaluation.provenance import provenance

__all__ = ["ALGORITHMS", "TrainResult", "allowed_hyperparams", "load_hyperparams", "train"]

#: The algorithms :func:`train` runs, by name.
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
#: SB3 constructor arguments :func:`train` sets from its own arguments.
_MANAGED = ("self", "policy", "env", "seed", "device", "tensorboard_log", "verbose")
#: Keys a run may change when it is resumed.
_RESUMABLE = ("total_steps", "checkpoint_every")
_REPLAY_BUFFERS: dict[str, type[ReplayBuffer]] = {
    "ReplayBuffer": ReplayBuffer,
    "DictReplayBuffer": DictReplayBuffer,
    "HerReplayBuffer": HerReplayBuffer,
}
#: The info key (and Monitor column) holding the training step an episode ended at.
STEP_KEY = "total_steps"
_CHECKPOINT = re.compile(r"model_(\d+)\.zip")


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` made.

    Attributes
    ----------
    model : stable_baselines3.common.base_class.BaseAlgorithm
        The trained model (its env still open, so ``model.learn`` may continue).
    steps : int
        ``model.num_timesteps``: environment steps, all envs and resumed parts together.
    episodes : int
        Episodes finished, resumed parts included.
    learning_curve : list of dict
        One point per episode in step order: ``step`` (training step it ended at),
        ``episode_return``, ``episode_length`` and, where the env reports it,
        ``is_success``.
    out : Path or None
        The run folder.
    seconds : float
        Wall time of this call.
    hyperparams : dict
        The hyperparameters used (JSON values; also in ``out/config.json``).
    """

    model: BaseAlgorithm
    steps: int
    episodes: int
    learning_curve: list[dict[str, Any]]
    out: Path | None
    seconds: float
    hyperparams: dict[str, Any]

    def summary(self, last: int = 100) -> dict[str, Any]:
        """Steps, episodes, seconds, and the mean return and success rate (None where
        the env reports no success) of the ``last`` episodes."""
        recent = self.learning_curve[-last:]
        returns = [p["episode_return"] for p in recent]
        successes = [p["is_success"] for p in recent if "is_success" in p]
        return {
            "steps": self.steps,
            "episodes": self.episodes,
            "seconds": round(self.seconds, 3),
            "recent_episodes": len(recent),
            "mean_return": float(np.mean(returns)) if returns else None,
            "success_rate": float(np.mean(successes)) if successes else None,
        }


# ------------------------------------------------------------------ hyperparameters


def allowed_hyperparams(algo: str) -> list[str]:
    """The keys a hyperparameter entry of ``algo`` may hold: its SB3 constructor's
    arguments (less those :func:`train` sets) and :data:`RLKIT_KEYS`.

    >>> {"n_steps", "n_envs", "policy_kwargs"} <= set(allowed_hyperparams("ppo"))
    True
    >>> "seed" in allowed_hyperparams("dqn")
    False
    """
    parameters = inspect.signature(ALGORITHMS[_check_algo(algo)].__init__).parameters
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
        For an unknown algorithm or a key the algorithm does not take (the message
        lists the allowed ones).

    Examples
    --------
    >>> hp = load_hyperparams("dqn", "rlkit/GridNav-v0", {"batch_size": 8})
    >>> hp["batch_size"], hp["n_envs"] >= 1
    (8, True)
    """
    algo = _check_algo(algo)
    text = resources.files("rlkit.deep").joinpath(f"hyperparams/{algo}.yml").read_text("utf-8")
    table = importlib.import_module("yaml").safe_load(text) or {}
    merged: dict[str, Any] = {}
    for source, entry in (("default", table.get("default")), (env_id, table.get(env_id))):
        if entry is not None and not isinstance(entry, dict):
            raise ValueError(f"rlkit/deep/hyperparams/{algo}.yml: {source!r} must be a mapping")
        merged = _merge(merged, entry or {})
    merged = _merge(merged, dict(overrides or {}))
    allowed = allowed_hyperparams(algo)
    unknown = sorted(set(merged) - set(allowed))
    if unknown:
        raise ValueError(
            f"hyperparams: {algo} takes no {', '.join(map(repr, unknown))}; "
            f"allowed keys: {', '.join(allowed)}"
        )
    return merged


def _merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        old = merged.get(key)
        if key.endswith("_kwargs") and isinstance(old, Mapping) and isinstance(value, Mapping):
            value = _merge(old, value)
        merged[key] = value
    return merged


def _check_algo(algo: str) -> str:
    if algo not in ALGORITHMS:
        raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {algo!r}")
    return algo


def _sb3_kwargs(hp: Mapping[str, Any], backbone_policy: bool) -> dict[str, Any]:
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


def _jsonable(value: Any) -> Any:
    """``value`` with classes and other objects as names/strings (for config.json)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# ------------------------------------------------------------------ envs


class _StepStamp(gym.Wrapper[Any, Any, Any, Any]):
    """Put the training step (``model.num_timesteps``) into the info of every episode's
    last step, so the Monitor's CSV places each episode on the learning curve.

    DummyVecEnv steps its envs in lockstep: after this env's ``k``-th step the model has
    taken ``start + k * n_envs`` steps.
    """

    def __init__(self, env: gym.Env[Any, Any], *, n_envs: int, start: int) -> None:
        super().__init__(env)
        self.n_envs, self.start, self.count = n_envs, start, 0

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.count += 1
        if terminated or truncated:
            info = {**info, STEP_KEY: self.start + self.count * self.n_envs}
        return obs, reward, terminated, truncated, info


def _env_kwargs(
    env_id: str, env_kwargs: Mapping[str, Any] | None, goal_pixels: bool
) -> dict[str, Any]:
    kwargs = dict(env_kwargs or {})
    if env_id.startswith("rlkit/"):
        importlib.import_module("envs")  # registers the rlkit/... ids
        kwargs.setdefault("obs", "dict" if goal_pixels else "pixels")
    if goal_pixels and kwargs.get("obs") != "dict":
        raise ValueError(
            "goal_pixels=True draws frames from goal-conditioned observations: make the env "
            f"with env_kwargs={{'obs': 'dict'}} (got obs={kwargs.get('obs')!r})"
        )
    return kwargs


def _env_factory(
    env_id: str, kwargs: dict[str, Any], goal_pixels: bool, n_envs: int, start: int
) -> Callable[[], gym.Env[Any, Any]]:
    def make() -> gym.Env[Any, Any]:
        try:
            env = gym.make(env_id, **kwargs)
        except gym.error.Error as error:
            raise ValueError(f"env_id {env_id!r}: {error}") from None
        except TypeError as error:  # an unknown keyword argument
            raise ValueError(f"env_kwargs {kwargs}: {error}") from None
        if goal_pixels:
            env = GoalPixels(env)
        return _StepStamp(env, n_envs=n_envs, start=start)

    return make


def _has_image(space: gym.Space[Any]) -> bool:
    def image(s: gym.Space[Any]) -> bool:
        return (
            isinstance(s, gym.spaces.Box)
            and s.dtype == np.uint8
            and len(s.shape) == 3
            and 3 in (s.shape[0], s.shape[-1])
        )

    if isinstance(space, gym.spaces.Dict):
        return sum(image(s) for s in space.spaces.values()) == 1
    return image(space)


def _check_action_space(algo: str, env_id: str, space: gym.Space[Any]) -> None:
    kinds = _ACTION_SPACES[algo]
    if isinstance(space, kinds):
        return
    fitting = [name for name, k in _ACTION_SPACES.items() if isinstance(space, k)]
    raise ValueError(
        f"algo {algo!r} needs {' or '.join(k.__name__ for k in kinds)} actions, but {env_id} "
        f"has {space}; use algo {' or '.join(map(repr, fitting)) or 'another'}"
        + (" (or ArmReach with env_kwargs={'discrete': True})" if algo == "dqn" else "")
    )


# ------------------------------------------------------------------ callbacks & files


class _EpisodeLog(BaseCallback):
    """Collects the Monitor's row of every finished episode (``info["episode"]``)."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[dict[str, Any]] = []

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            if "episode" in info:
                self.points.append(_curve_point(info["episode"]))
        return True


class _Checkpoints(BaseCallback):
    """Saves a checkpoint (:func:`_save_checkpoint`) once ``every`` more steps are done.

    Saved when a rollout starts: the previous rollout is then fully used (PPO's update
    done, off-policy transitions stored and trained on), so a checkpoint at step ``N``
    holds everything the first ``N`` steps taught.
    """

    def __init__(self, folder: Path, every: int, start: int) -> None:
        super().__init__()
        self.folder, self.every = folder, every
        self.next_save = (start // every + 1) * every
        self.last_saved = start

    def _on_rollout_start(self) -> None:
        if self.num_timesteps >= self.next_save:
            _save_checkpoint(self.model, self.folder)
            self.last_saved = self.num_timesteps
            self.next_save = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        return True


class _ProgressBar(BaseCallback):
    """A tqdm bar over the steps (SB3's own bar needs ``rich``)."""

    def __init__(self, total: int, description: str) -> None:
        super().__init__()
        self.total, self.description = total, description
        self.bar: Any = None

    def _on_training_start(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total, initial=self.num_timesteps, unit="step", desc=self.description
        )

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        return True

    def _on_training_end(self) -> None:
        self.bar.close()


def _save_checkpoint(model: BaseAlgorithm, folder: Path) -> Path:
    """Write ``folder/model_<steps>.zip`` (and, for off-policy algorithms, the replay
    buffer first, keeping only the latest), each atomically; returns the model's path."""
    steps = model.num_timesteps
    buffer = folder / f"replay_buffer_{steps}.pkl"
    if isinstance(model, OffPolicyAlgorithm):
        with atomic_output(buffer) as tmp:
            model.save_replay_buffer(tmp)
    path = folder / f"model_{steps}.zip"
    with atomic_output(path) as tmp:
        model.save(tmp)
    for old in folder.glob("replay_buffer_*.pkl"):
        if old != buffer:  # the model names its buffer only once it is saved
            old.unlink(missing_ok=True)
    return path


def _latest_checkpoint(folder: Path) -> tuple[int, Path] | None:
    found = [
        (int(m[1]), p) for p in folder.glob("model_*.zip") if (m := _CHECKPOINT.fullmatch(p.name))
    ]
    return max(found) if found else None


def _curve_point(row: Mapping[str, Any]) -> dict[str, Any]:
    point = {
        "step": int(row[STEP_KEY]),
        "episode_return": float(row["r"]),
        "episode_length": int(row["l"]),
    }
    if "is_success" in row:
        point["is_success"] = str(row["is_success"]).strip().lower() in ("true", "1", "1.0")
    return point


def _rewind_monitors(
    folder: Path, steps: int, n_envs: int, keys: tuple[str, ...], env_id: str
) -> list[dict[str, Any]]:
    """Keep the episodes that ended by ``steps`` in each Monitor file (later ones belong
    to the interrupted interval, which is trained again); return them as curve points.
    Files are rewritten atomically, and made with a header where missing, so the
    resumed Monitors append to them."""
    fields = ["r", "l", "t", STEP_KEY, *keys]
    points: list[dict[str, Any]] = []
    for rank in range(n_envs):
        path = folder / f"{rank}.{Monitor.EXT}"
        lines = path.read_text("utf-8").splitlines() if path.exists() else []
        if len(lines) < 2 or next(csv.reader([lines[1]])) != fields:
            lines = [f"#{json.dumps({'t_start': time.time(), 'env_id': env_id})}", ",".join(fields)]
        kept = lines[:2]
        for line in lines[2:]:
            values = next(csv.reader([line]), [])
            try:
                if len(values) != len(fields):
                    raise ValueError(line)
                point = _curve_point(dict(zip(fields, values, strict=True)))
            except ValueError:  # a row cut short by the kill
                continue
            if point["step"] <= steps:
                kept.append(line)
                points.append(point)
        atomic_write_text(path, "\n".join(kept) + "\n")
    return sorted(points, key=lambda p: p["step"])


def _read_config(out: Path) -> dict[str, Any] | None:
    path = out / "config.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else None


def _check_same_run(recorded: Mapping[str, Any], run: Mapping[str, Any], out: Path) -> None:
    differ = [
        k
        for k in ("algo", "env_id", "env_kwargs", "goal_pixels", "seed")
        if recorded.get(k) != run[k]
    ]
    old_hp, new_hp = recorded.get("hyperparams", {}), run["hyperparams"]
    differ += [
        f"hyperparams.{k}"
        for k in sorted(set(old_hp) | set(new_hp))
        if k not in _RESUMABLE and old_hp.get(k) != new_hp.get(k)
    ]
    if differ:
        raise ValueError(
            f"resume=True continues the run in {out}, but these settings differ from its "
            f"config.json: {', '.join(differ)}; pass the same ones (only total_steps and "
            "checkpoint_every may change) or train into another out folder"
        )


# ------------------------------------------------------------------ train


def train(
    algo: str,
    env_id: str,
    *,
    backbone: str = DEFAULT_BACKBONE,
    finetune: str = "full",
    total_steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    env_kwargs: Mapping[str, Any] | None = None,
    goal_pixels: bool = False,
    n_envs: int | None = None,
    hyperparams: Mapping[str, Any] | None = None,
    augment: bool = False,
    lora_rank: int = 4,
    spatial: int = 0,
    backbone_lr_scale: float | None = None,
    out: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress_bar: bool = False,
    tensorboard: bool = True,
    verbose: int = 0,
    callback: BaseCallback | None = None,
) -> TrainResult:
    """Train ``algo`` on ``env_id`` from pixels through a backbone CNN.

    Parameters
    ----------
    algo : {"ppo", "dqn", "sac"}
        The stable-baselines3 algorithm (DQN needs Discrete actions, SAC Box actions).
    env_id : str
        A Gymnasium id; ``rlkit/...`` envs are made with ``obs="pixels"`` unless
        ``env_kwargs`` says otherwise.
    backbone, finetune, augment, lora_rank, spatial
        The :class:`~rlkit.deep.extractor.BackboneExtractor` (``finetune`` one of
        ``scratch``, ``frozen``, ``full``, ``lora``). Envs without an image
        observation (e.g. ArmReach ``obs="dict"`` for HER) get SB3's
        ``MlpPolicy``/``MultiInputPolicy`` instead, and these are unused.
    total_steps, n_envs, checkpoint_every, backbone_lr_scale : optional
        Override the hyperparameter of that name (see ``hyperparams``).
    seed : int
        Seeds everything: env resets, action spaces, torch, numpy, ``random``; the same
        seed on CPU gives the same run.
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda:0"``, ...
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make``.
    goal_pixels : bool
        Wrap the env in :class:`~rlkit.deep.wrappers.GoalPixels`: goal-conditioned
        pixels ``{"pixels", "achieved_goal", "desired_goal"}`` from ArmReach's
        ``obs="dict"`` (the default obs then), for SAC with ``HerReplayBuffer``.
    hyperparams : dict, optional
        Overrides of the shipped YAML entry (:func:`load_hyperparams`): SB3 constructor
        arguments plus ``n_envs``, ``total_steps``, ``checkpoint_every`` (default
        10000) and ``backbone_lr_scale``.
    out : path, optional
        Run folder (layout in the module docstring): checkpoints, Monitor CSVs,
        TensorBoard logs, ``model.zip`` and ``config.json``. Without it nothing is
        written. An existing run folder needs ``resume=True``.
    resume : bool
        Continue the run in ``out`` from its latest checkpoint (with its replay buffer)
        up to ``total_steps``; starts afresh when there is none.
    progress_bar : bool
        Show a tqdm bar.
    tensorboard : bool
        Log to ``out/tb`` (with ``out`` only).
    verbose : int
        SB3's verbosity.
    callback : stable_baselines3 BaseCallback, optional
        Called by ``learn`` besides rlkit's own (episode log, checkpoints, progress);
        e.g. ``EveryNTimesteps`` snapshots for a learning curve.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        Unknown ``algo``, ``finetune`` or hyperparameter key, an algorithm that does not
        fit the action space, an unknown ``env_id`` or bad ``env_kwargs``, a folder that
        holds another run, or ``resume`` with settings that differ from the run's.
    """
    algo = _check_algo(algo)
    if finetune not in FINETUNE_MODES:
        raise ValueError(f"finetune must be one of {list(FINETUNE_MODES)}, got {finetune!r}")
    out_path = Path(out) if out is not None else None
    if resume and out_path is None:
        raise ValueError("resume=True needs out= (the folder of the run to continue)")
    hp = load_hyperparams(algo, env_id, hyperparams)
    explicit = {
        "total_steps": total_steps,
        "n_envs": n_envs,
        "checkpoint_every": checkpoint_every,
        "backbone_lr_scale": backbone_lr_scale,
    }
    hp.update({k: v for k, v in explicit.items() if v is not None})
    for key, value in _FALLBACKS.items():
        hp.setdefault(key, value)
    for key in ("total_steps", "n_envs", "checkpoint_every"):
        if not isinstance(hp.get(key), int) or isinstance(hp[key], bool) or hp[key] < 1:
            raise ValueError(f"{key} must be a positive integer, got {hp.get(key)!r}")
    kwargs = _env_kwargs(env_id, env_kwargs, goal_pixels)

    probe = _env_factory(env_id, kwargs, goal_pixels, 1, 0)()
    try:
        _check_action_space(algo, env_id, probe.action_space)
        backbone_policy = _has_image(probe.observation_space)
        keys = ("is_success",) if "is_success" in probe.reset(seed=seed)[1] else ()
        dict_obs = isinstance(probe.observation_space, gym.spaces.Dict)
    finally:
        probe.close()
    policy: Any = (
        POLICIES[algo] if backbone_policy else "MultiInputPolicy" if dict_obs else "MlpPolicy"
    )
    if backbone_policy:
        policy_kwargs = dict(hp.get("policy_kwargs") or {})
        policy_kwargs["features_extractor_kwargs"] = {
            **dict(policy_kwargs.get("features_extractor_kwargs") or {}),
            "backbone": str(backbone),
            "finetune": finetune,
            "lora_rank": lora_rank,
            "spatial": spatial,
            "augment": augment,
            "seed": seed,
        }
        hp["policy_kwargs"] = policy_kwargs
    elif augment or backbone_lr_scale is not None:
        warnings.warn(
            f"{env_id} has no image observation: SB3's {policy} is used and augment / "
            "backbone_lr_scale do nothing",
            stacklevel=2,
        )
    sb3_kwargs = _sb3_kwargs(hp, backbone_policy)
    total, count = int(hp["total_steps"]), int(hp["n_envs"])
    run: dict[str, Any] = {
        "algo": algo,
        "env_id": env_id,
        "env_kwargs": _jsonable(kwargs),
        "goal_pixels": goal_pixels,
        "seed": seed,
        "policy": policy if isinstance(policy, str) else policy.__name__,
        "hyperparams": _jsonable(hp),
    }

    checkpoint: tuple[int, Path] | None = None
    if out_path is not None:
        checkpoint = _latest_checkpoint(out_path / "checkpoints")
        if resume:
            recorded = _read_config(out_path)
            if recorded is not None:
                _check_same_run(recorded, run, out_path)
        elif checkpoint is not None or (out_path / "model.zip").exists():
            raise ValueError(
                f"out {str(out_path)!r} already holds a run: pass resume=True to continue "
                "it (rlkit train --resume), or choose another folder"
            )
    start = checkpoint[0] if checkpoint is not None else 0
    prior: list[dict[str, Any]] = []
    monitor_dir = out_path / "monitor" if out_path is not None else None
    if checkpoint is not None and monitor_dir is not None:
        prior = _rewind_monitors(monitor_dir, start, count, keys, env_id)
    # A resumed run draws fresh episodes, still determined by (seed, step).
    env_seed = (
        seed if start == 0 else int(np.random.SeedSequence([seed, start]).generate_state(1)[0])
    )
    venv = make_vec_env(
        _env_factory(env_id, kwargs, goal_pixels, count, start),
        n_envs=count,
        seed=env_seed,
        monitor_dir=None if monitor_dir is None else str(monitor_dir),
        monitor_kwargs={"info_keywords": (STEP_KEY, *keys), "override_existing": start == 0},
        vec_env_cls=DummyVecEnv,
    )
    tb_log = None
    if tensorboard and out_path is not None:
        if importlib.util.find_spec("tensorboard") is None:
            warnings.warn("tensorboard is not installed: no TensorBoard logs", stacklevel=2)
        else:
            tb_log = str(out_path / "tb")
    torch_device = resolve_device(device)
    started = time.perf_counter()
    try:
        algorithm = ALGORITHMS[algo]
        if checkpoint is not None:
            model = algorithm.load(
                checkpoint[1],
                env=venv,
                device=torch_device,
                tensorboard_log=tb_log,
                verbose=verbose,
            )
            buffer = checkpoint[1].with_name(f"replay_buffer_{start}.pkl")
            if isinstance(model, OffPolicyAlgorithm) and buffer.exists():
                with warnings.catch_warnings():
                    # HER's note that the unfinished episode is cut: right, envs restart.
                    warnings.filterwarnings("ignore", "The last trajectory", UserWarning)
                    model.load_replay_buffer(buffer)
            model.set_random_seed(env_seed)
        else:
            model = algorithm(
                policy,
                venv,
                seed=seed,
                device=torch_device,
                tensorboard_log=tb_log,
                verbose=verbose,
                **sb3_kwargs,
            )
        if tb_log is None:
            # Without a log folder SB3 makes an empty /tmp/SB3-<time> one on every
            # learn(); this logger writes what SB3's would (stdout when verbose) and
            # creates nothing.
            formats: list[KVWriter] = [HumanOutputFormat(sys.stdout)] if verbose >= 1 else []
            model.set_logger(Logger(folder=None, output_formats=formats))
        record = {**run, "device": str(torch_device), **provenance()}
        if out_path is not None:
            _write_config(out_path, {**record, "status": "running", "resumed_from": start})
        log = _EpisodeLog()
        callbacks: list[BaseCallback] = [log]
        saver = None
        if out_path is not None:
            saver = _Checkpoints(out_path / "checkpoints", int(hp["checkpoint_every"]), start)
            callbacks.append(saver)
        if progress_bar:
            callbacks.append(_ProgressBar(total, f"{algo} {env_id}"))
        if callback is not None:
            callbacks.append(callback)
        if total > model.num_timesteps:
            model.learn(
                total - model.num_timesteps,
                callback=callbacks,
                reset_num_timesteps=checkpoint is None,
                tb_log_name=algo.upper(),
            )
    except BaseException:
        venv.close()  # flushes the Monitor files; the checkpoints are on disk
        raise
    seconds = time.perf_counter() - started
    curve = sorted(prior + log.points, key=lambda p: p["step"])
    result = TrainResult(
        model=model,
        steps=int(model.num_timesteps),
        episodes=len(curve),
        learning_curve=curve,
        out=out_path,
        seconds=seconds,
        hyperparams=run["hyperparams"],
    )
    if out_path is not None:
        if saver is not None and saver.last_saved != model.num_timesteps:
            _save_checkpoint(model, out_path / "checkpoints")
        with atomic_output(out_path / "model.zip") as tmp:
            model.save(tmp)
        summary = result.summary()
        _write_config(
            out_path, {**record, "status": "finished", "resumed_from": start, "result": summary}
        )
    return result


def _write_config(out: Path, config: Mapping[str, Any]) -> None:
    atomic_write_text(out / "config.json", json.dumps(config, indent=2, default=str) + "\n")
