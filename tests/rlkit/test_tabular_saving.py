"""Saving and loading tabular agents: ``.npz`` + JSON header, atomic, never unpickled."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import rlkit
import rlkit.tabular
from rlkit.tabular import ALGORITHMS, SARSA, QLearning, TabularLearner

ALL = sorted(ALGORITHMS)


@pytest.fixture(scope="module")
def trained() -> dict[str, TabularLearner]:
    """One trained agent per algorithm (module scope: training is the slow part)."""
    agents = {}
    for name, cls in ALGORITHMS.items():
        env = gym.make("FrozenLake-v1", is_slippery=False)
        agents[name] = cls(env, learning_rate=0.5, epsilon="exp(1.0,0.05,3000)", seed=1)
        agents[name].learn(total_steps=4_000)
        assert agents[name].q_table.any()
    return agents


@pytest.fixture
def saved(tmp_path: Path, trained: dict[str, TabularLearner]) -> Path:
    return trained["q_learning"].save(tmp_path / "agent.npz")


@pytest.mark.parametrize("name", ALL)
def test_round_trip_gives_identical_tables_and_actions(
    tmp_path: Path, trained: dict[str, TabularLearner], name: str
) -> None:
    agent = trained[name]
    path = agent.save(tmp_path / name)
    assert path == tmp_path / f"{name}.npz"
    loaded = TabularLearner.load(path, env=gym.make("FrozenLake-v1", is_slippery=False))
    assert type(loaded) is type(agent)
    np.testing.assert_array_equal(loaded.q_table, agent.q_table)
    states = np.arange(agent.n_states)
    np.testing.assert_array_equal(loaded.predict(states)[0], agent.predict(states)[0])
    assert loaded.get_hyperparameters() == agent.get_hyperparameters()
    assert (loaded.num_timesteps, loaded.num_episodes) == (4_000, agent.num_episodes)
    assert loaded.exploration_rate == agent.exploration_rate


def test_loaded_agent_keeps_learning(saved: Path) -> None:
    loaded = QLearning.load(saved, env=gym.make("FrozenLake-v1", is_slippery=False))
    before = loaded.q_table.copy()
    loaded.learn(total_steps=500)
    assert loaded.num_timesteps == 4_500
    assert not np.array_equal(before, loaded.q_table)


def test_loading_without_env_acts_but_cannot_learn(saved: Path) -> None:
    loaded = rlkit.tabular.load(saved)
    assert loaded.env is None and loaded.env_id == "FrozenLake-v1"
    assert loaded.env_kwargs == {"map_name": "4x4", "is_slippery": False}
    assert isinstance(loaded.act(0), int)
    with pytest.raises(ValueError, match="no env"):
        loaded.learn(total_steps=10)


def test_header_records_how_the_agent_was_made(saved: Path) -> None:
    with np.load(saved, allow_pickle=False) as data:
        header = json.loads(str(data["header"]))
        assert sorted(data.files) == ["header", "q_table"]
    assert header["format"] == "rlkit.tabular"
    assert header["algorithm"] == "q_learning"
    assert header["env_id"] == "FrozenLake-v1"
    assert (header["n_states"], header["n_actions"]) == (16, 4)
    assert header["hyperparameters"] == {
        "gamma": 0.99,
        "learning_rate": "constant(0.5)",
        "epsilon": "exp(1.0,0.05,3000)",
        "q_init": 0.0,
        "seed": 1,
    }
    assert header["versions"]["rlkit"] == rlkit.__version__


def test_save_is_atomic_and_overwrites(tmp_path: Path, trained: dict[str, TabularLearner]) -> None:
    path = tmp_path / "nested" / "agent.npz"
    trained["sarsa"].save(path)
    trained["q_learning"].save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["agent.npz"]  # no temp files
    assert type(TabularLearner.load(path)) is QLearning


def test_subclass_load_insists_on_its_algorithm(saved: Path) -> None:
    with pytest.raises(ValueError, match="holds a q_learning agent, not sarsa"):
        SARSA.load(saved)


def test_mismatched_env_is_rejected(saved: Path) -> None:
    with pytest.raises(ValueError, match=r"64 states and 4 actions.*16 states"):
        TabularLearner.load(saved, env=gym.make("FrozenLake-v1", map_name="8x8"))


@pytest.mark.parametrize("keep", [0, 10, 100, 0.5])
def test_truncated_file_is_rejected(saved: Path, keep: float) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[: int(keep * len(data)) if keep < 1 else int(keep)])
    with pytest.raises(ValueError, match="not a readable rlkit tabular agent file"):
        TabularLearner.load(saved)


def test_corrupted_bytes_never_load_a_wrong_table(saved: Path) -> None:
    original = TabularLearner.load(saved)
    data = saved.read_bytes()
    rejected = 0
    for start in range(0, len(data) - 4, 4):
        corrupted = bytearray(data)
        corrupted[start : start + 4] = bytes(b ^ 0xFF for b in corrupted[start : start + 4])
        saved.write_bytes(bytes(corrupted))
        try:
            loaded = TabularLearner.load(saved)
        except ValueError as error:
            assert saved.name in str(error)
            rejected += 1
        else:  # only zip metadata such as timestamps may change harmlessly
            np.testing.assert_array_equal(loaded.q_table, original.q_table)
            assert loaded.get_hyperparameters() == original.get_hyperparameters()
    assert rejected > 0.9 * len(data) / 4


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TabularLearner.load(tmp_path / "nothing.npz")


def _write_npz(path: Path, **arrays: Any) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w") as stream:
                np.lib.format.write_array(stream, np.asanyarray(array), allow_pickle=True)


def _header(**overrides: Any) -> np.ndarray:
    header = {
        "format": "rlkit.tabular",
        "format_version": 1,
        "algorithm": "q_learning",
        "hyperparameters": {
            "gamma": 0.9,
            "learning_rate": "0.1",
            "epsilon": "0.1",
            "q_init": 0.0,
            "seed": 0,
        },
        "n_states": 2,
        "n_actions": 2,
        **overrides,
    }
    return np.array(json.dumps(header))


def test_pickled_arrays_are_never_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("load unpickled data")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    path = tmp_path / "evil.npz"
    _write_npz(path, header=_header(), q_table=np.array([object(), 1], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        TabularLearner.load(path)


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"q_table": np.zeros((2, 2))}, "not a readable"),  # no header
        ({"header": _header(format="other"), "q_table": np.zeros((2, 2))}, "not an rlkit"),
        ({"header": _header(format_version=99), "q_table": np.zeros((2, 2))}, "upgrade"),
        ({"header": _header(algorithm="ppo"), "q_table": np.zeros((2, 2))}, "unknown algorithm"),
        ({"header": _header(), "q_table": np.zeros((3, 2))}, r"shape \(2, 2\)"),
        ({"header": _header(), "q": np.zeros((2, 2))}, "'q_table'"),
        ({"header": _header(n_states="two"), "q_table": np.zeros((2, 2))}, "invalid header"),
        ({"header": np.array("{not json"), "q_table": np.zeros((2, 2))}, "not a readable"),
    ],
)
def test_invalid_contents_are_rejected(
    tmp_path: Path, arrays: dict[str, np.ndarray], match: str
) -> None:
    path = tmp_path / "bad.npz"
    _write_npz(path, **arrays)
    with pytest.raises(ValueError, match=match):
        TabularLearner.load(path)
