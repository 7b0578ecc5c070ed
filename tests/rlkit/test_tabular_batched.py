"""Batched learners (K tables on a vector env) and ensembles."""

from __future__ import annotations

import importlib.util
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from rlkit.tabular import (
    BatchedDoubleQLearning,
    BatchedExpectedSARSA,
    BatchedQLearning,
    BatchedSARSA,
    BatchedTabularLearner,
    Ensemble,
    ModelEnv,
    ModelVectorEnv,
    QLearning,
    TabularLearner,
    TabularModel,
)

BATCHED = [BatchedQLearning, BatchedSARSA, BatchedExpectedSARSA, BatchedDoubleQLearning]
DETERMINISTIC = {"gamma": 0.95, "learning_rate": 0.5, "epsilon": "linear(1.0,0.0,0.8)"}


def frozenlake_vector(num_envs: int) -> ModelVectorEnv:
    return ModelVectorEnv.from_env("FrozenLake-v1", num_envs, is_slippery=False)


def greedy_length(agent: TabularLearner, env: gym.Env[Any, Any], limit: int = 100) -> int | None:
    obs, _ = env.reset(seed=0)
    for step in range(1, limit + 1):
        obs, _, terminated, truncated, _ = env.step(agent.act(int(obs)))
        if terminated:
            return step
        if truncated:
            return None
    return None


@pytest.mark.parametrize("cls", BATCHED, ids=lambda c: c.__name__)
def test_same_seed_same_tables(cls: type[BatchedTabularLearner]) -> None:
    runs = [cls(frozenlake_vector(6), seed=s, **DETERMINISTIC) for s in (7, 7, 8)]
    for run in runs:
        run.learn(total_steps=1_500)
    np.testing.assert_array_equal(runs[0].q_tables, runs[1].q_tables)
    assert not np.array_equal(runs[0].q_tables, runs[2].q_tables)
    # The copies explore differently.
    assert not np.array_equal(runs[0].q_tables[0], runs[0].q_tables[1])


@pytest.mark.parametrize("cls", BATCHED, ids=lambda c: c.__name__)
def test_every_copy_learns_the_shortest_path(cls: type[BatchedTabularLearner]) -> None:
    batch = cls(frozenlake_vector(8), seed=0, **DETERMINISTIC).learn(total_steps=5_000)
    env = gym.make("FrozenLake-v1", is_slippery=False)
    for k in range(batch.num_copies):
        agent = batch.extract(k)
        assert type(agent) is cls.single_class
        assert greedy_length(agent, env) == 6


def test_any_vector_env_works_and_model_env_matches_gymnasium() -> None:
    # On a deterministic task the two vector envs produce the same transitions, so the
    # learners' random streams (and tables) coincide.
    sync = gym.make_vec("FrozenLake-v1", num_envs=4, vectorization_mode="sync", is_slippery=False)
    a = BatchedQLearning(sync, seed=1, **DETERMINISTIC).learn(total_steps=500)
    b = BatchedQLearning(frozenlake_vector(4), seed=1, **DETERMINISTIC).learn(total_steps=500)
    np.testing.assert_array_equal(a.q_tables, b.q_tables)


def test_autoreset_steps_are_not_learned() -> None:
    # One step from state 0 ends the episode in state 1. Under next-step autoreset the
    # following step goes from the terminal observation 1 back to 0 with reward 0;
    # learning it would change row 1, which no real transition starts from.
    P = {0: {0: [(1.0, 1, 1.0, True)]}, 1: {0: [(1.0, 1, 0.0, True)]}}
    model = TabularModel.from_transitions(P, initial=[1.0, 0.0])
    batch = BatchedQLearning(ModelVectorEnv(model, 3), q_init=5.0, learning_rate=1.0, seed=0)
    batch.learn(total_steps=20)
    np.testing.assert_array_equal(batch.q_tables[:, 1], 5.0)
    np.testing.assert_array_equal(batch.q_tables[:, 0, 0], 1.0)
    assert batch.num_episodes.tolist() == [10, 10, 10]  # 20 steps = 10 x (step, reset)


def test_episode_budget_is_per_copy() -> None:
    batch = BatchedSARSA(frozenlake_vector(5), seed=0, epsilon=0.5)
    batch.learn(episodes=4)
    assert batch.num_episodes.tolist() == [4] * 5


def test_extracted_copy_saves_and_keeps_learning(tmp_path: Any) -> None:
    batch = BatchedDoubleQLearning(frozenlake_vector(3), seed=2, **DETERMINISTIC)
    batch.learn(total_steps=300)
    agent = batch.extract(1, env=gym.make("FrozenLake-v1", is_slippery=False))
    np.testing.assert_array_equal(agent.q_table, batch.q_tables[1])
    assert agent.seed == batch.copy_seeds[1] and agent.env_id == "FrozenLake-v1"
    loaded = TabularLearner.load(agent.save(tmp_path / "copy"))
    np.testing.assert_array_equal(loaded.q_table, batch.q_tables[1])
    agent.learn(total_steps=100)
    assert agent.num_timesteps == 400


def test_predict_gives_each_copy_its_action() -> None:
    batch = BatchedQLearning(frozenlake_vector(3), seed=0, **DETERMINISTIC)
    batch.learn(total_steps=2_000)
    obs = np.array([0, 4, 14])
    actions, state = batch.predict(obs)
    assert state is None
    assert actions.tolist() == [batch.extract(k).act(int(obs[k])) for k in range(3)]
    with pytest.raises(ValueError, match="one per copy"):
        batch.predict(np.array([0, 1]))


def test_bad_vector_envs_are_rejected() -> None:
    with pytest.raises(ValueError, match="VectorEnv"):
        BatchedQLearning(gym.make("FrozenLake-v1"))  # type: ignore[arg-type]
    same_step = gym.make_vec(
        "FrozenLake-v1",
        num_envs=2,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": "SameStep"},
    )
    with pytest.raises(ValueError, match="next-step autoreset"):
        BatchedQLearning(same_step)
    with pytest.raises(ValueError, match="DiscretizeObservation"):
        BatchedQLearning(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    with pytest.raises(ValueError, match=r"^gamma"):
        BatchedQLearning(frozenlake_vector(2), gamma=2.0)


@pytest.mark.skipif(importlib.util.find_spec("envs") is None, reason="envs not installed")
def test_native_gridnav_vector_env() -> None:
    import envs  # noqa: F401  (registers rlkit/GridNav-*)

    kwargs = {"map": ".....\n.###.\n...#.\n.#...", "start": (0, 0), "goal": (3, 4), "obs": "index"}
    vector = gym.make_vec(
        "rlkit/GridNav-Map-v0", num_envs=4, vectorization_mode="vector_entry_point", **kwargs
    )
    batch = BatchedQLearning(vector, seed=0, **DETERMINISTIC).learn(total_steps=3_000)
    env = gym.make("rlkit/GridNav-Map-v0", **kwargs)
    _, info = env.reset(seed=0)
    for agent in batch.learners():
        assert greedy_length(agent, env) == info["optimal_length"]


# -- ensembles ------------------------------------------------------------------------------


def make_member(seed: int) -> QLearning:
    env = gym.make("FrozenLake-v1", is_slippery=False)
    return QLearning(env, seed=seed, **DETERMINISTIC)


def test_ensemble_from_a_factory_learns_and_acts() -> None:
    ensemble = Ensemble(make_member, k=3).learn(total_steps=3_000)
    assert [m.seed for m in ensemble.members] == [0, 1, 2]
    np.testing.assert_allclose(
        ensemble.q_table, np.mean([m.q_table for m in ensemble.members], axis=0)
    )
    assert greedy_length(ensemble, gym.make("FrozenLake-v1", is_slippery=False)) == 6  # type: ignore[arg-type]
    actions, _ = ensemble.predict(np.arange(16))
    assert actions.shape == (16,)


def test_majority_vote_breaks_ties_by_mean_q() -> None:
    members = [make_member(seed) for seed in range(3)]
    for member, best in zip(members, (1, 1, 2), strict=True):
        member.q_table[0] = 0.0
        member.q_table[0, best] = 1.0
    members[2].q_table[0, 2] = 10.0  # outvoted despite its large value
    assert Ensemble(members, vote="majority").act(0) == 1
    assert Ensemble(members, vote="mean").act(0) == 2
    members[1].q_table[0] = [0.0, 0.0, 0.0, 1.0]  # now one vote each for 1, 3, 2
    assert Ensemble(members, vote="majority").act(0) == 2


def test_ensemble_of_batched_copies() -> None:
    batch = BatchedQLearning(frozenlake_vector(5), seed=0, **DETERMINISTIC)
    ensemble = Ensemble.from_batched(batch.learn(total_steps=5_000), vote="majority")
    assert len(ensemble) == 5
    assert greedy_length(ensemble, gym.make("FrozenLake-v1", is_slippery=False)) == 6  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((make_member,), {}, "^k must be"),
        ((make_member, 2), {"seeds": [1, 2, 3]}, "does not match"),
        (([],), {}, "at least one"),
        (([make_member(0)],), {"seeds": [1]}, "only apply to a factory"),
        (([make_member(0)],), {"vote": "median"}, "^vote"),
    ],
)
def test_bad_ensembles_are_rejected(args: Any, kwargs: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Ensemble(*args, **kwargs)


def test_members_must_share_table_sizes() -> None:
    small = make_member(0)
    big = QLearning(gym.make("FrozenLake-v1", map_name="8x8"), seed=1)
    with pytest.raises(ValueError, match="different table sizes"):
        Ensemble([small, big])


def test_model_env_members() -> None:
    model = TabularModel.from_transitions(
        {0: {0: [(1.0, 0, 1.0, True)], 1: [(1.0, 0, 0.0, True)]}}, initial=[1.0]
    )
    ensemble = Ensemble(lambda seed: QLearning(ModelEnv(model), seed=seed), seeds=[4, 5])
    assert ensemble.learn(total_steps=50).act(0) == 0
