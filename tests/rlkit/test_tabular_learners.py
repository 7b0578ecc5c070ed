"""The tabular learners' interface: validation, determinism, learning budgets, acting."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from rlkit.tabular import (
    ALGORITHMS,
    SARSA,
    DiscretizeObservation,
    DoubleQLearning,
    EpisodeSummary,
    NStepSARSA,
    QLearning,
    TabularLearner,
)

ALL = sorted(ALGORITHMS)


@pytest.fixture
def frozenlake() -> gym.Env[Any, Any]:
    return gym.make("FrozenLake-v1", is_slippery=False)


def train(name: str, seed: int, steps: int = 2_000, **kwargs: Any) -> TabularLearner:
    env = gym.make("FrozenLake-v1")
    config = {"learning_rate": 0.5, "epsilon": "linear(1.0,0.1,0.5)", **kwargs}
    return ALGORITHMS[name](env, seed=seed, **config).learn(total_steps=steps)


# -- bad input ------------------------------------------------------------------------


def test_box_observations_need_the_discretising_wrapper() -> None:
    with pytest.raises(ValueError, match=r"observation space Box.*DiscretizeObservation"):
        QLearning(gym.make("CartPole-v1"))


def test_box_actions_are_rejected() -> None:
    with pytest.raises(ValueError, match="action space Box"):
        QLearning(DiscretizeObservation(gym.make("Pendulum-v1"), bins=4))


def test_non_env_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"env must be a gymnasium.Env"):
        QLearning("FrozenLake-v1")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gamma": 1.5}, r"^gamma must be a number in \[0, 1\]"),
        ({"gamma": -0.1}, r"^gamma"),
        ({"learning_rate": -0.1}, r"^learning_rate must stay in \(0.0"),
        ({"learning_rate": 0}, r"^learning_rate"),
        ({"learning_rate": "linear(0.5,-0.1,100)"}, r"^learning_rate"),
        ({"epsilon": "sometimes"}, r"^epsilon: cannot parse schedule 'sometimes'"),
        ({"epsilon": "linear(1.0,0.05)"}, r"^epsilon: cannot parse"),
        ({"epsilon": 1.5}, r"^epsilon must stay in \[0.0, 1.0\]"),
        ({"seed": -1}, r"^seed"),
        ({"q_init": float("nan")}, r"^q_init"),
    ],
)
def test_bad_hyperparameters_name_the_argument(
    frozenlake: gym.Env[Any, Any], name: str, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        ALGORITHMS[name](frozenlake, **kwargs)


@pytest.mark.parametrize("n", [0, -2, 1.5])
def test_nstep_needs_a_positive_integer_n(frozenlake: gym.Env[Any, Any], n: Any) -> None:
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1"):
        NStepSARSA(frozenlake, n=n)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "give a budget"),
        ({"total_steps": 0}, "^total_steps must be a positive integer"),
        ({"episodes": -3}, "^episodes must be a positive integer"),
        ({"total_steps": 10.5}, "^total_steps"),
    ],
)
def test_learn_needs_a_budget(
    frozenlake: gym.Env[Any, Any], kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        QLearning(frozenlake).learn(**kwargs)


def test_fractional_schedule_needs_a_step_budget(frozenlake: gym.Env[Any, Any]) -> None:
    agent = QLearning(frozenlake, epsilon="linear(1.0,0.05,0.5)")
    with pytest.raises(ValueError, match=r"^epsilon: .*learn\(total_steps=\.\.\.\)"):
        agent.learn(episodes=10)
    agent.learn(total_steps=100, episodes=10)  # fine with a step budget


# -- determinism ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_table(name: str) -> None:
    first, second = train(name, seed=3), train(name, seed=3)
    np.testing.assert_array_equal(first.q_table, second.q_table)
    assert not np.array_equal(first.q_table, train(name, seed=4).q_table)


def test_unseeded_learner_records_the_seed_it_drew(frozenlake: gym.Env[Any, Any]) -> None:
    agent = QLearning(frozenlake).learn(total_steps=500)
    again = QLearning(gym.make("FrozenLake-v1", is_slippery=False), seed=agent.seed)
    np.testing.assert_array_equal(again.learn(total_steps=500).q_table, agent.q_table)


def test_one_step_nstep_sarsa_is_sarsa() -> None:
    sarsa = train("sarsa", seed=5, steps=3_000)
    nstep = train("nstep_sarsa", seed=5, steps=3_000, n=1)
    np.testing.assert_array_equal(nstep.q_table, sarsa.q_table)
    assert not np.array_equal(train("nstep_sarsa", seed=5, steps=3_000, n=2).q_table, sarsa.q_table)


def test_double_q_table_is_the_mean_of_both_tables() -> None:
    agent = train("double_q_learning", seed=0)
    assert isinstance(agent, DoubleQLearning)
    np.testing.assert_allclose(agent.q_table, agent._pair.mean(axis=0))
    assert not np.array_equal(agent._pair[0], agent._pair[1])


# -- budgets, callbacks, counters ---------------------------------------------------------


def test_step_and_episode_budgets(frozenlake: gym.Env[Any, Any]) -> None:
    agent = QLearning(frozenlake, seed=0)
    summaries: list[EpisodeSummary] = []
    agent.learn(episodes=7, callback=lambda _, summary: summaries.append(summary))
    assert agent.num_episodes == 7 and len(summaries) == 7
    assert agent.num_timesteps == summaries[-1].steps == sum(s.episode_length for s in summaries)
    agent.learn(total_steps=50)
    assert agent.num_timesteps == summaries[-1].steps + 50


def test_callback_returning_false_stops(frozenlake: gym.Env[Any, Any]) -> None:
    agent = QLearning(frozenlake, seed=0)
    agent.learn(total_steps=10_000, callback=lambda learner, summary: summary.episodes < 3)
    assert agent.num_episodes == 3
    assert agent.num_timesteps < 10_000


def test_schedules_reach_the_callback(frozenlake: gym.Env[Any, Any]) -> None:
    epsilons: list[float] = []
    agent = QLearning(frozenlake, epsilon="linear(1.0,0.0,0.5)", seed=0)
    agent.learn(total_steps=2_000, callback=lambda _, s: epsilons.append(s.epsilon))
    assert epsilons[0] > 0.9 and epsilons[-1] == 0.0
    assert agent.exploration_rate == 0.0


def test_progress_bar(frozenlake: gym.Env[Any, Any], capsys: pytest.CaptureFixture[str]) -> None:
    QLearning(frozenlake, seed=0).learn(total_steps=300, progress_bar=True)
    assert "300/300" in capsys.readouterr().err


def test_truncation_is_bootstrapped_not_terminal() -> None:
    # Only the time limit ends these episodes: no state is ever terminal, so with
    # q_init = 1 and reward 0 a terminal-style update would pull values to 0.
    env = gym.make("FrozenLake-v1", is_slippery=False, max_episode_steps=1)
    agent = QLearning(env, gamma=1.0, learning_rate=1.0, epsilon=0.0, q_init=1.0, seed=0)
    agent.learn(total_steps=200)
    np.testing.assert_array_equal(agent.q_table, 1.0)


# -- acting ---------------------------------------------------------------------------------


def test_predict_like_stable_baselines3() -> None:
    agent = train("q_learning", seed=0)
    action, state = agent.predict(0)
    assert isinstance(action, int) and state is None
    assert action == agent.act(0) == int(agent.q_table[0].argmax())
    actions, _ = agent.predict(np.array([[0, 1], [2, 3]]))
    assert actions.shape == (2, 2)
    np.testing.assert_array_equal(actions, agent.q_table[[[0, 1], [2, 3]]].argmax(axis=-1))
    assert agent.predict(np.int64(4))[0] == agent.act(4)


def test_stochastic_predict_explores(frozenlake: gym.Env[Any, Any]) -> None:
    agent = QLearning(frozenlake, epsilon=1.0, seed=0)
    actions = agent.predict(np.zeros(400, dtype=np.int64), deterministic=False)[0]
    assert set(actions.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("obs", [-1, 16, 2.5, "0"])
def test_predict_rejects_invalid_observations(obs: Any) -> None:
    with pytest.raises(ValueError, match=r"^observation must be state indices in \[0, 16\)"):
        train("q_learning", seed=0, steps=10).predict(obs)


def test_sarsa_learns_with_a_discretised_box_env() -> None:
    env = DiscretizeObservation(gym.make("MountainCar-v0"), bins=(8, 8))
    agent = SARSA(env, seed=0).learn(total_steps=500)
    assert agent.q_table.shape == (64, 3)
    assert agent.num_timesteps == 500
