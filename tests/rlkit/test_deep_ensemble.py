"""Deep ensembles (rlkit.deep.ensemble, rlkit.deep.ensemble_training).

Hand-made members check the arithmetic (mean probabilities, disagreement, actions);
tiny students on an empty 5x5 GridNav check the SB3 side: evaluate(), save and load,
and the training by seeds and by bagging, in seconds on one CPU thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import pytest
import torch
from numpy.typing import NDArray

from rlkit.agents import SB3Agent
from rlkit.deep.distill import behaviour_cloning, collect_demos
from rlkit.deep.ensemble import MANIFEST, PolicyEnsemble, mutual_information
from rlkit.deep.ensemble_training import (
    EnsembleResult,
    bootstrap_demos,
    clone_demos,
    member_seed,
    train_ensemble,
)
from rlkit.evaluation import evaluate

GRID = "rlkit/GridNav-v0"
#: 25 cells, no walls, 12 steps (as tests/rlkit/test_deep_distill.py).
SMALL: dict[str, Any] = {"layout": "empty", "size": 5, "max_steps": 12}
PPO_KWARGS = {"n_steps": 16, "batch_size": 16}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Table:
    """A hand-made Discrete member: action probabilities by observation (an int)."""

    def __init__(self, *rows: list[float]) -> None:
        self.rows = np.array(rows, dtype=np.float64)
        self.action_space = gym.spaces.Discrete(self.rows.shape[1])

    def action_probabilities(self, obs: int) -> NDArray[np.float64]:
        return self.rows[obs]


class Constant:
    """A hand-made Box member: the same action in every state."""

    action_space = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)

    def __init__(self, action: list[float]) -> None:
        self.action = np.array(action, dtype=np.float32)

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[Any, None]:
        return self.action, None


# ------------------------------------------------------------------ hand-made members


def H(p: float) -> float:
    """Entropy (nats) of the two-action distribution ``[p, 1 - p]``."""
    return float(-p * np.log(p) - (1 - p) * np.log(1 - p))


def test_actions_come_from_the_mean_probabilities_not_a_vote() -> None:
    # Two members lean to action 0, one is sure of action 1: a vote says 0, the mean
    # probabilities [0.4, 0.6] say 1.
    leaning = Table([0.6, 0.4], [1.0, 0.0])
    members = [leaning, leaning, Table([0.0, 1.0], [0.0, 1.0])]
    ensemble = PolicyEnsemble(members)
    assert np.allclose(ensemble.action_probabilities(0), [[0.6, 0.4], [0.6, 0.4], [0.0, 1.0]])
    assert ensemble.act(0) == 1
    assert np.allclose(ensemble.last_info["probabilities"], [0.4, 0.6])
    assert ensemble.last_info["member_actions"] == [0, 0, 1]
    assert ensemble.act(1) == 0  # mean [2/3, 1/3]
    assert ensemble.predict(0)[0] == 1


def test_sampled_actions_follow_the_mean_and_the_seed() -> None:
    ensemble = PolicyEnsemble([Table([0.8, 0.2, 0.0]), Table([0.2, 0.4, 0.4])], deterministic=False)
    ensemble.seed(3)
    draws = [ensemble.act(0) for _ in range(4000)]
    assert np.allclose(np.bincount(draws, minlength=3) / 4000, [0.5, 0.3, 0.2], atol=0.03)
    ensemble.seed(3)
    assert [ensemble.act(0) for _ in range(50)] == draws[:50]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[0.7, 0.3], [0.7, 0.3], [0.7, 0.3]], 0.0),  # identical members: no disagreement
        ([[1.0, 0.0], [0.0, 1.0]], np.log(2)),  # sure of different actions: log K
        ([[0.5, 0.5], [0.5, 0.5]], 0.0),  # unsure alike: aleatoric, not epistemic
        ([[0.9, 0.1], [0.3, 0.7]], H(0.6) - (H(0.9) + H(0.3)) / 2),
    ],
)
def test_disagreement_is_the_mutual_information(rows: list[list[float]], expected: float) -> None:
    ensemble = PolicyEnsemble([Table(row) for row in rows])
    ensemble.act(0)
    assert ensemble.last_info["disagreement"] == pytest.approx(expected, abs=1e-4)
    assert mutual_information(rows) == pytest.approx(expected, abs=1e-4)


def test_mutual_information_is_bounded_by_log_k() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        p = rng.dirichlet(np.ones(4), size=3)
        assert 0.0 <= mutual_information(p) <= np.log(3) + 1e-12
    with pytest.raises(ValueError, match="members, actions"):
        mutual_information([0.5, 0.5])


def test_box_members_act_by_their_mean_and_disagree_by_their_spread() -> None:
    same = PolicyEnsemble([Constant([0.5, -0.5])] * 3)
    assert np.allclose(same.act(None), [0.5, -0.5]) and same.last_info["disagreement"] == 0.0
    apart = PolicyEnsemble([Constant([1.0, 0.0]), Constant([0.0, 0.0])])
    assert np.allclose(apart.act(None), [0.5, 0.0])
    assert apart.last_info["disagreement"] == pytest.approx(0.25)  # stds 0.5 and 0
    with pytest.raises(TypeError, match="not Discrete"):
        apart.action_probabilities(None)


def test_the_log_keeps_each_episodes_mean_and_maximum() -> None:
    ensemble = PolicyEnsemble([Table([1.0, 0.0], [0.5, 0.5]), Table([0.0, 1.0], [0.5, 0.5])])
    ensemble.reset()
    ensemble.act(0)  # log 2
    ensemble.act(1)  # 0
    ensemble.reset()
    ensemble.act(1)
    assert ensemble.log.steps == [2, 1]
    assert np.allclose(ensemble.log.means, [np.log(2) / 2, 0.0])
    assert np.allclose(ensemble.log.maxima, [np.log(2), 0.0])
    means = ensemble.log.means
    ensemble.log.clear()
    assert means == [] and ensemble.log.means is means  # cleared in place


@pytest.mark.parametrize(
    ("members", "error", "message"),
    [
        ([], ValueError, "members is empty"),
        ([Table([1.0, 0.0]), Table([0.2, 0.3, 0.5])], ValueError, "different action spaces"),
        ([object()], TypeError, "needs an action_space"),
    ],
)
def test_bad_members_are_refused(members: list[Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        PolicyEnsemble(members)


def test_hand_made_members_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="only SB3 models"):
        PolicyEnsemble([Table([1.0, 0.0])]).save(tmp_path)


# ---------------------------------------------------------------- students (SB3)


@pytest.fixture(scope="module")
def trained() -> EnsembleResult:
    return train_ensemble(
        GRID, 3, demos=4, epochs=3, env_kwargs=SMALL, ppo_kwargs=PPO_KWARGS, mode="bagging"
    )


def observations(count: int = 12) -> list[NDArray[np.uint8]]:
    env = gym.make(GRID, obs="pixels", **SMALL)
    frames = [env.reset(seed=100 + i)[0] for i in range(count)]
    env.close()
    return frames


def test_one_student_ensemble_acts_like_the_student(trained: EnsembleResult) -> None:
    model = trained.members[0].model
    single, agent = PolicyEnsemble([model]), SB3Agent(model)
    for obs in observations():
        assert single.act(obs) == int(agent.act(obs))
        assert single.last_info["disagreement"] == 0.0
        assert np.isclose(sum(single.last_info["probabilities"]), 1.0)


def test_evaluate_runs_the_ensemble_and_its_log_follows_the_records(
    trained: EnsembleResult,
) -> None:
    ensemble = trained.ensemble
    ensemble.log.clear()
    result = evaluate(ensemble, GRID, episodes=3, seeds=2, env_kwargs={"obs": "pixels", **SMALL},
                      progress_bar=False)  # fmt: skip
    assert len(result.records) == 6 and result.metadata["agent_type"] == "PolicyEnsemble"
    assert result.metadata["deterministic"] is True
    assert ensemble.log.steps == [r.length for r in result.records]
    assert all(
        0.0 <= m <= x <= np.log(3)
        for m, x in zip(ensemble.log.means, ensemble.log.maxima, strict=True)
    )
    # Sampled actions: evaluate's own copy of the agent fills the same log.
    evaluate(ensemble, GRID, episodes=2, seeds=1, env_kwargs={"obs": "pixels", **SMALL},
             deterministic=False, progress_bar=False)  # fmt: skip
    assert len(ensemble.log.means) == 8


def test_save_and_load_give_the_same_actions(trained: EnsembleResult, tmp_path: Path) -> None:
    manifest = trained.save(tmp_path / "ensemble")
    assert manifest.name == MANIFEST
    assert sorted(p.name for p in manifest.parent.iterdir()) == [
        MANIFEST, "member_00.zip", "member_01.zip", "member_02.zip"]  # fmt: skip
    loaded = PolicyEnsemble.load(manifest.parent, device="cpu")
    for obs in observations():
        assert np.array_equal(
            loaded.action_probabilities(obs), trained.ensemble.action_probabilities(obs)
        )
        assert loaded.act(obs) == trained.ensemble.act(obs)
    with pytest.raises(FileNotFoundError, match="not a saved ensemble"):
        PolicyEnsemble.load(tmp_path)


def test_bc_members_reuse_behaviour_cloning_exactly() -> None:
    # Member 0 of a seeds-mode ensemble is behaviour_cloning with the same seed.
    options: dict[str, Any] = {"epochs": 2, "env_kwargs": SMALL, "ppo_kwargs": PPO_KWARGS}
    reference = behaviour_cloning(GRID, 3, seed=5, **options)
    demos = collect_demos(GRID, 3, seed=5, env_kwargs=SMALL)
    cloned = clone_demos(GRID, demos, seed=5, **options)
    assert cloned.losses == reference.losses and cloned.updates == reference.updates
    for a, b in zip(
        reference.model.policy.parameters(), cloned.model.policy.parameters(), strict=True
    ):
        assert torch.equal(a, b)
    with pytest.raises(TypeError, match="unknown option 'iterations'"):
        clone_demos(GRID, demos, iterations=2)


def test_bootstrap_resamples_whole_episodes() -> None:
    demos = collect_demos(GRID, 6, env_kwargs=SMALL)
    sample = bootstrap_demos(demos, np.random.default_rng(1))
    again = bootstrap_demos(demos, np.random.default_rng(1))
    assert sample.num_episodes == 6 and np.array_equal(sample.actions, again.actions)
    assert len(set(sample.episode_seeds.tolist())) < 6  # drawn with replacement
    for episode, seed in enumerate(sample.episode_seeds):
        source = int(np.flatnonzero(demos.episode_seeds == seed)[0])
        rows, original = sample.episode_ids == episode, demos.episode_ids == source
        assert np.array_equal(sample.actions[rows], demos.actions[original])
        assert np.array_equal(sample.observations[rows], demos.observations[original])


@pytest.mark.parametrize("mode", ["seeds", "bagging"])
def test_members_differ_by_seed_and_by_resample(mode: Literal["seeds", "bagging"]) -> None:
    result = train_ensemble(GRID, 2, mode=mode, demos=5, epochs=1, seed=2, env_kwargs=SMALL,
                            ppo_kwargs=PPO_KWARGS)  # fmt: skip
    first, second = result.members
    assert [m.config["seed"] for m in result.members] == [member_seed(2, 0), member_seed(2, 1)]
    same_rows = np.array_equal(first.demos.actions, second.demos.actions) and np.array_equal(
        first.demos.episode_seeds, second.demos.episode_seeds
    )
    assert same_rows == (mode == "seeds")
    weights = zip(first.model.policy.parameters(), second.model.policy.parameters(), strict=True)
    assert not all(torch.equal(a, b) for a, b in weights)
    summary = result.summary()
    assert summary["mode"] == mode and len(summary["member_training"]) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": 0}, "members must be a positive int"),
        ({"method": "ppo"}, "method must be 'bc' or 'dagger'"),
        ({"mode": "boosting"}, "mode must be 'seeds' or 'bagging'"),
        ({"method": "dagger", "mode": "bagging"}, "use mode='seeds'"),
    ],
)
def test_train_ensemble_refuses_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_ensemble(GRID, **{"env_kwargs": SMALL, **kwargs})
