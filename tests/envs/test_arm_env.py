"""ArmReach episodes: the planner's expert, seeding, collisions, rewards and HER."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from envs.arm import ArmReachEnv, FixedObstacles, RandomObstacles, register_arm_envs
from planners import Box, Circle

register_arm_envs()

EXPERT_SEEDS = range(6)


def _run_expert(env: gym.Env[Any, Any], seed: int) -> tuple[int, dict[str, Any], bool]:
    """Follow ``expert_action`` from ``reset(seed)``; (steps, last info, terminated)."""
    env.reset(seed=seed)
    for t in range(1, 10_000):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())  # type: ignore[attr-defined]
        if terminated or truncated:
            return t, info, terminated
    raise AssertionError("unreachable: max_steps truncates")


@pytest.mark.parametrize(
    ("env_id", "n_links"),
    [
        ("rlkit/ArmReach-v0", 1),
        ("rlkit/ArmReach-v0", 2),
        ("rlkit/ArmReach-v0", 4),
        ("rlkit/ArmReachObstacles-v0", 1),
        ("rlkit/ArmReachObstacles-v0", 2),  # 3 links: the slow test below
    ],
)
def test_continuous_expert_reaches_goal_never_longer_than_the_plan(
    env_id: str, n_links: int
) -> None:
    env = gym.make(env_id, n_links=n_links)
    for seed in EXPERT_SEEDS:
        _, info, terminated = _run_expert(env, seed)
        assert terminated and info["is_success"] and not info["collision"]
        # chords of the planned path, stopping up to success_radius short of the goal
        assert info["path_length"] <= info["optimal_length"] * (1 + 1e-6)


@pytest.mark.parametrize("env_id", ["rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0"])
def test_continuous_expert_path_length_within_10_percent_of_optimal(env_id: str) -> None:
    # a tiny success radius makes the expert walk the whole path: shortcuts of the
    # planner's grid path (chords within one step) are the only difference
    env = gym.make(env_id, success_radius=1e-4)
    for seed in EXPERT_SEEDS:
        _, info, terminated = _run_expert(env, seed)
        assert terminated
        assert 0.9 * info["optimal_length"] <= info["path_length"]
        assert info["path_length"] <= info["optimal_length"] * (1 + 1e-6)


@pytest.mark.parametrize("n_links", [1, 2, 3])
def test_discrete_expert_reaches_goal_within_staircase_tolerance(n_links: int) -> None:
    env = gym.make("rlkit/ArmReach-v0", n_links=n_links, discrete=True)
    step = env.unwrapped.config.discrete_step  # type: ignore[attr-defined]
    for seed in EXPERT_SEEDS:
        _, info, terminated = _run_expert(env, seed)
        assert terminated and info["is_success"]
        # a lattice staircase along each straight segment: <= 8.3% longer, plus rounding
        slack = 1.1 * info["optimal_length"] + 2 * step * math.sqrt(n_links)
        assert info["path_length"] <= slack


def test_discrete_expert_reaches_goal_among_obstacles() -> None:
    env = gym.make("rlkit/ArmReachObstacles-v0", discrete=True)
    for seed in EXPERT_SEEDS:
        _, info, terminated = _run_expert(env, seed)
        assert terminated and info["is_success"]


@pytest.mark.slow
@pytest.mark.parametrize("discrete", [False, True])
def test_expert_reaches_goal_among_many_obstacles(discrete: bool) -> None:
    env = gym.make("rlkit/ArmReachObstacles-v0", n_obstacles=5, discrete=discrete)
    for seed in range(60):
        _, info, terminated = _run_expert(env, 1000 + seed)
        assert terminated, (seed, info)


@pytest.mark.slow
def test_expert_reaches_goal_three_links_among_obstacles() -> None:
    env = gym.make("rlkit/ArmReachObstacles-v0", n_links=3)
    for seed in range(4):
        _, info, terminated = _run_expert(env, seed)
        assert terminated and info["path_length"] <= info["optimal_length"] * (1 + 1e-6)


def test_expert_replans_after_other_actions() -> None:
    env = gym.make("rlkit/ArmReachObstacles-v0", max_steps=400)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(15):  # wander off the planned path
        env.step(rng.uniform(-1, 1, 2).astype(np.float32))
    for _ in range(385):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())  # type: ignore[attr-defined]
        if terminated or truncated:
            break
    assert terminated and info["is_success"]


@pytest.mark.parametrize(
    "kwargs",
    [{"n_obstacles": 3}, {}, {"joint_limits": [(-1.0, 2.5), (-2.0, 2.0)]}, {"n_links": 1}],
)
def test_reset_draws_a_valid_solvable_episode_with_the_planners_length(
    kwargs: dict[str, Any],
) -> None:
    env = ArmReachEnv(**kwargs)
    for seed in range(4):
        _, info = env.reset(seed=seed)
        arm = env.arm
        assert not arm.in_collision(env.q)
        assert np.hypot(*(arm.end_effector(env.q) - env.goal)) > env.config.success_radius
        plan = arm.plan(env.q, env.goal, goal_kind="xy")  # the single source of truth
        assert info["optimal_length"] == plan.cost == env.plan.cost
        assert info["path_length"] == 0.0 and not info["is_success"] and not info["collision"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"n_obstacles": 3},
        {"n_links": 3, "goal": (0.2, 0.5)},
        {"start": [0.5, -0.5], "joint_limits": [(-1.0, 2.5), None]},
    ],
)
def test_episodes_drawn_together_equal_episodes_drawn_alone(kwargs: dict[str, Any]) -> None:
    # the vector env draws its resets in one batch, the single env one at a time
    sampler = ArmReachEnv(**kwargs).config.sampler
    together = sampler.sample_many([np.random.default_rng(seed) for seed in range(12)])
    for seed, episode in enumerate(together):
        alone = sampler.sample(np.random.default_rng(seed))
        assert episode.arm.obstacles == alone.arm.obstacles
        np.testing.assert_array_equal(episode.start, alone.start)
        np.testing.assert_array_equal(episode.goal, alone.goal)
        np.testing.assert_array_equal(episode.plan.path, alone.plan.path)
        assert episode.optimal_length == alone.optimal_length
        assert not (episode.start.flags.writeable or episode.goal.flags.writeable)


def test_observations_describe_the_arm_goal_and_obstacles() -> None:
    obstacles = [Circle((0.6, 0.6), 0.1), Box((-0.7, -0.2), (-0.5, 0.2))]
    env = ArmReachEnv(obs="dict", obstacles=obstacles)
    obs, _ = env.reset(seed=0)
    q = env.q
    ee = env.arm.end_effector(q)
    np.testing.assert_allclose(
        obs["observation"][:6], np.concatenate([np.cos(q), np.sin(q), [0, 0]])
    )
    np.testing.assert_array_equal(obs["observation"][6:8], ee)
    np.testing.assert_allclose(
        obs["observation"][8:], [1, 0.6, 0.6, 0.1, 0.1, -1, -0.6, 0.0, 0.1, 0.2]
    )
    np.testing.assert_array_equal(obs["achieved_goal"], ee)
    np.testing.assert_array_equal(obs["desired_goal"], env.goal)
    obs, *_ = env.step(np.array([0.5, -1.0], dtype=np.float32))
    np.testing.assert_allclose(obs["observation"][4:6], [0.5, -1.0])  # the last joint change
    flat = ArmReachEnv(obs="flat", obstacles=obstacles)
    flat_obs, _ = flat.reset(seed=0)
    np.testing.assert_array_equal(
        flat_obs[:-2], ArmReachEnv(obs="dict", obstacles=obstacles).reset(seed=0)[0]["observation"]
    )
    np.testing.assert_array_equal(flat_obs[-2:], flat.goal)


def test_same_seed_same_episodes_and_trajectories() -> None:
    a, b = ArmReachEnv(n_obstacles=3), ArmReachEnv(n_obstacles=3)
    actions = np.random.default_rng(1).uniform(-1, 1, (30, 2)).astype(np.float32)
    for seed in (0, 7):
        assert data_equivalence(a.reset(seed=seed), b.reset(seed=seed), exact=True)
        for action in actions:
            assert data_equivalence(a.step(action), b.step(action), exact=True)
    assert a.arm.obstacles == b.arm.obstacles
    obs_other, _ = b.reset(seed=8)
    assert not np.array_equal(a.reset(seed=7)[0], obs_other)


@pytest.fixture
def blocked_env() -> ArmReachEnv:
    """A 2-link arm stretched along +x, a box just above its tip."""
    env = ArmReachEnv(
        link_lengths=[0.5, 0.5],
        obstacles=[Box((0.7, 0.05), (1.2, 0.3))],
        start=[0.0, 0.0],
        goal=(0.0, 0.8),
    )
    env.reset(seed=0)
    return env


def test_moves_into_obstacles_are_refused(blocked_env: ArmReachEnv) -> None:
    q0 = blocked_env.q
    obs, reward, _, _, info = blocked_env.step(np.array([1.0, 0.0], dtype=np.float32))
    assert info["collision"] and info["path_length"] == 0.0 and reward == -1.0
    np.testing.assert_array_equal(blocked_env.q, q0)
    np.testing.assert_array_equal(obs[4:6], [0.0, 0.0])  # no joint change
    _, _, _, _, info = blocked_env.step(np.array([-1.0, 0.0], dtype=np.float32))  # away
    assert not info["collision"] and info["path_length"] == pytest.approx(0.1)
    np.testing.assert_allclose(blocked_env.q, q0 + np.array([-0.1, 0.0]))


def test_joint_limits_refuse_moves_past_them() -> None:
    env = ArmReachEnv(joint_limits=[(-0.05, 2.0), None], start=[0.0, 0.0])
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([-1.0, -1.0], dtype=np.float32))
    assert info["collision"]
    np.testing.assert_array_equal(env.q, [0.0, 0.0])


def test_continuous_joints_wrap_round() -> None:
    env = ArmReachEnv(start=[math.pi - 0.05, 0.0])
    env.reset(seed=0)
    env.step(np.array([1.0, 0.0], dtype=np.float32))
    assert env.q[0] == pytest.approx(-math.pi + 0.05)
    assert env.step(np.zeros(2, dtype=np.float32))[4]["path_length"] == pytest.approx(0.1)


@pytest.mark.parametrize("reward_type", ["sparse", "dense"])
def test_compute_reward_batched_equals_per_sample_and_step_reward(reward_type: str) -> None:
    env = ArmReachEnv(obs="dict", reward_type=reward_type)
    rng = np.random.default_rng(0)
    achieved, desired = rng.uniform(-1, 1, (2, 64, 2))
    desired[:8] = achieved[:8] + 0.01  # some within the success radius
    batched = env.compute_reward(achieved, desired, [{}] * 64)
    single = [env.compute_reward(a, d, {}) for a, d in zip(achieved, desired, strict=True)]
    assert batched.shape == (64,) and batched.dtype == np.float64
    np.testing.assert_array_equal(batched, single)
    done = env.compute_terminated(achieved, desired, {})
    np.testing.assert_array_equal(done, np.hypot(*(achieved - desired).T) <= 0.05)
    assert not env.compute_truncated(achieved, desired, {}).any()
    assert env.compute_truncated(achieved, desired, {}).shape == (64,)
    if reward_type == "sparse":
        assert set(batched.tolist()) == {-1.0, 0.0} and (batched[:8] == 0.0).all()
    else:
        np.testing.assert_allclose(batched, -np.hypot(*(achieved - desired).T))
    env.reset(seed=0)
    for _ in range(5):
        obs, reward, *_, info = env.step(env.expert_action())
        assert reward == env.compute_reward(obs["achieved_goal"], obs["desired_goal"], info)


def test_success_without_termination_and_truncation_at_max_steps() -> None:
    env = ArmReachEnv(terminate_on_success=False, max_steps=60)
    env.reset(seed=1)
    rewards, successes = [], []
    for t in range(60):
        _, reward, terminated, truncated, info = env.step(env.expert_action())
        assert not terminated
        assert truncated == (t == 59)
        rewards.append(reward)
        successes.append(info["is_success"])
    assert successes[-1] and rewards[-1] == 0.0
    assert all(r == (0.0 if s else -1.0) for r, s in zip(rewards, successes, strict=True))


def test_obstacle_layouts() -> None:
    rng = np.random.default_rng(0)
    layout = RandomObstacles(4, distance=(0.5, 0.6), size=(0.05, 0.05))
    obstacles = layout.sample(rng, reach=2.0)
    assert len(obstacles) == 4 and layout.bound(2.0) == pytest.approx(1.2)
    for obs in obstacles:
        centre = obs.center if isinstance(obs, Circle) else np.add(obs.lo, obs.hi) / 2
        assert 1.0 <= np.hypot(*centre) <= 1.2
    env = ArmReachEnv(obstacles=layout)
    assert env.observation_space.shape == (30,)
    assert FixedObstacles().sample(rng, 1.0) == ()
    with pytest.raises(ValueError, match="count"):
        RandomObstacles(0)


def test_sac_with_her_trains_on_dict_observations(request: pytest.FixtureRequest) -> None:
    torch = pytest.importorskip("torch")
    sb3 = pytest.importorskip("stable_baselines3")
    from stable_baselines3 import HerReplayBuffer
    from stable_baselines3.common.logger import Logger

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: extra threads only contend on shared CPUs
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    env = gym.make("rlkit/ArmReach-v0", obs="dict", max_steps=50)
    model = sb3.SAC(
        "MultiInputPolicy",
        env,
        replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs={"n_sampled_goal": 4, "goal_selection_strategy": "future"},
        learning_starts=100,
        batch_size=32,
        buffer_size=2_000,
        policy_kwargs={"net_arch": [32, 32]},
        device="cpu",
        seed=0,
    )
    model.set_logger(Logger(None, []))  # SB3's default logger makes a /tmp/SB3-<time> folder
    model.learn(total_timesteps=300)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(action)
