"""Tabular reinforcement learning: TD learners, schedules, planning on known models.

Learners (one update rule each, shared base :class:`TabularLearner`)::

    QLearning, SARSA, ExpectedSARSA, DoubleQLearning, NStepSARSA

They take a Gymnasium env with Discrete observation and action spaces (wrap Box
observations in :class:`DiscretizeObservation`), act with SB3's ``predict(obs,
deterministic=True) -> (action, None)`` and save to ``.npz`` files that load without
pickle. :class:`Ensemble` combines learners trained on different seeds; the ``Batched*``
learners train ``K`` independent copies at once on a vector env (e.g.
:class:`ModelVectorEnv`). :func:`value_iteration` and :func:`policy_evaluation` solve
toy-text models (``env.unwrapped.P``) exactly.

This package needs numpy and gymnasium only (no torch).

Examples
--------
>>> import gymnasium as gym
>>> from rlkit.tabular import QLearning, greedy_policy, policy_evaluation, value_iteration
>>> env = gym.make("FrozenLake-v1", is_slippery=False)
>>> agent = QLearning(env, learning_rate=0.5, epsilon=0.3, seed=0).learn(total_steps=5000)
>>> agent.act(0), agent.predict([0, 4])
(1, (array([1, 1]), None))
>>> V, Q, policy = value_iteration(env.unwrapped.P, 16, 4, gamma=0.99)
>>> V_agent = policy_evaluation(env.unwrapped.P, greedy_policy(agent.q_table), gamma=0.99)
>>> print(f"{V_agent[0]:.4f} {V[0]:.4f}")  # the learned greedy policy is optimal
0.9510 0.9510
"""

from __future__ import annotations

from rlkit.tabular.algorithms import (
    ALGORITHMS,
    SARSA,
    DoubleQLearning,
    ExpectedSARSA,
    NStepSARSA,
    QLearning,
)
from rlkit.tabular.base import TabularLearner
from rlkit.tabular.batched import (
    BatchedDoubleQLearning,
    BatchedExpectedSARSA,
    BatchedQLearning,
    BatchedSARSA,
    BatchedSummary,
    BatchedTabularLearner,
)
from rlkit.tabular.ensemble import Ensemble
from rlkit.tabular.model import ModelEnv, ModelVectorEnv, TabularModel
from rlkit.tabular.planning import (
    ConvergenceError,
    greedy_policy,
    policy_evaluation,
    value_iteration,
)
from rlkit.tabular.schedules import (
    ConstantSchedule,
    ExponentialSchedule,
    LinearSchedule,
    Schedule,
    parse_schedule,
)
from rlkit.tabular.training import EpisodeSummary, discrete_space_sizes
from rlkit.tabular.wrappers import DiscretizeObservation

__all__ = [
    "ALGORITHMS",
    "SARSA",
    "BatchedDoubleQLearning",
    "BatchedExpectedSARSA",
    "BatchedQLearning",
    "BatchedSARSA",
    "BatchedSummary",
    "BatchedTabularLearner",
    "ConstantSchedule",
    "ConvergenceError",
    "DiscretizeObservation",
    "DoubleQLearning",
    "Ensemble",
    "EpisodeSummary",
    "ExpectedSARSA",
    "ExponentialSchedule",
    "LinearSchedule",
    "ModelEnv",
    "ModelVectorEnv",
    "NStepSARSA",
    "QLearning",
    "Schedule",
    "TabularLearner",
    "TabularModel",
    "discrete_space_sizes",
    "greedy_policy",
    "load",
    "parse_schedule",
    "policy_evaluation",
    "value_iteration",
]

#: Read any saved tabular agent: ``load(path, env=None)`` (see :meth:`TabularLearner.load`).
load = TabularLearner.load
