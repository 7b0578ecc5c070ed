"""Transfer across tasks: exporting a policy's backbone, init_from, fine_tune
(rlkit.deep.transfer, rlkit.deep.transfer_training).

Tiny envs (empty 5x5 GridNav, short arm episodes), one or two epochs: seconds on one
CPU thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from rlkit.backbones import load_backbone
from rlkit.deep.distill import DistillResult, behaviour_cloning, dagger
from rlkit.deep.policies import backbone_extractors
from rlkit.deep.student import DistillOptions, make_student
from rlkit.deep.transfer import export_backbone, init_from, load_source, source_encoder
from rlkit.deep.transfer_training import _DEFAULTS, fine_tune

GRID = "rlkit/GridNav-v0"
SMALL = {"layout": "empty", "size": 5, "max_steps": 12}
ROOMS = {"layout": "rooms", "size": 5, "max_steps": 12}
ARM = "rlkit/ArmReach-v0"
ARM_SHORT = {"max_steps": 15}
PPO_KWARGS = {"n_steps": 16, "batch_size": 16}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def bc(env_id: str = GRID, demos: int = 2, **kwargs: Any) -> DistillResult:
    options: dict[str, Any] = {"epochs": 2, "env_kwargs": SMALL, "ppo_kwargs": PPO_KWARGS}
    return behaviour_cloning(env_id, demos, **{**options, **kwargs})


@pytest.fixture(scope="module")
def source() -> DistillResult:
    """A trained pixel policy on the tiny GridNav: the source task."""
    return bc(demos=4, epochs=3)


@pytest.fixture(scope="module")
def arm_source() -> DistillResult:
    """A 2-link arm policy (Box(2) actions)."""
    return bc(ARM, 1, epochs=1, env_kwargs=ARM_SHORT)


def student(env_id: str, env_kwargs: dict[str, Any], **options: Any) -> PPO:
    """An untrained student (seed 7: other weights than any source here)."""
    arguments = {**_DEFAULTS, "seed": 7, "device": "cpu", "env_kwargs": env_kwargs,
                 "ppo_kwargs": PPO_KWARGS, **options}  # fmt: skip
    return make_student(env_id, DistillOptions.of(arguments))


def frames(result: DistillResult) -> np.ndarray:
    observations = result.demos.observations
    assert isinstance(observations, np.ndarray)
    return observations


def probabilities(model: PPO, obs: np.ndarray) -> torch.Tensor:
    tensor, _ = model.policy.obs_to_tensor(obs)
    with torch.no_grad():
        distribution = model.policy.get_distribution(tensor).distribution
    assert isinstance(distribution, torch.distributions.Categorical)
    return distribution.probs


# ---------------------------------------------------------------------- export_backbone


@pytest.mark.parametrize("finetune", ["full", "lora"])
def test_exported_backbone_gives_the_policy_encoder_features(tmp_path: Path, finetune: str) -> None:
    model = bc(finetune=finetune, epochs=1).model
    (extractor,) = backbone_extractors(model.policy)[:1]
    if finetune == "lora":  # as if training had moved the adapters: folding must count
        for name, parameter in extractor.backbone.named_parameters():
            if name.endswith("lora_b.weight"):
                torch.nn.init.normal_(parameter, std=0.05)
    card = export_backbone(model, tmp_path / "source.pt")
    loaded = load_backbone(tmp_path / "source.pt")  # torch.load(weights_only=True), sha256
    batch = torch.as_tensor(frames(bc(demos=1, epochs=1)).transpose(0, 3, 1, 2)).float()
    with torch.no_grad():
        expected = extractor.backbone.eval()(batch)
        actual = loaded(batch)
    assert torch.allclose(actual, expected, atol=1e-5)
    assert card["transfer"]["source_env"] == GRID
    assert card["transfer"]["source_method"] == "bc"


def test_behaviour_cloning_and_the_extractor_accept_the_exported_file(
    tmp_path: Path, source: DistillResult
) -> None:
    path = tmp_path / "source.pt"
    export_backbone(source.model, path)
    # frozen: the student's backbone keeps the exported weights bit for bit
    result = bc(demos=1, epochs=1, backbone=path, finetune="frozen", env_kwargs=ROOMS)
    exported = source_encoder(source.model).state_dict()
    (extractor,) = backbone_extractors(result.model.policy)[:1]
    assert all(torch.equal(v, exported[k]) for k, v in extractor.backbone.state_dict().items())


def test_export_refuses_a_policy_without_backbone(tmp_path: Path) -> None:
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16)
    with pytest.raises(TypeError, match="has no BackboneExtractor"):
        export_backbone(model, tmp_path / "cartpole.pt")


def test_load_source_bad_input(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_source(tmp_path / "missing.zip")
    with pytest.raises(TypeError, match="stable-baselines3 model or the path"):
        load_source(42)


# ---------------------------------------------------------------------- init_from


@pytest.mark.parametrize("finetune", ["full", "frozen", "lora"])
def test_init_from_makes_the_student_act_as_the_source(
    source: DistillResult, finetune: str
) -> None:
    fresh = student(GRID, ROOMS, finetune=finetune)
    obs = frames(source)
    before = probabilities(fresh, obs)
    assert not torch.allclose(before, probabilities(source.model, obs))
    carried = init_from(fresh, source.model, strict=True)
    assert carried.skipped == {} and carried.backbone_missing == []
    assert torch.allclose(probabilities(fresh, obs), probabilities(source.model, obs), atol=1e-6)
    expected, _ = source.model.predict(obs, deterministic=True)
    actual, _ = fresh.predict(obs, deterministic=True)
    assert np.array_equal(actual, expected)


def test_init_from_a_saved_zip(tmp_path: Path, source: DistillResult) -> None:
    path = source.save(tmp_path / "source")
    fresh = student(GRID, ROOMS)
    init_from(fresh, path)
    obs = frames(source)
    assert np.array_equal(
        fresh.predict(obs, deterministic=True)[0], source.model.predict(obs, deterministic=True)[0]
    )


def test_two_to_three_links_carries_all_but_the_action_head(arm_source: DistillResult) -> None:
    three = student(ARM, {**ARM_SHORT, "n_links": 3})
    carried = init_from(three, arm_source.model)
    assert set(carried.skipped) == {"action_net.weight", "action_net.bias", "log_std"}
    assert carried.backbone_missing == []
    source_state = arm_source.model.policy.state_dict()
    for name, tensor in three.policy.state_dict().items():
        if name in carried.copied:
            assert torch.equal(tensor, source_state[name]), name
    assert "value_net.weight" in carried.copied
    with pytest.raises(ValueError, match="not carried over"):
        init_from(student(ARM, {**ARM_SHORT, "n_links": 3}), arm_source.model, strict=True)


@pytest.mark.parametrize(
    ("env_id", "env_kwargs", "message"),
    [
        (GRID, {**SMALL, "pixel_size": 32}, "observes"),  # other frame size
        (ARM, ARM_SHORT, "heads cannot carry over"),  # Box vs Discrete actions
    ],
)
def test_incompatible_spaces_raise(
    source: DistillResult, env_id: str, env_kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        init_from(student(env_id, env_kwargs), source.model)


# ---------------------------------------------------------------------- fine_tune


def test_fine_tune_starts_from_the_source_and_saves(tmp_path: Path, source: DistillResult) -> None:
    obs = frames(source)
    starts: list[torch.Tensor] = []

    def at_start(round_: int, model: PPO) -> None:
        if round_ == -1:
            starts.append(probabilities(model, obs))

    result = fine_tune(GRID, 2, source=source.model, epochs=1, env_kwargs=ROOMS,
                       ppo_kwargs=PPO_KWARGS, callback=at_start)  # fmt: skip
    (start,) = starts
    assert torch.allclose(start, probabilities(source.model, obs), atol=1e-6)
    assert result.config["transfer"]["init"] == "source"
    assert result.config["transfer"]["source"]["env_kwargs"] == SMALL
    loaded = PPO.load(result.save(tmp_path / "target"), device="cpu")
    assert np.array_equal(
        loaded.predict(obs, deterministic=True)[0], result.model.predict(obs, deterministic=True)[0]
    )
    assert loaded.rlkit_distillation["transfer"]["copied"] > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("method", ["bc", "dagger"])
def test_pretrained_init_trains_as_distill_does(method: str) -> None:
    """Same seeds, data, coin flips and minibatches as rlkit.deep.distill: so the three
    inits differ only by where they start."""
    common: dict[str, Any] = {"epochs": 2, "seed": 3, "env_kwargs": ROOMS, "ppo_kwargs": PPO_KWARGS}
    if method == "bc":
        reference = behaviour_cloning(GRID, 2, **common)
        ours = fine_tune(GRID, 2, init="pretrained", **common)
    else:
        rounds: dict[str, Any] = {"iterations": 1, "rollouts_per_iteration": 2, "beta_decay": 0.5}
        reference = dagger(GRID, 2, **rounds, **common)
        ours = fine_tune(GRID, 2, init="pretrained", method="dagger", **rounds, **common)
    assert ours.losses == reference.losses and ours.dataset_sizes == reference.dataset_sizes
    a, b = ours.model.policy.state_dict(), reference.model.policy.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_scratch_differs_from_pretrained_and_repeats() -> None:
    common: dict[str, Any] = {"epochs": 1, "env_kwargs": ROOMS, "ppo_kwargs": PPO_KWARGS}
    first = fine_tune(GRID, 1, init="scratch", **common)
    again = fine_tune(GRID, 1, init="scratch", **common)
    pretrained = fine_tune(GRID, 1, init="pretrained", **common)
    assert first.losses == again.losses and first.config["finetune"] == "scratch"
    assert first.losses != pretrained.losses


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"init": "sauce"}, "init must be one of"),
        ({"init": "source"}, "needs source="),
        ({"init": "pretrained", "source": "x.zip"}, "drop source="),
        ({"init": "scratch", "finetune": "full"}, "drop finetune="),
        ({"init": "pretrained", "finetune": "scratch"}, "use init='scratch'"),
        ({"init": "pretrained", "method": "ppo"}, "method must be"),
        ({"init": "pretrained", "demos": 0}, "demos must be a positive int"),
        ({"init": "pretrained", "method": "dagger", "iterations": 0}, "iterations must be"),
    ],
)
def test_fine_tune_bad_input_names_the_argument(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fine_tune(GRID, **{"demos": 1, **kwargs})


# ---------------------------------------------------------------------- rlkit distill --init-from


def test_cli_init_from_fine_tunes_the_source(
    rlkit_distill: Any, source: DistillResult, tmp_path: Path
) -> None:
    """``--init-from`` runs fine_tune(init="source") with the command's options: the
    same weights as the call."""
    source_zip = source.save(tmp_path / "source")
    out = tmp_path / "out"
    argv = [
        "distill", "--env", GRID, *[f"--env-kwarg={k}={v!r}" for k, v in ROOMS.items()],
        "--init-from", str(source_zip), "--method", "bc", "--demos", "2", "--epochs", "1",
        "--device", "cpu", "--out", str(out), "--no-progress",
    ]  # fmt: skip
    status, line, _ = rlkit_distill(argv)
    assert status == 0
    assert line.startswith(f"distilled the planner from {source_zip} on {GRID} by bc")
    config = json.loads((out / "config.json").read_text())
    transfer = config["distillation"]["transfer"]
    assert transfer["init"] == "source" and transfer["source"] == str(source_zip)
    assert transfer["copied"] > 0
    expected = fine_tune(GRID, 2, source=source_zip, epochs=1, env_kwargs=ROOMS, device="cpu")
    written = PPO.load(out / "model.zip", device="cpu").policy.state_dict()
    reference = expected.model.policy.state_dict()
    assert written.keys() == reference.keys()
    assert all(torch.equal(written[k], reference[k]) for k in reference)


def test_cli_init_from_with_teacher_is_one_line(rlkit_distill: Any, tmp_path: Path) -> None:
    argv = ["distill", "--env", GRID, "--init-from", "a.zip", "--teacher", "b.zip",
            "--out", str(tmp_path)]  # fmt: skip
    status, _, err = rlkit_distill(argv)
    assert status == 2
    assert err.startswith("rlkit distill: error:") and "--teacher" in err and "\n" not in err
    assert not (tmp_path / "model.zip").exists()
