"""The Agent protocol, its adapters, as_agent and load_agent."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from rlkit.agents import (
    Agent,
    CallableAgent,
    EnvBound,
    PlannerAgent,
    PolicyAgent,
    RandomAgent,
    SB3Agent,
    Seedable,
    TabularAgent,
    agent_name,
    as_agent,
    load_agent,
)


class Doubler:
    """A model with SB3's predict signature that records how it was called."""

    def __init__(self) -> None:
        self.calls: list[bool] = []

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[Any, None]:
        self.calls.append(deterministic)
        return obs * 2, None


@pytest.fixture
def frozen_lake() -> Iterator[gym.Env[Any, Any]]:
    env = gym.make("FrozenLake-v1", is_slippery=False)
    yield env
    env.close()


@pytest.fixture
def gridnav() -> Iterator[gym.Env[Any, Any]]:
    pytest.importorskip("envs", reason="GridNav (envs package) is not installed")
    env = gym.make("rlkit/GridNav-v0")
    yield env
    env.close()


@pytest.mark.parametrize(
    "agent",
    [
        PlannerAgent(),
        RandomAgent(gym.spaces.Discrete(3)),
        CallableAgent(lambda obs: 0),
        PolicyAgent(Doubler()),
    ],
    ids=["planner", "random", "callable", "policy"],
)
def test_adapters_are_agents(agent: Any) -> None:
    assert isinstance(agent, Agent)
    assert isinstance(agent_name(agent), str)


def test_optional_hooks() -> None:
    assert isinstance(PlannerAgent(), EnvBound)
    assert isinstance(RandomAgent(gym.spaces.Discrete(2)), Seedable)
    assert not isinstance(CallableAgent(lambda obs: 0), EnvBound | Seedable)


def test_random_agent_is_reproducible_and_leaves_env_rng_alone(
    frozen_lake: gym.Env[Any, Any],
) -> None:
    frozen_lake.action_space.seed(123)
    reference = [int(frozen_lake.action_space.sample()) for _ in range(20)]
    frozen_lake.action_space.seed(123)
    agent = RandomAgent(frozen_lake.action_space, seed=7)
    first = [int(agent.act(None)) for _ in range(20)]
    agent.seed(7)
    assert [int(agent.act(None)) for _ in range(20)] == first
    assert [int(frozen_lake.action_space.sample()) for _ in range(20)] == reference
    assert all(frozen_lake.action_space.contains(a) for a in first)


def test_policy_agent_passes_deterministic() -> None:
    model = Doubler()
    agent = PolicyAgent(model, deterministic=False)
    assert agent.act(3) == 6
    assert model.calls == [False]
    greedy = agent.with_deterministic(True)
    assert greedy is not agent and greedy.model is model and not agent.deterministic
    greedy.act(1)
    assert model.calls == [False, True]
    assert agent.with_deterministic(False) is agent


def test_policy_agent_needs_predict() -> None:
    with pytest.raises(TypeError, match="no predict"):
        PolicyAgent(object())


def test_as_agent_picks_adapters() -> None:
    random_agent = RandomAgent(gym.spaces.Discrete(2))
    assert as_agent(random_agent) is random_agent
    assert isinstance(as_agent(Doubler()), PolicyAgent)
    assert as_agent(Doubler(), deterministic=False).deterministic is False  # type: ignore[attr-defined]
    callable_agent = as_agent(lambda obs: obs + 1)
    assert isinstance(callable_agent, CallableAgent) and callable_agent.act(1) == 2


@pytest.mark.parametrize(
    ("thing", "match"),
    [("planner", "load_agent"), (Path("q.npz"), "load_agent"), (3, "cannot act")],
)
def test_as_agent_rejects(thing: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        as_agent(thing)


def test_planner_agent_needs_an_env(frozen_lake: gym.Env[Any, Any]) -> None:
    with pytest.raises(RuntimeError, match="not bound"):
        PlannerAgent().act(None)
    with pytest.raises(ValueError, match="'FrozenLake-v1' has no expert_action"):
        PlannerAgent(frozen_lake)
    with pytest.raises(ValueError, match="expert_action"):
        load_agent("planner", frozen_lake)


def test_planner_agent_follows_expert(gridnav: gym.Env[Any, Any]) -> None:
    agent = load_agent("planner", gridnav)
    obs, _ = gridnav.reset(seed=5)
    for _ in range(3):
        action = agent.act(obs)
        assert action == gridnav.unwrapped.expert_action()  # type: ignore[attr-defined]
        obs, *_ = gridnav.step(action)


def test_load_agent_names(frozen_lake: gym.Env[Any, Any]) -> None:
    assert isinstance(load_agent("random", frozen_lake, seed=0), RandomAgent)
    with pytest.raises(ValueError, match=r"unknown agent 'plannr'.*did you mean 'planner'"):
        load_agent("plannr", frozen_lake)
    with pytest.raises(ValueError, match=r"unknown agent 'policy\.pt'"):
        load_agent("policy.pt", frozen_lake)
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        load_agent("missing.npz", frozen_lake)


def test_load_tabular_agent(tmp_path: Path, frozen_lake: gym.Env[Any, Any]) -> None:
    tabular = pytest.importorskip("rlkit.tabular", reason="rlkit.tabular is not installed")
    learner = tabular.QLearning(frozen_lake, learning_rate=0.5, epsilon=0.3, seed=0)
    path = learner.learn(total_steps=3000).save(tmp_path / "q.npz")
    agent = load_agent(path, frozen_lake)
    assert isinstance(agent, TabularAgent)
    assert agent.name == f"{learner.algorithm}:q"
    obs, _ = frozen_lake.reset(seed=0)
    assert agent.act(obs) == learner.act(obs)
    assert isinstance(as_agent(learner), TabularAgent)


@pytest.mark.slow  # imports torch
def test_sb3_zip_round_trip(tmp_path: Path, frozen_lake: gym.Env[Any, Any]) -> None:
    sb3 = pytest.importorskip("stable_baselines3", reason="stable-baselines3 is not installed")
    model = sb3.PPO("MlpPolicy", frozen_lake, n_steps=16, batch_size=16, device="cpu", seed=0)
    model.save(tmp_path / "ppo.zip")
    agent = load_agent(tmp_path / "ppo.zip", frozen_lake)
    assert isinstance(agent, SB3Agent) and agent.name == "PPO:ppo"
    obs, _ = frozen_lake.reset(seed=0)
    expected, _ = model.predict(obs, deterministic=True)
    action = agent.act(obs)
    assert frozen_lake.action_space.contains(action) and int(action) == int(expected)
    assert isinstance(as_agent(model), SB3Agent)
    with pytest.raises(ValueError, match="unknown stable-baselines3 algorithm 'PPX'"):
        load_agent(tmp_path / "ppo.zip", frozen_lake, algo="PPX")


def test_sb3_rejects_non_model_zip(tmp_path: Path, frozen_lake: gym.Env[Any, Any]) -> None:
    # Checked before stable-baselines3 (and torch) is imported, and without unpickling.
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as archive:
        archive.writestr("readme.txt", "not a model")
    with pytest.raises(ValueError, match="not a stable-baselines3 model"):
        load_agent(tmp_path / "notes.zip", frozen_lake)


def test_sb3_agent_keeps_recurrent_state() -> None:
    class Recurrent:
        def predict(self, obs: Any, state: Any, episode_start: Any, deterministic: bool) -> Any:
            return (0 if state is None else state + 1), (0 if state is None else state + 1)

    agent = SB3Agent(Recurrent())
    assert [agent.act(None) for _ in range(3)] == [0, 1, 2]
    agent.reset()
    assert agent.act(None) == 0
    assert np.asarray(agent.act(None)) == 1
