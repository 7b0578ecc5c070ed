"""The encoder's fast paths compute what their plain definitions compute.

Each speed change of issue #17 (keypoint and layout pooling as matrix products on
channels-last maps, the stem's folded normalisation as one matrix-vector product, the
trunk run without slicing it, LoRA's merge as one ``addmm``) is checked here against a
reference written the plain way: outputs and gradients, float32 to float tolerance and
float64 tightly, channels-last and contiguous layouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rlkit.backbones import ConvEncoder, seeded_encoder
from rlkit.backbones.layers import (
    _cached_coordinates,
    _cached_pool_weights,
    adaptive_avg_pool_flat,
    spatial_softmax,
)
from rlkit.deep.lora import LoRAConv2d, LoRALinear, add_lora

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: rlkit-cnn-v2's layout: a 4x4 stride-4 patchify stem, then 3x3 convolutions.
PATCHIFY = {"channels": (16, 32, 32), "strides": (4, 2, 1), "kernels": (4, 3, 3)}
LAYOUTS = ["contiguous", "channels_last"]
#: (rtol, atol) of outputs and gradients per dtype.
TOLERANCE = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-10, 1e-12)}


def reference_spatial_softmax(fmap: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """The definition (and the implementation before the fast path): softmax over each
    channel's map, expected x and y of the pixel centres."""
    b, c, h, w = fmap.shape
    attention = torch.softmax(fmap.flatten(2) / temperature, dim=-1).view(b, c, h, w)
    ys = (torch.arange(h, dtype=fmap.dtype) + 0.5) * (2.0 / h) - 1.0
    xs = (torch.arange(w, dtype=fmap.dtype) + 0.5) * (2.0 / w) - 1.0
    x = (attention.sum(dim=2) * xs).sum(dim=-1)
    y = (attention.sum(dim=3) * ys).sum(dim=-1)
    return torch.cat([x, y], dim=1)


def reference_encode(encoder: ConvEncoder, frames: torch.Tensor) -> torch.Tensor:
    """ConvEncoder's forward written plainly: normalise, every trunk module in turn (the
    stem through its own module, LoRA or not), the two poolings by their definitions."""
    x = (frames.to(encoder.mean.dtype) - encoder.mean.view(1, 3, 1, 1)) / encoder.std.view(
        1, 3, 1, 1
    )
    for layer in encoder.trunk:
        x = layer(x)
    keypoints = reference_spatial_softmax(x, encoder.log_temperature.exp())
    layout = F.adaptive_avg_pool2d(F.relu(encoder.layout(F.relu(x))), encoder.layout_grid)
    return encoder.norm(encoder.head(torch.cat([keypoints, layout.flatten(1)], dim=1)))


def laid_out(tensor: torch.Tensor, layout: str) -> torch.Tensor:
    if layout == "channels_last":
        tensor = tensor.contiguous(memory_format=torch.channels_last)
    return tensor.detach().requires_grad_(True)


def assert_same(got: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype) -> None:
    rtol, atol = TOLERANCE[dtype]
    torch.testing.assert_close(got, expected, rtol=rtol, atol=atol)


def outputs_and_gradients(
    function: Any, inputs: Sequence[torch.Tensor], upstream: torch.Tensor | None = None
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor]:
    out = function()
    upstream = torch.randn_like(out) if upstream is None else upstream
    return out, torch.autograd.grad(out, inputs, upstream), upstream


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", [(3, 5, 8, 8), (2, 4, 5, 7), (1, 3, 1, 1), (2, 1, 6, 3)])
def test_spatial_softmax_equals_its_definition(
    shape: tuple[int, int, int, int], layout: str, dtype: torch.dtype
) -> None:
    generator = torch.Generator().manual_seed(1)
    fmap = laid_out(3 * torch.randn(shape, generator=generator, dtype=dtype), layout)
    log_temperature = torch.tensor(0.3, dtype=dtype, requires_grad=True)
    inputs = [fmap, log_temperature]
    out, grads, upstream = outputs_and_gradients(
        lambda: spatial_softmax(fmap, log_temperature.exp()), inputs
    )
    ref, ref_grads, _ = outputs_and_gradients(
        lambda: reference_spatial_softmax(fmap, log_temperature.exp()), inputs, upstream
    )
    assert out.shape == (shape[0], 2 * shape[1]) and out.is_contiguous()
    assert_same(out, ref, dtype)
    for got, expected in zip(grads, ref_grads, strict=True):
        assert_same(got, expected, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("size", "grid"), [((8, 8), 4), ((5, 7), 4), ((6, 6), 1), ((4, 4), 4), ((3, 9), 2)]
)
def test_adaptive_avg_pool_flat_equals_torchs_pool(
    size: tuple[int, int], grid: int, layout: str, dtype: torch.dtype
) -> None:
    generator = torch.Generator().manual_seed(2)
    fmap = laid_out(torch.randn(3, 5, *size, generator=generator, dtype=dtype), layout)
    out, (grad,), upstream = outputs_and_gradients(
        lambda: adaptive_avg_pool_flat(fmap, grid), [fmap]
    )
    ref, (ref_grad,), _ = outputs_and_gradients(
        lambda: F.adaptive_avg_pool2d(fmap, grid).flatten(1), [fmap], upstream
    )
    assert out.shape == (3, 5 * grid * grid)
    assert_same(out, ref, dtype)
    assert_same(grad, ref_grad, dtype)


def make_encoder(architecture: str, lora: bool, dtype: torch.dtype) -> ConvEncoder:
    encoder = seeded_encoder(3, **(PATCHIFY if architecture == "patchify" else {}))
    encoder.set_normalization([200.0, 150.0, 100.0], [50.0, 60.0, 70.0])
    with torch.no_grad():  # move the weights away from their init, as training would
        encoder.log_temperature.fill_(-0.4)
        nn.init.normal_(encoder.layout.weight, generator=torch.Generator().manual_seed(4))
    if lora:
        add_lora(encoder, rank=2, alpha=3.0)
        for module in encoder.modules():
            if isinstance(module, LoRAConv2d | LoRALinear):
                nn.init.normal_(module.lora_b.weight, std=0.3)
    return encoder.to(dtype).train()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("lora", [False, True], ids=["plain", "lora"])
@pytest.mark.parametrize("architecture", ["patchify", "3x3"])
@pytest.mark.parametrize("size", [(64, 64), (24, 40)])
def test_encoder_equals_its_plain_definition(
    size: tuple[int, int], architecture: str, lora: bool, dtype: torch.dtype
) -> None:
    """Outputs and every trainable parameter's gradient (LoRA's adapters when wrapped):
    the folded stem, the channels-last trunk and the matrix-product poolings."""
    encoder = make_encoder(architecture, lora, dtype)
    generator = torch.Generator().manual_seed(5)
    frames = torch.randint(0, 256, (3, 3, *size), dtype=torch.uint8, generator=generator)
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    out, grads, upstream = outputs_and_gradients(lambda: encoder(frames), trainable)
    ref, ref_grads, _ = outputs_and_gradients(
        lambda: reference_encode(encoder, frames), trainable, upstream
    )
    assert out.dtype == dtype
    rtol, atol = TOLERANCE[dtype]
    torch.testing.assert_close(out, ref, rtol=10 * rtol, atol=10 * atol)
    names = [n for n, p in encoder.named_parameters() if p.requires_grad]
    for name, got, expected in zip(names, grads, ref_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=10 * rtol, atol=10 * atol, msg=name)


@pytest.mark.parametrize("architecture", ["patchify", "3x3"])
def test_encoder_without_stem_bias_equals_its_plain_definition(architecture: str) -> None:
    encoder = make_encoder(architecture, lora=False, dtype=torch.float64)
    stem = encoder.trunk[0]
    assert isinstance(stem, nn.Conv2d)
    stem.register_parameter("bias", None)
    frames = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        assert_same(encoder(frames), reference_encode(encoder, frames), torch.float64)


@pytest.mark.parametrize("kind", ["conv", "linear"])
def test_lora_merged_weight_is_base_plus_scaled_product(kind: str) -> None:
    """``W + scale * B A`` by one ``addmm``: the weight and its gradients in A and B."""
    torch.manual_seed(6)
    adapter: LoRAConv2d | LoRALinear
    if kind == "conv":
        adapter = LoRAConv2d(nn.Conv2d(5, 7, 3), rank=3, alpha=4.5)
    else:
        adapter = LoRALinear(nn.Linear(6, 4), rank=3, alpha=4.5)
    nn.init.normal_(adapter.lora_b.weight)
    a, b = adapter.lora_a.weight, adapter.lora_b.weight
    product = b.reshape(b.shape[0], 3) @ a.reshape(3, -1)
    expected = adapter.base.weight + 1.5 * product.reshape(adapter.base.weight.shape)
    got = adapter.merged_weight()
    assert got.shape == adapter.base.weight.shape
    upstream = torch.randn_like(got)
    torch.testing.assert_close(got, expected)
    for g, e in zip(
        torch.autograd.grad(got, [a, b], upstream),
        torch.autograd.grad(expected, [a, b], upstream),
        strict=True,
    ):
        torch.testing.assert_close(g, e)


def test_constants_made_under_inference_mode_still_serve_a_backward() -> None:
    """The poolings' cached constants are made outside inference mode: a first call
    under ``torch.inference_mode()`` (SB3 rollouts may run so) must not leave inference
    tensors that a later training pass cannot save for its backward."""
    _cached_coordinates.cache_clear()
    _cached_pool_weights.cache_clear()
    encoder = seeded_encoder(0, **PATCHIFY).train()
    frames = torch.randint(0, 256, (2, 3, 48, 48), dtype=torch.uint8)
    with torch.inference_mode():
        inferred = encoder(frames)
    out = encoder(frames)
    out.sum().backward()
    assert encoder.log_temperature.grad is not None and encoder.layout.weight.grad is not None
    torch.testing.assert_close(out.detach(), inferred.clone())


def test_the_trunk_is_run_without_building_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forward pass must not slice the trunk (``trunk[1:]`` builds a Sequential per
    call): nn.Sequential's constructor never runs during a forward."""
    encoder = seeded_encoder(0, **PATCHIFY)
    frames = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    built = []
    original = nn.Sequential.__init__

    def spy(self: nn.Sequential, *args: Any) -> None:
        built.append(self)
        original(self, *args)

    monkeypatch.setattr(nn.Sequential, "__init__", spy)
    encoder(frames)
    assert built == []
