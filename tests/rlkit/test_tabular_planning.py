"""Value iteration, policy evaluation and the model environments of rlkit.tabular."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlkit.tabular import (
    ALGORITHMS,
    ConvergenceError,
    ModelEnv,
    ModelVectorEnv,
    TabularModel,
    greedy_policy,
    policy_evaluation,
    value_iteration,
)

#: Three states, start 0. In 0: "safe" ends with reward 1, "gamble" moves to 1 or 2
#: with probability 1/2 each. In 1: "cash in" ends with 4, or go back to 0. In 2: "quit"
#: ends with -1, or a coin flip between state 1 and ending with 0.
THREE_STATE_P: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {
    0: {0: [(1.0, 0, 1.0, True)], 1: [(0.5, 1, 0.0, False), (0.5, 2, 0.0, False)]},
    1: {0: [(1.0, 1, 4.0, True)], 1: [(1.0, 0, 0.0, False)]},
    2: {0: [(1.0, 2, -1.0, True)], 1: [(0.5, 1, 0.0, False), (0.5, 2, 0.0, True)]},
}


def test_value_iteration_matches_hand_computed_values() -> None:
    # gamma = 0.9: V(1) = 4; V(2) = max(-1, 0.9 * 0.5 * 4) = 1.8;
    # V(0) = max(1, 0.9 * (0.5 * 4 + 0.5 * 1.8)) = 2.61; Q(1, back) = 0.9 * V(0).
    V, Q, policy = value_iteration(THREE_STATE_P, 3, 2, gamma=0.9)
    np.testing.assert_allclose(V, [2.61, 4.0, 1.8], atol=1e-9)
    np.testing.assert_allclose(Q, [[1.0, 2.61], [4.0, 2.349], [-1.0, 1.8]], atol=1e-9)
    assert policy.tolist() == [1, 0, 1]


def test_policy_evaluation_of_the_optimal_policy_is_the_optimal_value() -> None:
    V, _, policy = value_iteration(THREE_STATE_P, 3, 2, gamma=0.9)
    np.testing.assert_allclose(policy_evaluation(THREE_STATE_P, policy, 0.9), V, atol=1e-9)
    # "safe" everywhere: V(0) = 1, V(1) = 4, V(2) = -1.
    np.testing.assert_allclose(policy_evaluation(THREE_STATE_P, [0, 0, 0], 0.9), [1, 4, -1])


def test_policy_evaluation_accepts_stochastic_policies() -> None:
    uniform = np.full((3, 2), 0.5)
    V = policy_evaluation(THREE_STATE_P, uniform, 0.9)
    # Bellman equation of the uniform policy holds.
    model = TabularModel.from_transitions(THREE_STATE_P)
    Q = model.expected_reward + 0.9 * model.continuation @ V
    np.testing.assert_allclose(V, Q.mean(axis=1), atol=1e-9)


def test_frozenlake_optimum_matches_gymnasium_reference() -> None:
    # Gymnasium's registration notes the optimum success rate of FrozenLake 4x4: 0.74
    # (reward 1 at the goal, undiscounted). The 100-step limit lowers it slightly.
    P = gym.make("FrozenLake-v1").unwrapped.P
    V, _, _ = value_iteration(P, 16, 4, gamma=1.0)
    assert V[0] == pytest.approx(0.8235, abs=1e-3)


def test_gamma_one_that_never_terminates_raises() -> None:
    # A self-loop with reward -1 forever: values diverge with gamma = 1.
    P = {0: {0: [(1.0, 0, -1.0, False)]}}
    with pytest.raises(ConvergenceError, match="gamma=1"):
        value_iteration(P, 1, 1, gamma=1.0, max_iterations=1000)
    with pytest.raises(ConvergenceError, match="gamma"):
        policy_evaluation(P, [0], 1.0, max_iterations=1000)
    V, _, _ = value_iteration(P, 1, 1, gamma=0.5)
    assert V[0] == pytest.approx(-2.0)


@pytest.mark.parametrize("gamma", [-0.1, 1.5])
def test_gamma_outside_unit_interval_is_rejected(gamma: float) -> None:
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(THREE_STATE_P, 3, 2, gamma=gamma)


@pytest.mark.parametrize(
    ("P", "match"),
    [
        ({0: {0: [(0.5, 0, 0.0, True)]}}, r"P\[0\]\[0\].*sum to 0.5"),
        ({0: {0: [(1.0, 3, 0.0, True)]}}, r"P\[0\]\[0\].*next_state"),
        ({0: {0: [(1.0, 0)]}}, r"P\[0\]\[0\] must be a list"),
        ({0: {}}, r"P\[0\]\[0\]"),
    ],
)
def test_malformed_models_name_the_entry(P: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TabularModel.from_transitions(P, 1, 1)


def test_sizes_must_match_the_model() -> None:
    with pytest.raises(ValueError, match="n_actions=3"):
        value_iteration(THREE_STATE_P, 3, 3, gamma=0.9)


@pytest.mark.parametrize("policy", [[0, 1], [0, 1, 2], np.ones((3, 2))])
def test_bad_policies_are_rejected(policy: Any) -> None:
    with pytest.raises(ValueError, match="policy"):
        policy_evaluation(THREE_STATE_P, policy, 0.9)


def test_greedy_policy_breaks_ties_towards_the_lowest_action() -> None:
    assert greedy_policy([[1.0, 1.0], [0.0, 2.0]]).tolist() == [0, 1]


def test_model_vector_env_follows_next_step_autoreset() -> None:
    envs = ModelVectorEnv.from_env("FrozenLake-v1", 2, is_slippery=False)
    obs, _ = envs.reset(seed=0)
    assert obs.tolist() == [0, 0]
    # Copy 0 walks into the hole at 5 (down, right); copy 1 bumps into the wall.
    for action in ([1, 3], [2, 3]):
        obs, reward, terminated, truncated, _ = envs.step(np.array(action))
    assert obs.tolist() == [5, 0] and terminated.tolist() == [True, False]
    # The step after the end ignores copy 0's action and returns its start state.
    obs, reward, terminated, truncated, _ = envs.step(np.array([2, 3]))
    assert obs.tolist() == [0, 0] and reward.tolist() == [0.0, 0.0]
    assert not terminated.any() and not truncated.any()


def test_model_vector_env_truncates_at_the_registered_limit() -> None:
    envs = ModelVectorEnv.from_env("FrozenLake-v1", 3, is_slippery=False)
    assert envs.max_episode_steps == 100
    envs.reset(seed=1)
    for _ in range(99):
        _, _, terminated, truncated, _ = envs.step(np.zeros(3, dtype=np.int64))
        assert not truncated.any() and not terminated.any()
    _, _, _, truncated, _ = envs.step(np.zeros(3, dtype=np.int64))
    assert truncated.all()


def test_model_vector_env_samples_the_model_distribution() -> None:
    # Slippery FrozenLake: "right" from the start moves right, down or stays, 1/3 each.
    envs = ModelVectorEnv.from_env("FrozenLake-v1", 30_000)
    envs.reset(seed=2)
    obs, *_ = envs.step(np.full(30_000, 2))
    frequencies = np.bincount(obs, minlength=16)[[0, 1, 4]] / 30_000
    np.testing.assert_allclose(frequencies, [1 / 3] * 3, atol=0.015)


def test_model_env_reproduces_the_three_state_mdp() -> None:
    model = TabularModel.from_transitions(THREE_STATE_P, initial=[1.0, 0.0, 0.0])
    env = ModelEnv(model, max_episode_steps=10)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert int(obs) == 0
    _, reward, terminated, truncated, _ = env.step(0)
    assert (reward, terminated, truncated) == (1.0, True, False)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_learners_find_the_three_state_optimum(name: str) -> None:
    model = TabularModel.from_transitions(THREE_STATE_P, initial=[1.0, 0.0, 0.0])
    V_star, _, _ = value_iteration(model, 3, 2, gamma=0.9)
    agent = ALGORITHMS[name](
        ModelEnv(model),
        gamma=0.9,
        learning_rate="linear(0.2,0.01,1.0)",
        epsilon="linear(1.0,0.01,0.7)",
        seed=0,
    ).learn(total_steps=5_000)
    V = policy_evaluation(model, greedy_policy(agent.q_table), gamma=0.9)
    # The best other policy is worth 2.16 from the start against 2.61: the tolerance
    # admits only the optimal policy.
    np.testing.assert_allclose(V, V_star, atol=1e-6)
