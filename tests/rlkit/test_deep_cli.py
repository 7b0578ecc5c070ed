"""``rlkit train --algo ppo|dqn|sac`` (rlkit.deep.cli) beside the tabular ``rlkit train``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stable_baselines3 import PPO

from rlkit.cli import main
from rlkit.tabular import TabularLearner

#: The corridor of test_deep_train: tiny frames, 4-step episodes.
ENV = ["--env", "rlkit/GridNav-Map-v0", "--env-kwargs",
       '{"map": ".......", "goal": [0, 3], "max_steps": 4, "pixel_size": 32}']  # fmt: skip
SMALL = ["--n-envs", "2", "--set", "n_steps=32", "--set", "batch_size=32", "--device", "cpu",
         "--no-progress"]  # fmt: skip


#: Torch on one thread for every test here (tests/rlkit/conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_train_ppo_writes_a_run_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--algo", "ppo", *ENV, "--steps", "128", "--finetune", "lora",
            "--lora-rank", "2", "--checkpoint-every", "64", "--out", str(tmp_path),
            *SMALL]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("trained ppo on rlkit/GridNav-Map-v0: 128 steps,")
    assert f"saved {tmp_path / 'model.zip'}" in out
    model = PPO.load(tmp_path / "model.zip", device="cpu")
    assert model.num_timesteps == 128
    extractor = model.policy_kwargs["features_extractor_kwargs"]
    assert extractor["finetune"] == "lora" and extractor["lora_rank"] == 2
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["command"].startswith("rlkit train --algo ppo --env rlkit/GridNav-Map-v0")
    assert config["arguments"]["finetune"] == "lora" and "gamma" not in config["arguments"]
    assert config["hyperparams"]["n_steps"] == 32 and config["hyperparams"]["n_envs"] == 2

    assert main(argv) == 2  # the folder holds a run
    assert "--resume" in capsys.readouterr().err
    longer = [a if a != "128" else "192" for a in argv]
    assert main([*longer, "--resume"]) == 0
    assert "192 steps" in capsys.readouterr().out
    assert PPO.load(tmp_path / "model.zip", device="cpu").num_timesteps == 192


def test_nested_hyperparameters_with_set(tmp_path: Path) -> None:
    argv = ["train", "--algo", "dqn", *ENV, "--steps", "64", "--out", str(tmp_path),
            "--set", "learning_starts=16", "--set", "buffer_size=200",
            "--set", "policy_kwargs.net_arch=[16]", "--no-tensorboard",
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["hyperparams"]["policy_kwargs"]["net_arch"] == [16]
    assert config["hyperparams"]["buffer_size"] == 200 and config["algo"] == "dqn"
    assert not (tmp_path / "tb").exists()


def test_tabular_train_still_works(tmp_path: Path) -> None:
    argv = ["train", "--algo", "q_learning", "--env", "FrozenLake-v1", "--steps", "300",
            "--out", str(tmp_path), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert TabularLearner.load(tmp_path / "agent.npz").num_timesteps == 300
    arguments = json.loads((tmp_path / "config.json").read_text())["arguments"]
    assert "finetune" not in arguments and arguments["gamma"] == 0.99


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--algo", "ppo", "--gamma", "0.9"], "--gamma: only for tabular algorithms"),
        (["--algo", "sac", "--episodes", "3", "--bins", "3"], "--episodes, --bins: only for"),
        (["--algo", "q_learning", "--finetune", "full"], "--finetune: only for deep algorithms"),
        (["--algo", "sarsa", "--set", "n_steps=2"], "--set: only for deep"),
        (["--algo", "dqn", "--finetune", "half"], None),  # argparse: invalid choice
        (["--algo", "ppo", "--set", "n_stepz=8"], "'n_stepz'"),
        (["--algo", "dqn", "--steps", "64"], "algo 'dqn' needs Discrete actions"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str | None
) -> None:
    env = ["--env", "rlkit/ArmReach-v0"] if "dqn" in argv and "--steps" in argv else ENV
    full = ["train", *argv, *env, "--out", str(tmp_path / "run"), "--no-progress"]
    if message is None:
        with pytest.raises(SystemExit) as exit_info:
            main(full)
        assert exit_info.value.code == 2
        return
    assert main(full) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlkit train: error:") and message in err
    assert not (tmp_path / "run" / "model.zip").exists()


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys, rlkit.cli\n"
        "rlkit.cli.build_parser().parse_args(['train', '--algo', 'ppo', '--env', 'x'])\n"
        "sys.exit('torch' in sys.modules or 'stable_baselines3' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
