"""ConvEncoder: shapes, dtypes, input sizes, export, size, seeding, light imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from rlkit.backbones import ConvEncoder, resolve_device, save_backbone, seeded_encoder
from rlkit.backbones.model import spatial_softmax

#: rlkit-cnn-v2's layout: a 4x4 stride-4 patchify stem, then 3x3 convolutions.
PATCHIFY = {"channels": (16, 32, 32), "strides": (4, 2, 1), "kernels": (4, 3, 3)}


@pytest.fixture(scope="module", params=["3x3", "patchify"])
def encoder(request: pytest.FixtureRequest) -> ConvEncoder:
    """Both stems: 3x3 (rlkit-cnn-v1, normalised input) and patchify (rlkit-cnn-v2,
    normalisation folded into the stem)."""
    architecture = {} if request.param == "3x3" else PATCHIFY
    model = seeded_encoder(0, **architecture).eval()
    model.set_normalization([200.0, 150.0, 100.0], [50.0, 60.0, 70.0])
    return model


@pytest.fixture(scope="module")
def frames() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (4, 3, 64, 64), dtype=torch.uint8, generator=generator)


def test_uint8_and_float_frames_give_the_same_features(
    encoder: ConvEncoder, frames: torch.Tensor
) -> None:
    out = encoder(frames)
    assert out.shape == (4, 128) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    torch.testing.assert_close(encoder(frames.float()), out)


def test_output_is_layer_normalised(encoder: ConvEncoder, frames: torch.Tensor) -> None:
    out = encoder(frames)
    # LayerNorm with its initial affine (1, 0): zero mean, unit variance per row.
    torch.testing.assert_close(out.mean(dim=1), torch.zeros(4), atol=1e-5, rtol=0)
    # (up to LayerNorm's eps, which matters for the small pre-norm values at init)
    torch.testing.assert_close(out.std(dim=1, unbiased=False), torch.ones(4), atol=0.02, rtol=0)


@pytest.mark.parametrize("size", [(16, 16), (24, 40), (64, 64), (96, 96), (128, 80)])
def test_any_input_size_from_16_works(encoder: ConvEncoder, size: tuple[int, int]) -> None:
    out = encoder(torch.zeros(2, 3, *size, dtype=torch.uint8))
    assert out.shape == (2, 128)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((2, 64, 64, 3), "channels-last"),
        ((3, 64, 64), "batch axis"),
        ((2, 1, 64, 64), r"\(B, 3, H, W\)"),
        ((2, 3, 15, 64), "at least 16x16"),
    ],
)
def test_bad_input_shapes_are_refused_with_the_fix(
    encoder: ConvEncoder, shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        encoder(torch.zeros(shape, dtype=torch.uint8))


def test_no_batchnorm_so_train_and_eval_modes_agree(frames: torch.Tensor) -> None:
    model = seeded_encoder(1)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    with torch.no_grad():
        train_out = model.train()(frames)
        eval_out = model.eval()(frames)
    assert torch.equal(train_out, eval_out)


def test_model_is_under_one_megabyte(tmp_path: Path) -> None:
    model = ConvEncoder()
    assert model.num_parameters() < 250_000  # float32: under 1 MB
    card = save_backbone(model, tmp_path / "model.pt", {})
    assert card["bytes"] == (tmp_path / "model.pt").stat().st_size < 1_000_000


def test_torch_export_gives_the_same_outputs(encoder: ConvEncoder, frames: torch.Tensor) -> None:
    batch = torch.export.Dim("batch", min=1, max=1024)
    exported = torch.export.export(encoder, (frames,), dynamic_shapes={"frames": {0: batch}})
    module = exported.module()
    torch.testing.assert_close(module(frames), encoder(frames), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(module(frames[:1]), encoder(frames[:1]), rtol=1e-5, atol=1e-5)


def test_normalisation_travels_in_the_state_dict() -> None:
    model = ConvEncoder(mean=[10.0, 20.0, 30.0], std=[1.0, 2.0, 3.0])
    state = model.state_dict()
    assert torch.equal(state["mean"], torch.tensor([10.0, 20.0, 30.0]))
    assert torch.equal(state["std"], torch.tensor([1.0, 2.0, 3.0]))
    assert model.normalization == {"mean": [10.0, 20.0, 30.0], "std": [1.0, 2.0, 3.0]}
    rebuilt = ConvEncoder(**model.architecture)
    rebuilt.load_state_dict(state, strict=True)
    assert rebuilt.normalization == model.normalization


@pytest.mark.parametrize(
    ("mean", "std"), [([1.0, 2.0], [1.0, 1.0, 1.0]), ([0.0] * 3, [1.0, 0.0, 1.0])]
)
def test_bad_normalisation_is_refused(mean: list[float], std: list[float]) -> None:
    with pytest.raises(ValueError, match="mean"):
        ConvEncoder(mean=mean, std=std)


def test_bad_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match="equal length"):
        ConvEncoder(channels=(16, 32), strides=(2,))
    with pytest.raises(ValueError, match="equal length"):
        ConvEncoder(channels=(16, 32), strides=(2, 2), kernels=(3,))
    with pytest.raises(ValueError, match="positive"):
        ConvEncoder(channels=(16,), strides=(2,), kernels=(0,))
    with pytest.raises(ValueError, match="positive"):
        ConvEncoder(features_dim=0)


def test_stem_sees_normalised_frames(encoder: ConvEncoder, frames: torch.Tensor) -> None:
    """Folded into a patchify stem or applied first: the stem's output is the plain
    convolution of ``(frames - mean) / std``."""
    normalised = (frames.float() - encoder.mean.view(1, 3, 1, 1)) / encoder.std.view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(
            encoder._stem(frames), encoder.trunk[0](normalised), rtol=1e-4, atol=1e-4
        )


@pytest.mark.parametrize(
    ("kernel", "stride", "size", "expected"),
    [(3, 1, 64, 64), (3, 2, 64, 32), (4, 4, 64, 16), (4, 2, 64, 32), (8, 4, 64, 16)],
)
def test_kernel_padding(kernel: int, stride: int, size: int, expected: int) -> None:
    model = ConvEncoder(channels=(8,), strides=(stride,), kernels=(kernel,))
    conv = model.trunk[0]
    assert conv(torch.zeros(1, 3, size, size)).shape[-1] == expected
    assert (conv.padding == (0, 0)) == (kernel == stride)  # patchify: no padding


def test_architecture_records_kernels_only_when_given() -> None:
    assert "kernels" not in ConvEncoder().architecture  # as rlkit-cnn-v1's card says
    model = ConvEncoder(**PATCHIFY)
    assert model.architecture["kernels"] == [4, 3, 3]
    rebuilt = ConvEncoder(**model.architecture)
    rebuilt.load_state_dict(model.state_dict(), strict=True)


def test_seeded_init_depends_on_the_seed_alone() -> None:
    before = torch.get_rng_state()
    a, b, c = seeded_encoder(5), seeded_encoder(5), seeded_encoder(6)
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG is untouched
    pairs = list(zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert all(torch.equal(p, q) for p, q in pairs)
    assert not torch.equal(a.head.weight, c.head.weight)


@pytest.mark.parametrize("architecture", [{}, PATCHIFY], ids=["3x3", "patchify"])
def test_every_parameter_gets_a_gradient(frames: torch.Tensor, architecture: dict) -> None:
    model = seeded_encoder(2, **architecture)
    model(frames).pow(2).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_spatial_softmax_finds_a_peak() -> None:
    fmap = torch.full((1, 2, 8, 8), -30.0)
    fmap[0, 0, 0, 0] = 30.0  # top left
    fmap[0, 1, 7, 4] = 30.0  # bottom row, just right of centre
    x0, x1, y0, y1 = spatial_softmax(fmap, torch.tensor(1.0))[0].tolist()
    assert (x0, y0) == pytest.approx((-0.875, -0.875), abs=1e-4)
    assert (x1, y1) == pytest.approx((0.125, 0.875), abs=1e-4)


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        # the rlkit command imports the subcommand: it must work without torch
        ("import rlkit.backbones.cli", ("torch", "stable_baselines3")),
        (
            "from rlkit.backbones import ConvEncoder, load_backbone, pretrain",
            ("stable_baselines3",),
        ),
    ],
)
def test_imports_stay_light(statement: str, absent: tuple[str, ...]) -> None:
    code = f"{statement}\nimport sys\nprint([m for m in {absent!r} if m in sys.modules])\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_pretrain_stays_the_function_whatever_is_imported_first() -> None:
    # Importing the submodule `rlkit.backbones.pretrain` first must not leave the
    # package's `pretrain` pointing at the module (the names load lazily).
    code = (
        "import rlkit.backbones.pretrain\n"
        "from rlkit.backbones import pretrain, PretrainConfig\n"
        "print(callable(pretrain), pretrain.__module__, PretrainConfig.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "rlkit.backbones.pretrain", "PretrainConfig"]
