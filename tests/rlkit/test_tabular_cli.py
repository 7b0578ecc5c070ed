"""``rlkit train`` and the import-time promise of rlkit.tabular (no torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from rlkit.cli import build_parser, main
from rlkit.tabular import NStepSARSA, QLearning, TabularLearner


def test_train_saves_an_agent_and_its_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "frozenlake_q"
    argv = [
        "train", "--algo", "q_learning", "--env", "FrozenLake-v1", "--steps", "3000",
        "--seed", "0", "--out", str(out), "--env-kwargs", '{"is_slippery": false}',
        "--learning-rate", "0.5", "--epsilon", "linear(1.0,0.05,0.5)", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == ["agent.npz", "config.json"]
    agent = TabularLearner.load(out / "agent.npz", env=gym.make("FrozenLake-v1"))
    assert isinstance(agent, QLearning) and agent.num_timesteps == 3000
    assert agent.get_hyperparameters()["epsilon"] == "linear(1.0,0.05,0.5)"
    assert TabularLearner.load(out / "agent.npz").env_kwargs == {
        "map_name": "4x4",
        "is_slippery": False,
    }
    config = json.loads((out / "config.json").read_text())
    assert config["command"].startswith("rlkit train --algo q_learning")
    assert config["env_kwargs"] == {"is_slippery": False}
    assert config["seed"] == 0 and config["result"]["steps"] == 3000
    assert {"rlkit", "numpy", "gymnasium", "python"} <= set(config["versions"])
    assert "git_commit" in config
    assert "saved" in capsys.readouterr().out


def test_same_command_same_table(tmp_path: Path) -> None:
    for run in ("a", "b"):
        argv = ["train", "--algo", "sarsa", "--env", "CliffWalking-v1", "--steps", "500",
                "--out", str(tmp_path / run), "--no-progress"]  # fmt: skip
        assert main(argv) == 0
    tables = [TabularLearner.load(tmp_path / run / "agent.npz").q_table for run in ("a", "b")]
    np.testing.assert_array_equal(*tables)


def test_nstep_episodes_and_progress_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--algo", "nstep_sarsa", "--n", "4", "--env", "FrozenLake-v1",
            "--episodes", "20", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    agent = TabularLearner.load(tmp_path / "agent.npz")
    assert isinstance(agent, NStepSARSA) and agent.n == 4 and agent.num_episodes == 20
    assert "20/20" in capsys.readouterr().err  # the progress bar


def test_box_env_with_bins(tmp_path: Path) -> None:
    argv = ["train", "--algo", "expected_sarsa", "--env", "CartPole-v1", "--steps", "200",
            "--bins", "3,3,6,6", "--low=-2.4,-3,-0.21,-3", "--high=2.4,3,0.21,3",
            "--out", str(tmp_path), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert TabularLearner.load(tmp_path / "agent.npz").q_table.shape == (324, 2)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "10", "--gamma", "1.5"], "gamma must be a number in [0, 1]"),
        (["--steps", "10", "--epsilon", "often"], "epsilon: cannot parse schedule"),
        ([], "give a training budget"),
        (["--steps", "10", "--env-kwargs", '{"size": 3}'], "--env-kwargs"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = ["train", "--algo", "sarsa", "--env", "FrozenLake-v1", "--out", str(tmp_path)]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlkit train: error:") and message in err
    assert not (tmp_path / "agent.npz").exists()


def test_box_env_without_bins_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--algo", "sarsa", "--env", "CartPole-v1", "--steps", "10",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 2
    assert "DiscretizeObservation" in capsys.readouterr().err


def test_unknown_env_and_algorithm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "--algo", "sarsa", "--env", "NoSuchEnv-v9", "--steps", "10"]
    assert main(argv) == 2
    assert "NoSuchEnv" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--algo", "a2c", "--env", "FrozenLake-v1", "--steps", "10"])
    assert exit_info.value.code == 2


def test_parser_has_subcommands_for_others_to_extend() -> None:
    parser = build_parser()
    args = parser.parse_args(["train", "--algo", "q_learning", "--env", "FrozenLake-v1"])
    assert args.command == "train" and callable(args.func)


@pytest.mark.parametrize("module", ["rlkit", "rlkit.tabular", "rlkit.cli"])
def test_import_does_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
