"""PPO, DQN and SAC training on pixels (rlkit.deep.train) and the GoalPixels wrapper.

The envs are tiny: a 1x7 corridor with the goal in the middle and a random start (the
policy must read the frame to know which way to go), 32-pixel frames and a 4-step time
limit, so every test trains for a few hundred steps in a few seconds on one CPU thread.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO, SAC, HerReplayBuffer
from stable_baselines3.common.utils import LinearSchedule

import envs  # noqa: F401 - registers the rlkit/... ids
from rlkit.agents import RandomAgent, load_agent
from rlkit.backbones import DEFAULT_BACKBONE, load_backbone, resolve_device
from rlkit.deep.buffers import ChannelsLastRolloutBuffer
from rlkit.deep.policies import BackboneSACPolicy, backbone_extractors
from rlkit.deep.trainer import (
    ALGORITHMS,
    TrainResult,
    _sb3_kwargs,
    allowed_hyperparams,
    load_hyperparams,
    train,
)
from rlkit.deep.wrappers import GoalPixels

GRID = "rlkit/GridNav-Map-v0"
#: Start anywhere on a 1x7 corridor, goal in the middle; a random walk succeeds ~1/4.
LINE: dict[str, Any] = {"map": ".......", "goal": (0, 3), "max_steps": 4, "pixel_size": 32}
PPO_HP: dict[str, Any] = {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 2}
DQN_HP: dict[str, Any] = {
    "learning_starts": 32,
    "buffer_size": 500,
    "batch_size": 16,
    "train_freq": 4,
    "target_update_interval": 64,
}
HER: dict[str, Any] = {
    "replay_buffer_class": "HerReplayBuffer",
    "replay_buffer_kwargs": {"n_sampled_goal": 2, "goal_selection_strategy": "future"},
    "learning_starts": 50,
    "buffer_size": 500,
    "batch_size": 16,
}
ARM = {"max_steps": 20, "pixel_size": 32}


#: Torch on one thread for every test here (tests/rlkit/conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def line(algo: str = "ppo", steps: int = 128, **kwargs: Any) -> TrainResult:
    """``train`` on the corridor with small hyperparameters (kwargs override)."""
    hyperparams = {**(PPO_HP if algo == "ppo" else DQN_HP), **kwargs.pop("hyperparams", {})}
    options: dict[str, Any] = {"env_kwargs": LINE, "hyperparams": hyperparams, "device": "cpu"}
    return train(algo, GRID, total_steps=steps, **{**options, **kwargs})


def observations(count: int = 8) -> np.ndarray:
    env = gym.make(GRID, obs="pixels", **LINE)
    return np.stack([env.reset(seed=seed)[0] for seed in range(count)])


def parameters(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


# ---------------------------------------------------------------------- fine-tuning modes


def _base_name(name: str) -> str:
    return name.replace(".base.", ".")


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
@pytest.mark.parametrize("finetune", ["frozen", "lora", "full"])
def test_finetune_modes_train_only_their_parameters(
    algo: str, finetune: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before: dict[str, torch.Tensor] = {}
    original = ALGORITHMS[algo].learn

    def learn(self: Any, *args: Any, **kwargs: Any) -> Any:
        before.update(parameters(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ALGORITHMS[algo], "learn", learn)
    result = line(algo, 128, finetune=finetune, lora_rank=2)
    after = parameters(result.model)
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    backbone = {k for k in after if ".backbone." in k}
    adapters = {k for k in backbone if ".lora_" in k}
    assert changed - backbone, "the heads did not train"
    if finetune == "frozen":
        assert not adapters and not changed & backbone
    elif finetune == "lora":
        assert adapters and changed & backbone <= adapters
        assert any(".lora_b." in k for k in changed & adapters)
    else:
        assert changed & backbone

    # compared with the shipped weights themselves, not only with the start of training
    pretrained = load_backbone(DEFAULT_BACKBONE).state_dict()
    extractors = backbone_extractors(result.model.policy)
    assert len(extractors) == (1 if algo == "ppo" else 2)  # DQN: online and target nets
    for extractor in extractors:
        state = extractor.backbone.state_dict()
        base = {_base_name(k): v for k, v in state.items() if ".lora_" not in k}
        assert base.keys() == pretrained.keys()
        same = all(torch.equal(base[k], pretrained[k]) for k in pretrained)
        assert same == (finetune != "full") or extractor is not extractors[0]


# ---------------------------------------------------------------------- learning


def test_short_ppo_run_beats_a_random_agent(pixel_success_rate: Callable[..., float]) -> None:
    result = line(
        "ppo", 1024, hyperparams={"n_envs": 4, "n_steps": 64, "batch_size": 64,
                                  "n_epochs": 4, "learning_rate": 1e-3},
    )  # fmt: skip
    env = gym.make(GRID, obs="pixels", **LINE)
    random_rate = pixel_success_rate(RandomAgent(env.action_space, seed=0), GRID, LINE)
    trained_rate = pixel_success_rate(result.model, GRID, LINE)
    # Seed 0 reaches 1.0; the margin leaves room for other CPUs' rounding (a few seeds
    # only learn one side of the goal in this budget: about 0.5).
    assert random_rate < 0.35
    assert trained_rate >= 0.45 and trained_rate >= random_rate + 0.2


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_same_seed_same_run(algo: str) -> None:
    first, second = line(algo, 256, seed=3), line(algo, 256, seed=3)
    assert first.learning_curve == second.learning_curve
    a, b = parameters(first.model), parameters(second.model)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    other = line(algo, 256, seed=4)
    assert other.learning_curve != first.learning_curve


def test_result_and_learning_curve() -> None:
    result = line("ppo", 128)
    assert result.steps == result.model.num_timesteps == 128 and result.out is None
    curve = result.learning_curve
    assert result.episodes == len(curve) > 0
    assert [p["step"] for p in curve] == sorted(p["step"] for p in curve)
    assert all(0 < p["step"] <= 128 and 1 <= p["episode_length"] <= 4 for p in curve)
    assert all(p["episode_return"] == float(p["is_success"]) for p in curve)  # +1 at the goal
    assert result.hyperparams["n_steps"] == 32 and result.hyperparams["total_steps"] == 128
    summary = result.summary()
    assert summary["episodes"] == len(curve) and 0 <= summary["success_rate"] <= 1


def test_no_stray_sb3_log_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``out`` SB3 would make an empty ``SB3-<time>`` folder in the temp dir on
    every ``learn()``; train() gives it a logger that writes no files."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    line("ppo", 64)
    line("ppo", 64, verbose=1)
    assert list(tmp_path.iterdir()) == []


def test_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    line("ppo", 64, progress_bar=True)
    assert "64/64" in capsys.readouterr().err


# ---------------------------------------------------------------------- files


def test_save_and_load_give_the_same_actions(tmp_path: Path) -> None:
    result = line("ppo", 128, out=tmp_path, checkpoint_every=64)
    obs = observations(12)
    expected, _ = result.model.predict(obs, deterministic=True)
    loaded = PPO.load(tmp_path / "model.zip", device="cpu")
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], expected)
    # PPO on pixels keeps its rollout channels-last, and a loaded model does too
    assert isinstance(result.model.rollout_buffer, ChannelsLastRolloutBuffer)
    assert loaded.rollout_buffer_class is ChannelsLastRolloutBuffer
    agent = load_agent(tmp_path / "model.zip", gym.make(GRID, obs="pixels", **LINE))
    np.testing.assert_array_equal([int(agent.act(o)) for o in obs], expected)
    checkpoints = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert checkpoints == ["model_128.zip", "model_64.zip"]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["algo"] == "ppo" and config["env_id"] == GRID and config["status"] == "finished"
    assert config["hyperparams"] == result.hyperparams and config["device"] == "cpu"
    assert config["hyperparams"]["policy_kwargs"]["features_extractor_kwargs"]["finetune"] == "full"
    assert config["result"]["steps"] == 128 and config["result"]["episodes"] == result.episodes
    assert {"versions", "git_commit", "command"} <= set(config)
    assert list((tmp_path / "tb").glob("PPO_1/events.out.tfevents.*"))


def test_existing_run_needs_resume(tmp_path: Path) -> None:
    line("ppo", 64, out=tmp_path, tensorboard=False)
    with pytest.raises(ValueError, match="already holds a run"):
        line("ppo", 64, out=tmp_path)


def monitor_lines(out: Path) -> list[str]:
    """The episode rows of every Monitor file of a run."""
    return [
        row
        for p in sorted((out / "monitor").glob("*.csv"))
        for row in p.read_text().splitlines()[2:]
    ]


def monitor_rows(out: Path) -> int:
    return len(monitor_lines(out))


def test_resume_continues_steps_curve_and_logs(tmp_path: Path) -> None:
    first = line("ppo", 128, out=tmp_path, checkpoint_every=64)
    resumed = line("ppo", 256, out=tmp_path, checkpoint_every=64, resume=True)
    assert resumed.steps == 256 and resumed.hyperparams["total_steps"] == 256
    assert resumed.learning_curve[: first.episodes] == first.learning_curve
    assert resumed.episodes > first.episodes
    assert all(p["step"] > 128 for p in resumed.learning_curve[first.episodes :])
    assert monitor_rows(tmp_path) == resumed.episodes
    names = {p.name for p in (tmp_path / "checkpoints").iterdir()}
    assert names == {f"model_{n}.zip" for n in (64, 128, 192, 256)}
    assert [p.name for p in (tmp_path / "tb").iterdir()] == ["PPO_1"]  # the same TB run
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["resumed_from"] == 128 and config["result"]["steps"] == 256
    # finished: resuming again to the same total trains nothing
    again = line("ppo", 256, out=tmp_path, resume=True)
    assert again.steps == 256 and again.learning_curve == resumed.learning_curve


def test_resume_after_a_kill_loses_at_most_one_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates = 0
    original = PPO.train

    def killed_on_third_update(self: PPO) -> None:
        nonlocal updates
        updates += 1
        if updates == 3:
            raise KeyboardInterrupt
        original(self)

    monkeypatch.setattr(PPO, "train", killed_on_third_update)
    with pytest.raises(KeyboardInterrupt):
        line("ppo", 256, out=tmp_path, checkpoint_every=64)
    monkeypatch.undo()
    assert not (tmp_path / "model.zip").exists()
    names = {p.name for p in (tmp_path / "checkpoints").iterdir()}
    # killed while updating on steps 128-192: that rollout is lost, nothing before it
    assert names == {"model_64.zip", "model_128.zip"}
    # the killed run's episodes up to step 128 stay, the later ones are redone
    killed = [row.split(",") for row in monitor_lines(tmp_path)]
    kept_rows = sorted((int(r[3]), float(r[0]), int(r[1])) for r in killed if int(r[3]) <= 128)
    assert len(kept_rows) < len(killed)
    with (tmp_path / "monitor" / "0.monitor.csv").open("a") as stream:
        stream.write("1.0,2,0.3")  # a row cut short by the kill
    resumed = line("ppo", 256, out=tmp_path, checkpoint_every=64, resume=True)
    assert resumed.steps == 256 and (tmp_path / "model.zip").exists()
    assert monitor_rows(tmp_path) == resumed.episodes
    early = [p for p in resumed.learning_curve if p["step"] <= 128]
    assert sorted((p["step"], p["episode_return"], p["episode_length"]) for p in early) == kept_rows
    steps = [p["step"] for p in resumed.learning_curve]
    assert steps == sorted(steps) and steps[-1] <= 256 and min(steps) <= 64

    # a kill between checkpoints of a finished run: drop the last one and the model
    (tmp_path / "model.zip").unlink()
    (tmp_path / "checkpoints" / "model_256.zip").unlink()
    again = line("ppo", 256, out=tmp_path, checkpoint_every=64, resume=True)
    kept = [p for p in resumed.learning_curve if p["step"] <= 192]  # model_192 is the latest
    assert again.steps == 256 and again.learning_curve[: len(kept)] == kept
    assert monitor_rows(tmp_path) == again.episodes


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    line("ppo", 64, out=tmp_path, tensorboard=False)
    with pytest.raises(ValueError, match=r"hyperparams\.n_steps"):
        line("ppo", 128, out=tmp_path, resume=True, hyperparams={"n_steps": 64})
    with pytest.raises(ValueError, match="seed"):
        line("ppo", 128, out=tmp_path, resume=True, seed=5)


def test_off_policy_checkpoints_keep_the_latest_replay_buffer(tmp_path: Path) -> None:
    line("dqn", 128, out=tmp_path, checkpoint_every=64, tensorboard=False)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["model_128.zip", "model_64.zip", "replay_buffer_128.pkl"]
    resumed = line("dqn", 192, out=tmp_path, checkpoint_every=64, resume=True)
    assert isinstance(resumed.model, DQN) and resumed.steps == 192
    assert resumed.model.replay_buffer is not None
    assert resumed.model.replay_buffer.size() == 192  # 128 restored + 64 new
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names[-1] == "replay_buffer_192.pkl" and "replay_buffer_128.pkl" not in names


# ---------------------------------------------------------------------- SAC + HER


def test_sac_with_her_on_goal_pixels(tmp_path: Path) -> None:
    result = train(
        "sac", "rlkit/ArmReach-v0", total_steps=120, env_kwargs={"obs": "dict", **ARM},
        goal_pixels=True, hyperparams=HER, device="cpu", out=tmp_path, checkpoint_every=60,
        tensorboard=False,
    )  # fmt: skip
    model = result.model
    assert isinstance(model, SAC) and isinstance(model.policy, BackboneSACPolicy)
    assert isinstance(model.replay_buffer, HerReplayBuffer) and result.steps == 120
    assert set(model.observation_space.spaces) == {"pixels", "achieved_goal", "desired_goal"}
    assert len(backbone_extractors(model.policy)) >= 2  # actor and critic (and target)
    assert result.episodes >= 5 and result.hyperparams["replay_buffer_class"] == "HerReplayBuffer"
    resumed = train(
        "sac", "rlkit/ArmReach-v0", total_steps=160, env_kwargs={"obs": "dict", **ARM},
        goal_pixels=True, hyperparams=HER, device="cpu", out=tmp_path, checkpoint_every=60,
        resume=True, tensorboard=False,
    )  # fmt: skip
    assert resumed.steps == 160 and isinstance(resumed.model.replay_buffer, HerReplayBuffer)
    assert resumed.model.replay_buffer.size() > 0


def test_sac_with_her_on_vector_goals_uses_sb3_policy() -> None:
    result = train(
        "sac", "rlkit/ArmReach-v0", total_steps=80, env_kwargs={"obs": "dict", **ARM},
        hyperparams=HER, device="cpu",
    )  # fmt: skip
    assert type(result.model.policy).__name__ == "MultiInputPolicy"
    assert isinstance(result.model.replay_buffer, HerReplayBuffer)
    assert "features_extractor_kwargs" not in result.model.policy_kwargs


def test_goal_pixels_draws_the_pixel_observation() -> None:
    wrapped = GoalPixels(gym.make("rlkit/ArmReachObstacles-v0", obs="dict"), show_goal=True)
    pixels = gym.make("rlkit/ArmReachObstacles-v0", obs="pixels")
    obs, _ = wrapped.reset(seed=3)
    frame, _ = pixels.reset(seed=3)
    np.testing.assert_array_equal(obs["pixels"], frame)
    for _ in range(3):
        action = wrapped.action_space.sample()
        obs = wrapped.step(action)[0]
        np.testing.assert_array_equal(obs["pixels"], pixels.step(action)[0])
        assert wrapped.observation_space.contains(obs)
    hidden = GoalPixels(gym.make("rlkit/ArmReachObstacles-v0", obs="dict"))
    no_goal = hidden.reset(seed=3)[0]["pixels"]
    assert not np.array_equal(no_goal, frame)  # the goal disc is not drawn


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [("rlkit/ArmReach-v0", {"obs": "flat"}), ("rlkit/GridNav-v0", {"obs": "pixels"})],
)
def test_goal_pixels_needs_goal_conditioned_arm(env_id: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="obs='dict'"):
        GoalPixels(gym.make(env_id, **kwargs))


# ---------------------------------------------------------------------- device


def test_device_auto_is_cpu_here_and_cuda_when_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = line("ppo", 64, device="auto")
    assert result.model.device == resolve_device("auto")
    if not torch.cuda.is_available():
        assert result.model.device.type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"  # chosen, never created here


# ---------------------------------------------------------------------- hyperparameters


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_every_shipped_entry_is_valid(algo: str) -> None:
    from importlib import resources

    import yaml

    text = resources.files("rlkit.deep").joinpath(f"hyperparams/{algo}.yml").read_text()
    table = yaml.safe_load(text)
    assert "default" in table
    for env_id in table:
        hp = load_hyperparams(algo, env_id)
        assert {"n_envs", "total_steps", "checkpoint_every", "backbone_lr_scale"} <= set(hp)
        assert set(hp) <= set(allowed_hyperparams(algo))
        kwargs = _sb3_kwargs(hp, backbone_policy=True)
        assert kwargs["policy_kwargs"]["backbone_lr_scale"] == hp["backbone_lr_scale"]


def test_overrides_merge_and_names_become_objects() -> None:
    hp = load_hyperparams(
        "sac", "rlkit/ArmReach-v0",
        {"policy_kwargs": {"activation_fn": "relu"}, "learning_rate": "lin_1e-3", **HER},
    )  # fmt: skip
    assert hp["gamma"] == 0.95  # the env's entry over the default
    assert hp["policy_kwargs"]["net_arch"] == [128, 128]  # merged, not replaced
    kwargs = _sb3_kwargs(hp, backbone_policy=False)
    assert kwargs["replay_buffer_class"] is HerReplayBuffer
    assert kwargs["policy_kwargs"]["activation_fn"] is torch.nn.ReLU
    assert isinstance(kwargs["learning_rate"], LinearSchedule)
    assert kwargs["learning_rate"](1.0) == pytest.approx(1e-3)


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("algo", "env_id", "options", "message"),
    [
        ("a2c", GRID, {}, r"algo must be one of \['dqn', 'ppo', 'sac'\]"),
        ("ppo", GRID, {"finetune": "half"}, "finetune must be one of"),
        ("ppo", GRID, {"hyperparams": {"n_step": 5}}, r"'n_step'.*allowed keys: .*n_steps"),
        ("dqn", "rlkit/ArmReach-v0", {"env_kwargs": {}}, "algo 'dqn' needs Discrete actions"),
        ("sac", GRID, {}, "algo 'sac' needs Box actions"),
        ("ppo", GRID, {"total_steps": 0}, "total_steps must be a positive integer"),
        ("ppo", "rlkit/NoSuchEnv-v0", {"env_kwargs": {}}, "env_id 'rlkit/NoSuchEnv-v0'"),
        ("ppo", GRID, {"env_kwargs": {"colour": 1}}, "env_kwargs"),
        ("ppo", GRID, {"resume": True}, "resume=True needs out="),
        (
            "sac",
            "rlkit/ArmReach-v0",
            {"goal_pixels": True, "env_kwargs": {"obs": "pixels"}},
            "goal_pixels=True .*'obs': 'dict'",
        ),
        (
            "sac",
            "rlkit/ArmReach-v0",
            {"env_kwargs": {"obs": "dict"}, "hyperparams": {"replay_buffer_class": "Her"}},
            "replay_buffer_class must be one of",
        ),
    ],
)
def test_bad_input_names_the_argument(
    algo: str, env_id: str, options: dict[str, Any], message: str
) -> None:
    kwargs: dict[str, Any] = {"env_kwargs": LINE, "total_steps": 64, "device": "cpu", **options}
    with pytest.raises(ValueError, match=message):
        train(algo, env_id, **kwargs)


def test_train_is_the_trainer_function_not_a_module() -> None:
    import rlkit.deep
    from rlkit.deep import train as imported

    assert callable(rlkit.deep.train) and imported is rlkit.deep.train
    assert imported.__module__ == "rlkit.deep.trainer"
