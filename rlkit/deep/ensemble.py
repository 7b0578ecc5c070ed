"""Deep ensembles: K pixel policies acting as one agent, with their disagreement.

A deep ensemble (Lakshminarayanan, Pritzel & Blundell, "Simple and Scalable Predictive
Uncertainty Estimation using Deep Ensembles", NeurIPS 2017) is K networks trained alike
from different random inits (or on bootstrap resamples of the data: bagging, Breiman
1996) whose predictions are averaged. :class:`PolicyEnsemble` does that for policies:

- ``Discrete`` actions: the mean of the members' action probabilities, ``p(a|s) = 1/K
  sum_k p_k(a|s)``; the greedy action is its argmax, a sampled one is drawn from it.
  The disagreement is the mutual information between the action and the member,
  ``H(mean_k p_k) - mean_k H(p_k)`` in nats (the BALD decomposition of the predictive
  entropy into its epistemic part; Houlsby et al. 2011, Depeweg et al. 2018): 0 when
  the members agree, at most ``log K``.
- ``Box`` actions: the mean of the members' actions; the disagreement is the standard
  deviation of the members' actions, averaged over the action's dimensions.

Members are SB3 models (``PPO``, ``SAC``, ...: the students of
:mod:`rlkit.deep.distill` are PPO models) or any object with an ``action_space`` and
``predict(obs, deterministic)``, plus ``action_probabilities(obs)`` for ``Discrete``
ones without an SB3 policy (a value-based SB3 model votes one-hot for its greedy
action). The agent satisfies :class:`~rlkit.agents.PolicyAgent`, so
:func:`rlkit.evaluation.evaluate` runs it unchanged (and applies its ``deterministic``);
each step's disagreement is in :attr:`PolicyEnsemble.last_info` and the per-episode
mean and maximum in :attr:`PolicyEnsemble.log`, one entry per evaluated episode in the
order of the evaluation's records. Training: :mod:`rlkit.deep.ensemble_training`.

Examples
--------
>>> import gymnasium as gym, numpy as np
>>> class Fixed:  # a hand-made member: the same probabilities in every state
...     action_space = gym.spaces.Discrete(2)
...     def __init__(self, p):
...         self.p = np.array(p)
...     def action_probabilities(self, obs):
...         return self.p
>>> ensemble = PolicyEnsemble([Fixed([0.9, 0.1]), Fixed([0.3, 0.7])])
>>> ensemble.act(None), round(ensemble.last_info["disagreement"], 3)
(0, 0.205)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from rlkit.agents.policy import PolicyAgent
from rlkit.agents.sb3 import SB3Agent, is_sb3_model
from rlkit.atomic import atomic_output, atomic_write_text

__all__ = [
    "MANIFEST",
    "DisagreementLog",
    "PolicyEnsemble",
    "entropy",
    "mutual_information",
]

#: The manifest of a saved ensemble, beside its members' ``.zip`` files.
MANIFEST = "ensemble.json"
_FORMAT = {"name": "rlkit.ensemble", "version": 1}


def entropy(probabilities: ArrayLike) -> NDArray[np.float64]:
    """Shannon entropy in nats along the last axis (``0 log 0 = 0``).

    >>> float(entropy([0.5, 0.5])) == float(np.log(2))
    True
    """
    p = np.asarray(probabilities, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return np.asarray(-(p * logs).sum(axis=-1))


def mutual_information(probabilities: ArrayLike) -> float:
    """The members' disagreement: ``H(mean_k p_k) - mean_k H(p_k)`` of a ``(K, A)`` array.

    The mutual information between the action and the member (Houlsby et al. 2011;
    Depeweg et al. 2018): 0 for identical members, ``log K`` at most (members sure of
    ``K`` different actions).

    >>> mutual_information([[1.0, 0.0], [1.0, 0.0]]), round(mutual_information([[1, 0], [0, 1]]), 4)
    (0.0, 0.6931)
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probabilities must be (members, actions), got shape {p.shape}")
    value = float(entropy(p.mean(axis=0)) - entropy(p).mean())
    return max(0.0, value)  # float noise below 0 when the members agree


@dataclass
class DisagreementLog:
    """Per-episode disagreement of an agent: one entry per episode, in play order.

    The lists are updated in place (an evaluation fills lists handed out before it).
    """

    means: list[float] = field(default_factory=list)
    maxima: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    def start_episode(self) -> None:
        """Open the next episode's entry (the agent's ``reset``)."""
        self.means.append(0.0)
        self.maxima.append(0.0)
        self.steps.append(0)

    def add(self, value: float) -> None:
        """Count one step's disagreement in the current episode."""
        if not self.steps:
            self.start_episode()
        self.steps[-1] += 1
        self.means[-1] += (value - self.means[-1]) / self.steps[-1]
        self.maxima[-1] = max(self.maxima[-1], value)

    def clear(self) -> None:
        """Forget every episode (in place)."""
        for values in (self.means, self.maxima, self.steps):
            values.clear()


class PolicyEnsemble(PolicyAgent):
    """K policies acting as one agent (see the module docstring for the rules).

    Parameters
    ----------
    members : sequence
        SB3 models or policies, or hand-made members (module docstring), all with the
        same ``action_space`` (``Discrete`` or ``Box``).
    deterministic : bool, default True
        Greedy (argmax of the mean probabilities; mean of the members' greedy actions)
        or sampled (from the mean probabilities; mean of the members' samples).
        :func:`~rlkit.evaluation.evaluate` sets it from its own ``deterministic``.
    name : str, optional
        Name in reports (default ``"ensemble-K"``).

    Raises
    ------
    ValueError
        For no members, or members with different action spaces.
    TypeError
        For a member without an ``action_space``, or an action space neither
        ``Discrete`` nor ``Box``.
    """

    def __init__(
        self, members: Sequence[Any], *, deterministic: bool = True, name: str | None = None
    ) -> None:
        members = tuple(members)
        if not members:
            raise ValueError("members is empty: an ensemble needs at least one policy")
        spaces = [getattr(m, "action_space", None) for m in members]
        if any(space is None for space in spaces):
            raise TypeError("every member needs an action_space (SB3 models and policies have one)")
        if any(space != spaces[0] for space in spaces):
            raise ValueError(f"members act in different action spaces: {spaces}")
        if not isinstance(spaces[0], (gym.spaces.Discrete, gym.spaces.Box)):
            raise TypeError(f"members act in {spaces[0]}: an ensemble needs Discrete or Box")
        for member in members:
            if is_sb3_model(member):
                _policy(member).set_training_mode(False)  # no augmentation, no dropout
        super().__init__(self, deterministic=deterministic, name=name or f"ensemble-{len(members)}")
        self.members = members
        self.action_space: gym.spaces.Space[Any] = spaces[0]
        self.log = DisagreementLog()
        #: The last action's facts: ``disagreement``, ``member_actions`` (and
        #: ``probabilities``, the mean ones, for ``Discrete`` actions).
        self.last_info: dict[str, Any] = {}
        self._rng = np.random.default_rng(0)

    @property
    def discrete(self) -> bool:
        """Whether the members choose among ``Discrete`` actions."""
        return isinstance(self.action_space, gym.spaces.Discrete)

    def action_probabilities(self, obs: Any) -> NDArray[np.float64]:
        """Each member's action probabilities for ``obs``: ``(K, n)`` (``Discrete`` only)."""
        if not self.discrete:
            raise TypeError("action_probabilities: the members' actions are not Discrete")
        n = int(self.action_space.n)  # type: ignore[attr-defined]
        return np.stack([_probabilities(member, obs, n) for member in self.members])

    def decide(self, obs: Any, deterministic: bool) -> tuple[Any, dict[str, Any]]:
        """The ensemble's action for ``obs`` and its facts (see :attr:`last_info`)."""
        if self.discrete:
            probabilities = self.action_probabilities(obs)
            mean = probabilities.mean(axis=0)
            if deterministic:
                action = int(np.argmax(mean))
            else:
                action = int(self._rng.choice(mean.size, p=mean / mean.sum()))
            return action, {
                "disagreement": mutual_information(probabilities),
                "member_actions": [int(a) for a in probabilities.argmax(axis=1)],
                "probabilities": [float(p) for p in mean],
            }
        actions = np.stack(
            [np.asarray(m.predict(obs, deterministic=deterministic)[0]) for m in self.members]
        ).astype(np.float32)
        disagreement = float(actions.std(axis=0).mean()) if len(actions) > 1 else 0.0
        return actions.mean(axis=0), {
            "disagreement": disagreement,
            "member_actions": actions.tolist(),
        }

    def predict(
        self, obs: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[Any, None]:
        """SB3's ``predict`` for one observation: ``(action, None)`` (nothing logged)."""
        return self.decide(obs, deterministic)[0], None

    def act(self, obs: Any) -> Any:
        """The ensemble's action; the step's facts go to :attr:`last_info` and :attr:`log`."""
        action, self.last_info = self.decide(obs, self.deterministic)
        self.log.add(self.last_info["disagreement"])
        return action

    def reset(self) -> None:
        """Start the next episode's entry of :attr:`log`."""
        self.last_info = {}
        self.log.start_episode()

    def seed(self, seed: int) -> None:
        """Reseed the sampling of actions (numpy for ``Discrete``, torch for ``Box``)."""
        self._rng = np.random.default_rng(seed)
        torch.manual_seed(seed)

    def save(self, folder: str | os.PathLike[str], **config: Any) -> Path:
        """Save the members as ``member_00.zip``, ... and :data:`MANIFEST` in ``folder``.

        Every file is written atomically, the manifest last: a folder with a manifest
        holds every member it names. ``config`` (JSON-able) is kept in the manifest.
        Returns the manifest's path.

        Raises
        ------
        TypeError
            If a member is not an SB3 model (``model.save``): hand-made members and
            bare policies cannot be saved this way.
        """
        from rlkit.evaluation.provenance import provenance

        target = Path(folder)
        entries = []
        for index, member in enumerate(self.members):
            if not (is_sb3_model(member) and callable(getattr(member, "save", None))):
                raise TypeError(
                    f"member {index} is a {type(member).__name__}: only SB3 models "
                    "(PPO, SAC, ...) can be saved; keep the model, not its policy"
                )
            path = target / f"member_{index:02d}.zip"
            with atomic_output(path) as tmp:
                member.save(tmp)
            entries.append({"file": path.name, "algorithm": type(member).__name__})
        manifest = {
            "format": _FORMAT,
            "name": self.name,
            "members": entries,
            "config": config,
            "provenance": provenance(),
        }
        return atomic_write_text(target / MANIFEST, json.dumps(manifest, indent=1) + "\n")

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        *,
        deterministic: bool = True,
        device: str = "auto",
    ) -> PolicyEnsemble:
        """Load an ensemble saved by :meth:`save`.

        .. warning::
           The members are SB3 ``.zip`` files, which hold pickled Python objects:
           loading one executes code from the file. Only load ensembles you trust.

        Raises
        ------
        FileNotFoundError
            If ``folder`` has no :data:`MANIFEST`.
        ValueError
            If the manifest is not an ensemble's.
        """
        path = Path(folder) / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(
                f"{os.fspath(folder)!r} holds no {MANIFEST}: not a saved ensemble "
                "(PolicyEnsemble.save writes one)"
            )
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if (
            not isinstance(manifest, dict)
            or manifest.get("format", {}).get("name") != _FORMAT["name"]
        ):
            raise ValueError(f"{os.fspath(path)!r} is not an rlkit ensemble manifest")
        members = [
            SB3Agent.load(path.parent / e["file"], algo=e["algorithm"], device=device).model
            for e in manifest["members"]
        ]
        return cls(members, deterministic=deterministic, name=manifest.get("name"))


def _policy(member: Any) -> Any:
    """The SB3 policy of a model (or the policy itself)."""
    return getattr(member, "policy", member)


def _probabilities(member: Any, obs: Any, n: int) -> NDArray[np.float64]:
    """A member's action probabilities for one observation (``(n,)``)."""
    own = getattr(member, "action_probabilities", None)
    if callable(own):
        return np.asarray(own(obs), dtype=np.float64).reshape(n)
    policy = _policy(member)
    if callable(getattr(policy, "get_distribution", None)):  # actor-critic: its categorical
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            probs = policy.get_distribution(tensor).distribution.probs
        return np.asarray(probs.cpu().numpy(), dtype=np.float64).reshape(n)
    action, _ = member.predict(obs, deterministic=True)  # value-based: a one-hot vote
    return np.eye(n, dtype=np.float64)[int(np.asarray(action).reshape(-1)[0])]
