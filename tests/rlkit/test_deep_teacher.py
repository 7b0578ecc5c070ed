"""Teacher -> student distillation between networks (rlkit.deep.teacher*, distil_teacher).

The envs are the tiny ones of test_deep_train: a 1x7 corridor (32-pixel frames, goal in
the middle, 4 steps) and a short ArmReach; teachers are trained here in a second or two.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO, SAC, TD3

from rlkit.agents import load_agent
from rlkit.deep.distill import behaviour_cloning, collect_demos, distil_teacher
from rlkit.deep.teacher import acting_parameters, categorical_kl, gaussian_kl, load_teacher
from rlkit.deep.teacher_rollouts import PairedEnv
from rlkit.deep.teacher_student import TeacherDistillResult

CORRIDOR = "rlkit/GridNav-Map-v0"
#: Start anywhere on a 1x7 corridor, goal in the middle; a random walk succeeds ~1/4.
LINE: dict[str, Any] = {"map": ".......", "goal": (0, 3), "max_steps": 4, "pixel_size": 32}
ARM: dict[str, Any] = {"max_steps": 10, "pixel_size": 32}
PPO_KWARGS = {"n_steps": 16, "batch_size": 16}

#: Torch on one thread for every test here (tests/rlkit/conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def distil(
    teacher: Any, env_id: str = CORRIDOR, demos: int = 4, **kwargs: Any
) -> TeacherDistillResult:
    options: dict[str, Any] = {
        "iterations": 1, "rollouts_per_iteration": 4, "epochs": 2, "env_kwargs": LINE,
        "ppo_kwargs": PPO_KWARGS, "device": "cpu",
    }  # fmt: skip
    return distil_teacher(teacher, env_id, demos, **{**options, **kwargs})


@pytest.fixture(scope="module")
def state_teacher() -> PPO:
    """A deterministic PPO teacher on the corridor's coordinates (not pixels): the
    planner's actions fitted by supervised learning until its greedy choice is right
    everywhere and its probabilities are near one-hot."""
    env = gym.make(CORRIDOR, obs="coords", **LINE)
    model = PPO("MlpPolicy", env, seed=0, device="cpu", **PPO_KWARGS)
    demos = collect_demos(CORRIDOR, 30, env_kwargs={**LINE, "obs": "coords"})
    obs, _ = model.policy.obs_to_tensor(demos.observations)
    actions = torch.as_tensor(demos.actions)
    optimizer = torch.optim.Adam(model.policy.parameters(), lr=1e-2)
    for _ in range(300):
        loss = -model.policy.get_distribution(obs).log_prob(actions).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.policy.set_training_mode(False)
    predicted, _ = model.predict(demos.observations, deterministic=True)
    assert np.array_equal(predicted, demos.actions)
    return model


@pytest.fixture(scope="module")
def pixel_teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pixel PPO teacher (behaviour cloning, the DAgger-size network) saved as a .zip."""
    result = behaviour_cloning(
        CORRIDOR, 10, epochs=5, env_kwargs=LINE, ppo_kwargs=PPO_KWARGS, device="cpu"
    )
    return result.save(tmp_path_factory.mktemp("teacher") / "teacher.zip")


# ---------------------------------------------------------------------- the loss


def test_categorical_kl_matches_a_hand_computed_value() -> None:
    teacher, student = torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]])
    for temperature in (1.0, 2.0):
        p = [math.exp(z / temperature) for z in (2.0, 0.0, 0.0)]
        q = [math.exp(z / temperature) for z in (0.0, 1.0, 0.0)]
        p, q = [x / sum(p) for x in p], [x / sum(q) for x in q]
        expected = temperature**2 * sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))
        assert float(categorical_kl(teacher, student, temperature)) == pytest.approx(expected)
    # mean over rows; zero exactly when the student matches (up to a shift of logits)
    both = categorical_kl(teacher.repeat(2, 1), torch.cat([student, teacher + 5.0]), 1.0)
    assert float(both) == pytest.approx(float(categorical_kl(teacher, student, 1.0)) / 2)


def test_gaussian_kl_matches_a_hand_computed_value() -> None:
    # KL(N(0, 1) || N(1, 2**2)) = log 2 + (1 + 1) / 8 - 1/2, per dimension, summed
    zero, one = torch.zeros(1, 2), torch.ones(1, 2)
    expected = 2 * (math.log(2.0) + 2.0 / 8.0 - 0.5)
    assert float(gaussian_kl(zero, one, one, 2 * one, 1.0)) == pytest.approx(expected)
    # tempered by T: variances times T, the KL times T**2
    t = 3.0
    tempered = t**2 * 2 * (math.log(2.0) + (t + 1) / (2 * t * 4) - 0.5)
    assert float(gaussian_kl(zero, one, one, 2 * one, t)) == pytest.approx(tempered)


def test_temperature_changes_the_targets() -> None:
    """A softer teacher (higher T) spreads probability over the other actions, so a
    student that put all of it on the best action pays more."""
    teacher, sure = torch.tensor([[2.0, 1.0, -1.0]]), torch.tensor([[20.0, 0.0, 0.0]])
    entropies = []
    for temperature in (0.5, 1.0, 4.0):
        p = torch.softmax(teacher / temperature, dim=-1)
        entropies.append(float(-(p * p.log()).sum()))
    assert entropies[0] < entropies[1] < entropies[2]
    losses = [float(categorical_kl(teacher, sure, t)) / t**2 for t in (1.0, 4.0)]
    assert losses[1] != pytest.approx(losses[0])


def test_temperature_changes_the_student(pixel_teacher: Path) -> None:
    cold, hot = distil(pixel_teacher, temperature=1.0), distil(pixel_teacher, temperature=5.0)
    assert cold.config["temperature"] == 1.0 and hot.config["temperature"] == 5.0
    assert np.array_equal(cold.targets, hot.targets)  # same states, same teacher rows
    assert cold.losses != hot.losses
    a, b = cold.model.policy.state_dict(), hot.model.policy.state_dict()
    assert not all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------- teachers


def test_pixel_ppo_teacher_targets_are_its_logits(pixel_teacher: Path) -> None:
    teacher = load_teacher(pixel_teacher, device="cpu")
    assert teacher.kind == "categorical" and teacher.name == str(pixel_teacher)
    frames = collect_demos(CORRIDOR, 3, env_kwargs=LINE).observations
    rows = teacher.targets(frames)
    assert rows.shape == (len(frames), 4) and rows.dtype == np.float32
    predicted, _ = teacher.model.predict(frames, deterministic=True)
    assert np.array_equal(teacher.greedy(rows), predicted)
    policy = teacher.model.policy
    expected = sum(
        p.numel()
        for part in (policy.pi_features_extractor, policy.mlp_extractor.policy_net,
                     policy.action_net)
        for p in part.parameters()
    )  # fmt: skip
    assert teacher.parameters == expected < sum(p.numel() for p in policy.parameters())


def test_dqn_teacher_reads_q_values() -> None:
    model = DQN("MlpPolicy", gym.make(CORRIDOR, obs="coords", **LINE), seed=0, device="cpu")
    teacher = load_teacher(model)
    obs = np.array([[0, 1, 0, 3], [0, 5, 0, 3]])
    with torch.no_grad():
        q_values = model.q_net(torch.as_tensor(obs)).numpy()
    assert teacher.kind == "categorical"
    np.testing.assert_allclose(teacher.targets(obs), q_values, rtol=1e-6)
    assert acting_parameters(model) == sum(p.numel() for p in model.q_net.parameters())


def test_sac_teacher_mean_is_its_deterministic_action() -> None:
    env = gym.make("rlkit/ArmReach-v0", obs="dict", **ARM)
    model = SAC("MultiInputPolicy", env, seed=0, device="cpu", learning_starts=10)
    teacher = load_teacher(model)
    assert teacher.kind == "squashed_gaussian"
    obs = {k: np.stack([env.reset(seed=s)[0][k] for s in range(5)]) for k in env.observation_space}
    rows = teacher.targets(obs)
    action, _ = model.predict(obs, deterministic=True)
    assert rows.shape == (5, 4)
    np.testing.assert_allclose(rows[:, :2], action, atol=1e-6)
    # delta method: std = (1 - tanh(mu)**2) * sigma (the bounds are [-1, 1])
    policy: Any = model.policy
    with torch.no_grad():
        mean, log_std, _ = policy.actor.get_action_dist_params(policy.obs_to_tensor(obs)[0])
    expected = (1 - torch.tanh(mean) ** 2) * log_std.exp()
    np.testing.assert_allclose(rows[:, 2:], expected.clamp_min(1e-4).numpy(), rtol=1e-5)


def test_ppo_gaussian_teacher_and_continuous_student() -> None:
    env = gym.make("rlkit/ArmReach-v0", obs="dict", **ARM)
    teacher = load_teacher(PPO("MultiInputPolicy", env, seed=0, device="cpu", **PPO_KWARGS))
    assert teacher.kind == "gaussian"
    result = distil(teacher.model, "rlkit/ArmReach-v0", env_kwargs=ARM, student_size="tiny")
    assert result.config["teacher_env_kwargs"]["obs"] == "dict"  # inferred from its space
    assert isinstance(result.model.action_space, gym.spaces.Box)
    assert result.targets.shape == (len(result.demos), 4)
    assert result.losses[-1] < result.losses[0]


# ---------------------------------------------------------------------- the student


def test_student_of_a_deterministic_state_teacher_takes_its_actions(
    state_teacher: PPO, pixel_success_rate: Any
) -> None:
    """A pixel student of a teacher that reads coordinates: after distillation its
    greedy action is the teacher's in every state visited, and it reaches the goal."""
    result = distil(state_teacher, demos=20, iterations=2, rollouts_per_iteration=10,
                    epochs=15, learning_rate=3e-3, student_size="tiny")  # fmt: skip
    assert result.config["teacher_env_kwargs"] == {**LINE, "obs": "coords"}
    assert result.summary()["teacher_success_rate"] == 1.0
    actions, _ = result.model.predict(result.demos.observations, deterministic=True)
    assert np.array_equal(actions, result.demos.actions)
    assert pixel_success_rate(result.model, CORRIDOR, LINE) == 1.0


def test_small_student_has_a_quarter_of_the_parameters(pixel_teacher: Path) -> None:
    result = distil(pixel_teacher, student_size="small")
    summary = result.summary()
    assert summary["teacher_parameters"] == load_teacher(pixel_teacher).parameters
    assert summary["student_parameters"] == acting_parameters(result.model)
    assert summary["parameter_ratio"] <= 0.25
    same = distil(pixel_teacher, student_size="same")
    assert same.summary()["parameter_ratio"] == 1.0


def test_rounds_aggregate_teacher_labels(pixel_teacher: Path) -> None:
    result = distil(pixel_teacher, iterations=2, rollouts_per_iteration=3, beta_decay=0.0)
    assert result.method == "teacher" and result.betas == [1.0, 0.0, 0.0]
    assert len(result.dataset_sizes) == 3 and result.dataset_sizes[-1] == len(result.demos)
    assert result.demos.episode_seeds.tolist() == list(range(4 + 2 * 3))
    assert len(result.targets) == len(result.demos)
    teacher = load_teacher(pixel_teacher)
    np.testing.assert_allclose(
        teacher.targets(result.demos.observations), result.targets, rtol=1e-5, atol=1e-6
    )
    assert np.array_equal(teacher.greedy(result.targets), result.demos.actions)
    no_rounds = distil(pixel_teacher, iterations=0)
    assert no_rounds.betas == [1.0] and no_rounds.demos.num_episodes == 4


def test_same_seed_same_student(pixel_teacher: Path) -> None:
    first, second, other = (
        distil(pixel_teacher),
        distil(pixel_teacher),
        distil(pixel_teacher, seed=1),
    )
    a, b, c = (r.model.policy.state_dict() for r in (first, second, other))
    assert all(torch.equal(a[k], b[k]) for k in a) and first.losses == second.losses
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_save_load_and_evaluate(pixel_teacher: Path, tmp_path: Path) -> None:
    result = distil(pixel_teacher, temperature=2.0)
    path = result.save(tmp_path / "student")
    loaded = PPO.load(path, device="cpu")
    frames = result.demos.observations
    assert np.array_equal(
        loaded.predict(frames, deterministic=True)[0],
        result.model.predict(frames, deterministic=True)[0],
    )
    assert loaded.rlkit_distillation["temperature"] == 2.0
    assert loaded.rlkit_distillation["encoder"]["channels"] == [8, 16, 16]
    env = gym.make(CORRIDOR, obs="pixels", **LINE)
    assert env.action_space.contains(load_agent(path, env).act(env.reset(seed=0)[0]))


def test_paired_envs_that_diverge_raise() -> None:
    env = PairedEnv(CORRIDOR, {**LINE, "obs": "pixels"}, {**LINE, "obs": "coords", "max_steps": 2})
    env.reset(0)
    with pytest.raises(RuntimeError, match="diverged"):
        for _ in range(4):
            env.step(0)
    env.close()


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"temperature": 0.0}, ValueError, "temperature must be"),
        ({"student_size": "huge"}, ValueError, "student_size must be one of"),
        ({"finetune": "lora"}, ValueError, "student_size='same'"),
        ({"demos": 0}, ValueError, "demos must be a positive int"),
        ({"iterations": -1}, ValueError, "iterations must be"),
        ({"env_id": "rlkit/ArmReach-v0", "env_kwargs": ARM}, ValueError, "acts in"),
        ({"teacher_env_kwargs": {**LINE, "obs": "symbolic"}}, ValueError, "observes"),
    ],
)
def test_bad_arguments_name_the_argument(
    pixel_teacher: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        distil(pixel_teacher, **kwargs)


def test_bad_teachers_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"teacher .* does not exist"):
        distil(tmp_path / "missing.zip")
    (tmp_path / "notes.zip").write_text("not a model")
    with pytest.raises(ValueError, match="not a stable-baselines3 model"):
        distil(tmp_path / "notes.zip")
    with pytest.raises(TypeError, match="teacher must be a path"):
        distil(42)
    td3 = TD3("MultiInputPolicy", gym.make("rlkit/ArmReach-v0", obs="dict", **ARM), device="cpu")
    with pytest.raises(TypeError, match="no action distribution"):
        distil(td3, "rlkit/ArmReach-v0", env_kwargs=ARM)


# ---------------------------------------------------------------------- CLI


def test_cli_distils_a_teacher(rlkit_distill: Any, pixel_teacher: Path, tmp_path: Path) -> None:
    argv = [
        "distill", "--teacher", str(pixel_teacher), "--env", CORRIDOR,
        *[f"--env-kwarg={k}={v!r}" for k, v in LINE.items()],
        "--temperature", "3", "--student-size", "tiny", "--demos", "2", "--iterations", "1",
        "--rollouts", "2", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path),
        "--no-progress",
    ]  # fmt: skip
    status, line, _ = rlkit_distill(argv)
    assert status == 0
    assert line.startswith(f"distilled teacher {pixel_teacher} on {CORRIDOR} by teacher")
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["distillation"]["temperature"] == 3.0
    assert config["distillation"]["student_size"] == "tiny"
    assert config["result"]["parameter_ratio"] < 0.25
    assert config["command"].startswith("rlkit distill --teacher")
    env = gym.make(CORRIDOR, obs="pixels", **LINE)
    agent = load_agent(tmp_path / "model.zip", env)
    assert env.action_space.contains(agent.act(env.reset(seed=0)[0]))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--teacher", "missing.zip"], "does not exist"),
        (["--teacher", "TEACHER", "--teacher-env-kwarg", "obs=coords"], "observes"),
    ],
)
def test_cli_bad_teacher_is_one_line(
    rlkit_distill: Any, pixel_teacher: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    extra = [str(pixel_teacher) if e == "TEACHER" else e for e in extra]
    status, _, err = rlkit_distill(["distill", "--env", CORRIDOR, "--out", str(tmp_path), *extra])
    assert status == 2
    assert err.startswith("rlkit distill: error:") and message in err and "\n" not in err
    assert not (tmp_path / "model.zip").exists()
