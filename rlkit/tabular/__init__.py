"""Tabular reinforcement learning: TD learners, schedules, planning on known models.

The learners take a Gymnasium env with Discrete observation and action spaces (wrap Box
observations in :class:`DiscretizeObservation`), act with SB3's ``predict(obs,
deterministic=True) -> (action, None)`` and save to ``.npz`` files that load without
pickle. This package needs numpy and gymnasium only (no torch). The names in
``__all__`` are importable from ``rlkit.tabular`` itself; each module holds::

    algorithms    QLearning, SARSA, ExpectedSARSA, DoubleQLearning, NStepSARSA (each
                  supplies only the value its TD target bootstraps from) and ALGORITHMS,
                  the learner classes by their command-line / save-file name
    base          TabularLearner, the base of them all: hyper-parameters, the Q-table,
                  the one-step TD update, the learning loop, save() and load()
    acting        predict() / act() (SB3's interface; also the ensemble's) and the
                  epsilon-greedy behaviour with random tie-breaking
    training      learn() with its budgets (shared by single and batched learners),
                  EpisodeSummary, discrete_space_sizes, the Hyperparameters keywords
    schedules     Schedule, ConstantSchedule, LinearSchedule, ExponentialSchedule,
                  parse_schedule (``"linear(1.0,0.05,0.5)"``)
    batched       BatchedQLearning, BatchedSARSA, BatchedExpectedSARSA,
                  BatchedDoubleQLearning: K independent copies trained at once on a
                  vector env (e.g. ModelVectorEnv), one numpy operation per step
    batched_base  BatchedTabularLearner (K tables, the vector-env loop, extract() of a
                  copy as a single learner) and BatchedSummary
    ensemble      Ensemble: learners trained on different seeds acting as one
    model         TabularModel, ModelEnv, ModelVectorEnv: toy-text models
                  (``env.unwrapped.P``) as arrays, an env and a numpy vector env
    planning      value_iteration, policy_evaluation, greedy_policy, ConvergenceError:
                  exact solutions of known models
    wrappers      DiscretizeObservation: Box observations to state indices
    agent_file    the ``.npz`` agent format: arrays plus a JSON header, never pickled
    saving        save_learner, load_learner and the format's names; ``rlkit.tabular.load``
                  is TabularLearner.load, which reads any saved agent

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

from rlkit.tabular import batched
from rlkit.tabular.algorithms import (
    ALGORITHMS,
    SARSA,
    DoubleQLearning,
    ExpectedSARSA,
    NStepSARSA,
    QLearning,
)
from rlkit.tabular.base import TabularLearner
from rlkit.tabular.batched import *  # noqa: F403  (the names of batched.__all__)
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
__all__ += batched.__all__  # the Batched* learners, their base and BatchedSummary

#: Read any saved tabular agent: ``load(path, env=None)`` (see :meth:`TabularLearner.load`).
load = TabularLearner.load
