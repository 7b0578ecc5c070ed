"""The teacher of network-to-network distillation: a trained policy's soft actions.

:func:`load_teacher` wraps a stable-baselines3 model (a ``.zip`` path or a loaded model)
as a :class:`Teacher`, whose :meth:`~Teacher.targets` are its action distribution in
each state, as rows of numbers a student learns from:

=====================  ==========================  ====================================
teacher                ``kind``                    a row of ``targets``
=====================  ==========================  ====================================
PPO / A2C, Discrete    ``"categorical"``           the logits
DQN                    ``"categorical"``           the Q-values, read as logits
PPO / A2C, Box         ``"gaussian"``              mean, then standard deviation
SAC                    ``"squashed_gaussian"``     mean, then standard deviation of the
                                                   linearised squashed Gaussian (below)
=====================  ==========================  ====================================

The loss (:func:`distillation_loss`) is the KL divergence from the teacher's tempered
distribution to the student's, times ``T**2`` (Hinton, Vinyals & Dean, "Distilling the
Knowledge in a Neural Network", 2015; for policies Rusu et al., "Policy Distillation",
ICLR 2016). Tempering a density ``p`` by ``T`` means ``p ** (1 / T)``, renormalised: a
softmax of ``logits / T`` (:func:`categorical_kl`), and for a Gaussian the same mean with
``T`` times the variance (:func:`gaussian_kl`); ``T = 1`` is the plain KL, ``T > 1``
shows the student more of the teacher's ranking of the other actions.

SAC acts by ``tanh`` of a Gaussian sample, rescaled to the action bounds, which has no
closed-form KL to the student's (unsquashed) Gaussian. Its targets linearise ``tanh``
at the mean (the delta method): mean ``tanh(mu)`` (the action SAC takes with
``deterministic=True``) and standard deviation ``(1 - tanh(mu) ** 2) * sigma``, both
rescaled to the bounds. The mean is exact for what the evaluation runs; the spread is
first-order accurate, good when ``sigma`` is small (a trained SAC's).

Examples
--------
>>> import torch
>>> teacher = torch.tensor([[2.0, 0.0, 0.0]])
>>> round(float(categorical_kl(teacher, torch.zeros(1, 3), 1.0)), 3)
0.433
>>> float(categorical_kl(teacher, teacher, 4.0))
0.0
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from numpy.typing import NDArray
from torch.nn import functional as F

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.distributions import Distribution

__all__ = [
    "Teacher",
    "acting_parameters",
    "categorical_kl",
    "check_temperature",
    "distillation_loss",
    "gaussian_kl",
    "load_teacher",
    "space_fits",
]

#: Smallest teacher standard deviation: a saturated ``tanh`` gives 0, whose log is not finite.
MIN_STD = 1e-4


def check_temperature(temperature: object) -> float:
    """``temperature`` as a float, checked to be finite and > 0 (``ValueError`` if not)."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be finite and > 0 (1: plain KL), got {temperature!r}")
    return float(temperature)


def categorical_kl(
    teacher_logits: torch.Tensor, student_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """``T**2 * KL(softmax(teacher / T) || softmax(student / T))``, mean over rows.

    Hinton et al. (2015) scale by ``T**2`` so that the gradients keep their size as the
    temperature changes. Rows are ``(N, actions)`` logits.

    >>> logits = torch.tensor([[1.0, 0.0]])
    >>> float(categorical_kl(logits, logits.flip(1), 1.0)) > 0
    True
    """
    teacher_log = F.log_softmax(teacher_logits / temperature, dim=-1)
    student_log = F.log_softmax(student_logits / temperature, dim=-1)
    kl = (teacher_log.exp() * (teacher_log - student_log)).sum(dim=-1)
    return temperature**2 * kl.mean()


def gaussian_kl(
    teacher_mean: torch.Tensor,
    teacher_std: torch.Tensor,
    student_mean: torch.Tensor,
    student_std: torch.Tensor,
    temperature: float,
) -> torch.Tensor:
    """``T**2 * KL(N(mu_t, T sigma_t**2) || N(mu_s, T sigma_s**2))`` of diagonal
    Gaussians, summed over action dimensions, mean over rows.

    Per dimension, ``KL = log(s_s / s_t) + (s_t**2 + (mu_t - mu_s)**2) / (2 s_s**2) - 1/2``
    with ``s**2 = T sigma**2`` (the Gaussian tempered by ``T``, see the module docstring).

    >>> zero, one = torch.zeros(1, 1), torch.ones(1, 1)
    >>> float(gaussian_kl(zero, one, one, one, 1.0))
    0.5
    """
    var_t = temperature * teacher_std.clamp_min(MIN_STD) ** 2
    var_s = temperature * student_std**2
    kl = 0.5 * (torch.log(var_s / var_t) + (var_t + (teacher_mean - student_mean) ** 2) / var_s - 1)
    return temperature**2 * kl.sum(dim=-1).mean()


def distillation_loss(
    student: Distribution, targets: torch.Tensor, kind: str, temperature: float
) -> torch.Tensor:
    """The KL loss of a student's SB3 action ``Distribution`` against teacher
    ``targets`` of :meth:`Teacher.targets` (rows of logits, or of means then stds)."""
    inner: Any = student.distribution
    if kind == "categorical":
        return categorical_kl(targets, inner.logits, temperature)
    half = targets.shape[1] // 2
    return gaussian_kl(targets[:, :half], targets[:, half:], inner.mean, inner.stddev, temperature)


def acting_parameters(model: Any) -> int:
    """Parameters an SB3 model uses to choose an action (without critics and targets).

    PPO / A2C: the policy's features extractor, policy MLP, action head (and ``log_std``);
    DQN: the online Q-network; SAC, TD3: the actor; anything else: the whole policy.
    """
    policy = getattr(model, "policy", model)
    parts: list[Any]
    if hasattr(policy, "action_net") and hasattr(policy, "mlp_extractor"):
        parts = [policy.pi_features_extractor, policy.mlp_extractor.policy_net, policy.action_net]
        if isinstance(getattr(policy, "log_std", None), torch.Tensor):  # Box actions
            parts.append(policy.log_std)
    elif hasattr(policy, "q_net"):
        parts = [policy.q_net]
    elif hasattr(policy, "actor"):
        parts = [policy.actor]
    else:
        parts = [policy]
    seen: dict[int, int] = {}
    for part in parts:
        tensors = [part] if isinstance(part, torch.Tensor) else list(part.parameters())
        seen.update({id(t): t.numel() for t in tensors})
    return sum(seen.values())


def space_fits(model_space: gym.Space[Any], env_space: gym.Space[Any]) -> bool:
    """Whether a model that saw ``model_space`` can read observations of ``env_space``:
    same type and shapes, where an image may be channels-first in the model (SB3's
    ``VecTransposeImage``) and channels-last in the env.

    >>> image = gym.spaces.Box(0, 255, (8, 8, 3), np.uint8)
    >>> space_fits(gym.spaces.Box(0, 255, (3, 8, 8), np.uint8), image)
    True
    >>> space_fits(gym.spaces.Box(-1, 1, (4,)), image)
    False
    """
    if isinstance(model_space, gym.spaces.Dict) and isinstance(env_space, gym.spaces.Dict):
        return set(model_space.spaces) == set(env_space.spaces) and all(
            space_fits(model_space[k], env_space[k]) for k in model_space.spaces
        )
    if isinstance(model_space, gym.spaces.Box) and isinstance(env_space, gym.spaces.Box):
        shape, given = tuple(model_space.shape), tuple(env_space.shape)
        return shape == given or (len(given) == 3 and shape == (given[2], given[0], given[1]))
    if isinstance(model_space, gym.spaces.Discrete) and isinstance(env_space, gym.spaces.Discrete):
        return int(model_space.n) == int(env_space.n)
    return model_space == env_space


@dataclass(frozen=True, eq=False)
class Teacher:
    """A trained SB3 model and how to read its action distribution.

    Attributes
    ----------
    model : stable_baselines3.common.base_class.BaseAlgorithm
        The teacher (in evaluation mode; never trained here).
    kind : str
        ``"categorical"``, ``"gaussian"`` or ``"squashed_gaussian"`` (module docstring).
    name : str
        What reports call it: the ``.zip`` path or the algorithm's class name.
    """

    model: BaseAlgorithm
    kind: str
    name: str

    @property
    def observation_space(self) -> gym.Space[Any]:
        """What the teacher observes (as it was trained)."""
        return self.model.observation_space

    @property
    def action_space(self) -> gym.Space[Any]:
        """The teacher's actions."""
        return self.model.action_space

    @property
    def parameters(self) -> int:
        """Its :func:`acting_parameters`."""
        return acting_parameters(self.model)

    @torch.no_grad()
    def targets(self, observations: Any) -> NDArray[np.float32]:
        """``(N, k)`` float32 targets of a batch of observations (module docstring):
        logits (``k`` = actions) or means then standard deviations (``k = 2 * dims``)."""
        policy: Any = self.model.policy
        obs, _ = policy.obs_to_tensor(observations)
        if hasattr(policy, "q_net"):  # DQN: Q-values as logits (Rusu et al. 2016)
            rows = policy.q_net(obs)
        elif hasattr(policy, "actor") and self.kind == "squashed_gaussian":
            mean, log_std, _ = policy.actor.get_action_dist_params(obs)
            squashed = torch.tanh(mean)
            std = (1.0 - squashed**2) * log_std.exp()
            box: Any = self.action_space
            half = torch.as_tensor((box.high - box.low) / 2.0, dtype=mean.dtype, device=mean.device)
            low = torch.as_tensor(box.low, dtype=mean.dtype, device=mean.device)
            rows = torch.cat([low + (squashed + 1.0) * half, (std * half).clamp_min(MIN_STD)], 1)
        else:
            inner: Any = policy.get_distribution(obs).distribution
            if self.kind == "categorical":
                rows = inner.logits
            else:
                rows = torch.cat([inner.mean, inner.stddev.clamp_min(MIN_STD)], dim=1)
        return np.asarray(rows.float().cpu().numpy(), dtype=np.float32)

    def greedy(self, targets: NDArray[np.float32]) -> NDArray[Any]:
        """The teacher's deterministic actions from its ``targets`` rows: the most
        probable action, or the mean clipped to the bounds."""
        if self.kind == "categorical":
            return np.asarray(targets.argmax(axis=1), dtype=np.int64)
        box: Any = self.action_space
        half = targets.shape[1] // 2
        return np.clip(targets[:, :half], box.low, box.high).astype(np.float32)


def load_teacher(
    teacher: str | os.PathLike[str] | BaseAlgorithm, *, device: str = "auto"
) -> Teacher:
    """A :class:`Teacher` from a stable-baselines3 ``.zip`` or a loaded model.

    .. warning::
       An SB3 ``.zip`` holds pickled Python objects: loading one executes code from the
       file. Only load files you trust.

    Parameters
    ----------
    teacher : path or BaseAlgorithm
        ``model.save``'s ``.zip`` (the algorithm is read off the file: PPO, A2C, DQN,
        SAC) or the model itself.
    device : str, default "auto"
        Torch device to load a ``.zip`` on.

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    ValueError
        If the file is no SB3 model.
    TypeError
        If the teacher has no action distribution to learn from (TD3, DDPG) or its
        actions are neither ``Discrete`` nor ``Box``.
    """
    from stable_baselines3.common.base_class import BaseAlgorithm

    if isinstance(teacher, (str, os.PathLike)):
        path = Path(teacher)
        if not path.is_file():
            raise FileNotFoundError(
                f"teacher {os.fspath(teacher)!r} does not exist: pass the .zip that "
                "model.save() wrote (e.g. runs/.../model.zip)"
            )
        from rlkit.agents.sb3 import sb3_algorithm  # reads the algorithm off the file

        # A teacher only acts: a one-row plain replay buffer instead of the saved one
        # (HER's needs the env to load; a pixel SAC's would allocate its whole size).
        # Keys absent from the file (on-policy algorithms) are ignored.
        unused: dict[str, Any] = {
            "replay_buffer_class": None,
            "replay_buffer_kwargs": {},
            "buffer_size": 1,
        }
        model = sb3_algorithm(path, None).load(path, device=device, custom_objects=unused)
        name = os.fspath(path)
    elif isinstance(teacher, BaseAlgorithm):
        model, name = teacher, type(teacher).__name__
    else:
        raise TypeError(
            f"teacher must be a path to an SB3 .zip or a stable-baselines3 model, got "
            f"{type(teacher).__name__}"
        )
    model.policy.set_training_mode(False)
    return Teacher(model=model, kind=_kind(model), name=name)


def _kind(model: BaseAlgorithm) -> str:
    policy: Any = model.policy
    space = model.action_space
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise TypeError(f"the teacher's action space {space} is neither Discrete nor Box")
    if hasattr(policy, "q_net") or (
        hasattr(policy, "action_net") and isinstance(space, gym.spaces.Discrete)
    ):
        return "categorical"
    if hasattr(policy, "action_net") and not getattr(policy, "squash_output", False):
        return "gaussian"
    if hasattr(policy, "actor") and hasattr(policy.actor, "get_action_dist_params"):
        return "squashed_gaussian"
    raise TypeError(
        f"the teacher ({type(model).__name__}) has no action distribution to distil: use a "
        "PPO, A2C (without squash_output), DQN or SAC model"
    )
