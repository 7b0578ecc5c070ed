"""evaluate(): records, seeding, metrics on GridNav and toy-text envs, bad input."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from rlkit.agents import CallableAgent, PolicyAgent, RandomAgent
from rlkit.evaluation import EvalResult, evaluate, make_env, reset_seeds
from rlkit.evaluation.evaluate import STEP_CAP

CLIFF_ID = "CliffWalking-v1" if "CliffWalking-v1" in gym.registry else "CliffWalking-v0"


class Corridor(gym.Env[Any, Any]):
    """Walk right from cell 0 to cell ``n``; reports success, lengths and collisions.

    Action 1 moves right, action 0 left; moving left from cell 0 bumps the wall
    (``info["collision"]``). ``optimal_length`` is ``n``, ``path_length`` the cells walked.
    """

    def __init__(self, n: int = 4) -> None:
        self.n = n
        self.observation_space = gym.spaces.Discrete(n + 1)
        self.action_space = gym.spaces.Discrete(2)
        self.pos = 0
        self.walked = 0

    def _info(self, collision: bool = False) -> dict[str, Any]:
        return {
            "is_success": self.pos == self.n,
            "optimal_length": float(self.n),
            "path_length": float(self.walked),
            "collision": collision,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        self.pos = self.walked = 0
        return self.pos, self._info()

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        collision = action == 0 and self.pos == 0
        if not collision:
            self.pos += 1 if action == 1 else -1
            self.walked += 1
        done = self.pos == self.n
        return self.pos, float(done), done, False, self._info(collision)


def corridor(n: int) -> gym.Env[Any, Any]:
    """A :class:`Corridor` with a time limit, as ``gym.make`` would give."""
    return gym.wrappers.TimeLimit(Corridor(n), max_episode_steps=50)


@pytest.fixture(scope="module")
def gridnav_id() -> str:
    pytest.importorskip("envs", reason="GridNav (envs package) is not installed")
    return "rlkit/GridNav-v0"


def _without_wall_time(result: EvalResult) -> list[Any]:
    return [dataclasses.replace(r, wall_time_s=0.0) for r in result.records]


def test_planner_is_perfect_on_gridnav(gridnav_id: str) -> None:
    result = evaluate("planner", gridnav_id, episodes=5, seeds=3, progress_bar=False)
    summary = result.summary()
    assert summary["success"].mean == 1.0 and summary["success"].iqm_ci == (1.0, 1.0)
    assert summary["spl"].mean == 1.0 and summary["spl"].iqm == 1.0
    assert all(r.path_length == r.optimal_length for r in result.records)


@pytest.mark.parametrize("env_id", ["rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0"])
def test_planner_is_perfect_on_armreach(env_id: str) -> None:
    pytest.importorskip("envs", reason="ArmReach (envs package) is not installed")
    result = evaluate("planner", env_id, episodes=3, seeds=3, progress_bar=False)
    summary = result.summary()
    assert summary["success"].mean == 1.0
    # the arm follows a continuous path: its length matches the plan's up to float noise
    assert summary["spl"].mean == pytest.approx(1.0, abs=1e-9)
    assert all(r.spl == pytest.approx(1.0, abs=1e-9) for r in result.records)


def test_random_agent_on_gridnav_has_spl_below_one(gridnav_id: str) -> None:
    result = evaluate("random", gridnav_id, episodes=8, seeds=5, progress_bar=False)
    spl = result.summary()["spl"]
    assert spl.mean is not None and spl.mean < 1.0
    assert spl.mean_ci is not None and spl.mean_ci[0] < spl.mean_ci[1]
    assert spl.iqm_ci is not None and spl.iqm_ci[0] < spl.iqm_ci[1]


@pytest.mark.parametrize(
    ("agent", "env_id"),
    [("random", "FrozenLake-v1"), ("random", "gridnav"), ("planner", "gridnav")],
)
def test_same_seeds_give_same_records(agent: str, env_id: str, request: Any) -> None:
    if env_id == "gridnav":
        env_id = request.getfixturevalue("gridnav_id")
    runs = [evaluate(agent, env_id, episodes=4, seeds=[2, 9], progress_bar=False) for _ in range(2)]
    assert _without_wall_time(runs[0]) == _without_wall_time(runs[1])
    other = evaluate(agent, env_id, episodes=4, seeds=[3, 9], progress_bar=False)
    assert _without_wall_time(other)[4:] == _without_wall_time(runs[0])[4:]  # seed 9 alike
    assert [r.reset_seed for r in other.records[:4]] != [r.reset_seed for r in runs[0].records[:4]]


def test_the_same_random_agent_object_repeats_itself() -> None:
    agent = RandomAgent(gym.spaces.Discrete(4), seed=None)
    first, second = (
        evaluate(agent, "FrozenLake-v1", episodes=5, seeds=2, progress_bar=False) for _ in range(2)
    )
    assert _without_wall_time(first) == _without_wall_time(second)


def test_records_follow_the_seed_rule() -> None:
    result = evaluate("random", "FrozenLake-v1", episodes=3, seeds=[4, 1], progress_bar=False)
    assert [(r.seed, r.episode) for r in result.records] == [
        (s, e) for s in (4, 1) for e in range(3)
    ]
    assert [r.reset_seed for r in result.records] == [
        reset_seeds(s, e)[0] for s in (4, 1) for e in range(3)
    ]
    assert result.seeds == [4, 1] and result.tasks == ["FrozenLake-v1"]
    assert result.metadata["episodes_per_seed"] == 3 and result.metadata["seeds"] == [4, 1]


@pytest.mark.parametrize(("env_id", "kwargs"), [("FrozenLake-v1", {}), (CLIFF_ID, {})])
def test_toy_text_envs_without_success(env_id: str, kwargs: dict[str, Any]) -> None:
    result = evaluate(
        "random", env_id, episodes=3, seeds=2, max_steps=50, progress_bar=False, env_kwargs=kwargs
    )
    assert all(r.success is None and r.spl is None for r in result.records)
    summary = result.summary()
    assert summary["success"].note == "n/a (env gives no is_success)"
    assert not summary["spl"].available
    assert summary["return"].available
    assert "n/a (env gives no is_success)" in result.to_markdown()
    with pytest.raises(ValueError, match="'success' is n/a"):
        result.score_matrix("success")


def test_max_steps_truncates() -> None:
    result = evaluate(lambda obs: 0, CLIFF_ID, episodes=2, seeds=1, max_steps=5, progress_bar=False)
    assert all(r.length == 5 and r.truncated and not r.terminated for r in result.records)


class BumpThenRight:
    """Bumps the wall once (a collision, no move), then walks right."""

    name = "bumper"

    def reset(self) -> None:
        self.calls = 0

    def act(self, obs: int) -> int:
        self.calls += 1
        return 0 if self.calls == 1 else 1


def test_env_without_time_limit_gets_a_step_cap() -> None:
    # Walking into the west wall from the start never ends CliffWalking (no time limit).
    with pytest.warns(UserWarning, match=f"1 episode.* ran {STEP_CAP} steps without ending"):
        result = evaluate(lambda obs: 3, CLIFF_ID, episodes=1, seeds=1, progress_bar=False)
    assert result.records[0].length == STEP_CAP and result.records[0].truncated
    assert result.metadata["max_steps"] is None and result.metadata["step_cap"] == STEP_CAP


def test_corridor_metrics_by_hand() -> None:
    result = evaluate(BumpThenRight(), corridor(4), episodes=2, seeds=1, progress_bar=False)
    record = result.records[0]
    assert (record.success, record.optimal_length, record.path_length) == (True, 4.0, 4.0)
    assert (record.collisions, record.length, record.episode_return, record.spl) == (1, 5, 1.0, 1.0)

    # Left-right dithering first: walked 6 for an optimal 4 -> SPL 4/6.
    moves = iter([1, 0, 1, 1, 1, 1] * 2)
    dither = evaluate(lambda obs: next(moves), corridor(4), 2, 1, progress_bar=False)
    assert [r.spl for r in dither.records] == pytest.approx([4 / 6, 4 / 6])
    assert [r.collisions for r in dither.records] == [0, 0]


def test_user_env_is_used_as_given_and_left_open() -> None:
    env = gym.wrappers.TransformReward(
        gym.make("FrozenLake-v1", is_slippery=False), lambda r: 10 * float(r)
    )
    path = [2, 2, 1, 1, 1, 2]  # right, right, down, down, down, right: the goal
    moves = iter(path * 3)
    agent = CallableAgent(lambda obs: next(moves), name="scripted")
    result = evaluate(agent, env, episodes=3, seeds=1, progress_bar=False)
    assert [r.episode_return for r in result.records] == [10.0] * 3  # what the env returned
    assert result.metadata["env_source"] == "instance"
    assert result.metadata["env_wrappers"][0] == "TransformReward"
    assert result.agent == "scripted" and result.env_id == "FrozenLake-v1"
    env.reset()  # still open


def test_deterministic_reaches_policy_adapters() -> None:
    class Model:
        def __init__(self) -> None:
            self.seen: set[bool] = set()

        def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
            self.seen.add(deterministic)
            return 0, None

    model = Model()
    sampled = evaluate(
        PolicyAgent(model, deterministic=True),
        "FrozenLake-v1",
        1,
        1,
        deterministic=False,
        max_steps=3,
        progress_bar=False,
    )
    evaluate(model, "FrozenLake-v1", 1, 1, max_steps=3, progress_bar=False)
    assert model.seen == {False, True}
    assert sampled.metadata["deterministic"] is False
    assert "sampled actions" in sampled.to_markdown(n_resamples=10)
    random_run = evaluate("random", "FrozenLake-v1", 1, 1, progress_bar=False)
    assert random_run.metadata["deterministic"] is None  # no greedy/sampled choice


def test_score_matrix_is_runs_by_tasks() -> None:
    result = evaluate("random", "FrozenLake-v1", episodes=4, seeds=3, progress_bar=False)
    matrix = result.score_matrix("return")
    assert matrix.shape == (3, 1)
    per_seed = [
        np.mean([r.episode_return for r in result.records if r.seed == s]) for s in range(3)
    ]
    assert matrix[:, 0] == pytest.approx(per_seed)


def test_merge_seeds_and_tasks() -> None:
    a = evaluate("random", "FrozenLake-v1", episodes=2, seeds=[0, 1], progress_bar=False)
    b = evaluate("random", "FrozenLake-v1", episodes=2, seeds=[2], progress_bar=False)
    c = evaluate("random", "FrozenLake8x8-v1", episodes=2, seeds=[0, 1], progress_bar=False)
    assert EvalResult.merge([a, b]).score_matrix("return").shape == (3, 1)
    both = EvalResult.merge([a, c])
    assert both.score_matrix("length").shape == (2, 2) and both.tasks == [a.env_id, c.env_id]
    with pytest.raises(ValueError, match="repeat"):
        EvalResult.merge([a, a])
    with pytest.raises(ValueError, match="different agents"):
        EvalResult.merge([a, evaluate(lambda o: 0, "FrozenLake-v1", 1, 1, progress_bar=False)])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"episodes": 0}, "episodes must be a positive int, got 0"),
        ({"episodes": 2.5}, "episodes must be a positive int"),
        ({"seeds": 0}, "seeds .* must be a positive int"),
        ({"seeds": []}, "seeds is empty"),
        ({"seeds": [1, -2]}, "non-negative ints, got -2"),
        ({"seeds": [1, 1]}, "repeat"),
        ({"max_steps": 0}, "max_steps must be a positive int"),
    ],
)
def test_bad_counts(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate("random", "FrozenLake-v1", **{"progress_bar": False, **kwargs})


@pytest.mark.parametrize(
    ("env_id", "match"),
    [
        ("FrozenLake-v2", r"unknown env id 'FrozenLake-v2'; did you mean 'FrozenLake-v1'"),
        ("frozenlake-v1", r"did you mean 'FrozenLake-v1'"),
        ("NoSuchThing-v0", r"unknown env id 'NoSuchThing-v0' \(ids are"),
    ],
)
def test_unknown_env_id(env_id: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate("random", env_id, progress_bar=False)
    with pytest.raises(ValueError, match=match):
        make_env(env_id)


def test_unknown_gridnav_id_suggests_registered_one(gridnav_id: str) -> None:
    with pytest.raises(ValueError, match="did you mean 'rlkit/GridNav-v0'"):
        make_env("rlkit/GridNav-v9")


@pytest.mark.parametrize("bad_action", [7, -1, np.array([1]), "left"])
def test_action_outside_space(bad_action: Any) -> None:
    steps = iter([1, 1, bad_action])  # two legal moves, then the bad one
    agent = CallableAgent(lambda obs: next(steps), name="clumsy")
    with pytest.raises(
        ValueError, match=r"'clumsy' returned the action .* at episode 0 of seed 3, step 2"
    ) as info:
        evaluate(agent, corridor(9), episodes=1, seeds=[3], progress_bar=False)
    assert repr(bad_action) in str(info.value) and "Discrete(2)" in str(info.value)


def test_env_kwargs_only_with_an_id() -> None:
    with pytest.raises(ValueError, match="env_kwargs only apply to an env id"):
        evaluate("random", Corridor(), env_kwargs={"n": 3}, progress_bar=False)


def test_importing_the_harness_stays_light() -> None:
    # The CLI imports it for every command: no torch, matplotlib or imageio until used.
    code = (
        "import sys, rlkit.agents, rlkit.evaluation, rlkit.evaluation.cli;"
        "print(sorted(m for m in ('torch', 'stable_baselines3', 'matplotlib', 'imageio')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
