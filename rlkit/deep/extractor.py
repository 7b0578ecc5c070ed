"""``BackboneExtractor``: stable-baselines3 features from an :mod:`rlkit.backbones` CNN.

Five fine-tuning modes, the rows of the headline experiment:

========  ===================================================  ==========================
mode      backbone weights                                     trained
========  ===================================================  ==========================
scratch   same architecture, random init from ``seed``         everything
frozen    pretrained                                           heads only (backbone in
                                                               eval mode, no gradient)
full      pretrained                                           everything
lora      pretrained + low-rank adapters (:mod:`.lora`)        adapters and heads
adapter   pretrained + bottleneck adapters after each conv     adapters and heads
          block (:mod:`.adapters`; Houlsby et al. 2019)
========  ===================================================  ==========================

:func:`~rlkit.deep.adapters.parameter_counts` gives the trainable and total parameters
of an extractor or a policy in any mode.

``augment=True`` adds random-shift augmentation (pad 4, random crop; Laskin et al. 2020,
Kostrikov et al. 2021) while the policy trains, the strong scratch baseline of Hansen et
al. 2022; rollouts and evaluation see the frames unchanged.

``spatial=C`` adds a head on the backbone's last feature map (a 1x1 convolution to
``C`` channels, flattened): the pretrained features are keypoints (where the agent and
the goal are) and a 4x4 layout summary, enough on a fixed map but not for a map that
changes every episode, where the policy must also see each wall. On
``rlkit/GridNav-v0`` DAgger with ``spatial=8`` reached 0.44 success on held-out maps
against 0.33 without it, at the same budget (100 demos + 4 rounds of 100 episodes).

``plan={"grid": G, "iterations": K}`` adds a value iteration network on the frame
(:class:`~rlkit.deep.planning.ValueIterationHead`; Tamar et al. 2016): the frame pooled
to ``G x G`` cells, ``K`` steps of value iteration as convolutions, and the Q-values at
the agent's cell appended to the features. It plans on maps that change every episode,
where the pooled and spatial features must otherwise learn planning from their weights.

``keypoints={"count": K}`` adds a keypoint head on the frame
(:class:`~rlkit.deep.keypoints.KeypointHead`): ``K`` positions to a fraction of a pixel
from a spatial softmax at half the frame's resolution, what a reaching policy acts on
(``rlkit/ArmReach-v0``: where the goal, the joints and the end effector are).

The extractor reads image observations (``Box(uint8, (3, H, W))`` after SB3's
``VecTransposeImage``, or channels-last) and ``Dict`` observations with one image key,
whose other keys are flattened and appended to the image features (goal-conditioned
envs). It expects raw ``[0, 255]`` pixels: the backbone carries its own normalisation,
so the policies of :mod:`rlkit.deep.policies` set ``normalize_images=False``.

Examples
--------
>>> import numpy as np, torch
>>> from gymnasium import spaces
>>> space = spaces.Box(0, 255, (3, 64, 64), np.uint8)
>>> extractor = BackboneExtractor(space, finetune="lora", lora_rank=2)
>>> extractor(torch.zeros(4, 3, 64, 64)).shape
torch.Size([4, 128])
>>> sorted({name.split(".")[-2] for name, p in extractor.named_parameters()
...         if p.requires_grad})
['lora_a', 'lora_b']
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from torch.nn import functional as F

from rlkit.backbones import DEFAULT_BACKBONE, ConvEncoder, load_backbone
from rlkit.backbones.model import random_shift
from rlkit.deep.adapters import (
    DEFAULT_ADAPTER_SIZE,
    adapter_parameters,
    add_adapters,
    check_adapter_size,
)
from rlkit.deep.keypoints import HEAD_KEYS as KEYPOINT_HEAD_KEYS
from rlkit.deep.keypoints import KeypointHead, check_keypoints
from rlkit.deep.lora import add_lora, lora_parameters
from rlkit.deep.planning import HEAD_KEYS, ValueIterationHead, check_plan

__all__ = [
    "FINETUNE_MODES",
    "BackboneExtractor",
    "Finetune",
    "check_finetune",
    "has_image",
    "random_shift",
]

Finetune = Literal["scratch", "frozen", "full", "lora", "adapter"]
#: The fine-tuning modes :class:`BackboneExtractor` accepts.
FINETUNE_MODES: tuple[str, ...] = ("scratch", "frozen", "full", "lora", "adapter")


def check_finetune(finetune: str) -> None:
    """Raise ``ValueError`` unless ``finetune`` is one of :data:`FINETUNE_MODES`."""
    if finetune not in FINETUNE_MODES:
        raise ValueError(f"finetune must be one of {list(FINETUNE_MODES)}, got {finetune!r}")


def has_image(space: gym.Space[Any]) -> bool:
    """Whether :class:`BackboneExtractor` reads ``space``: a uint8 RGB image (channels
    first or last) or a Dict with exactly one such key.

    >>> from gymnasium import spaces
    >>> has_image(spaces.Box(0, 255, (3, 8, 8), np.uint8)), has_image(spaces.Discrete(4))
    (True, False)
    """
    if isinstance(space, gym.spaces.Dict):
        return sum(_is_image(s) for s in space.spaces.values()) == 1
    return _is_image(space)


def _is_image(space: gym.Space[Any]) -> bool:
    return (
        isinstance(space, gym.spaces.Box)
        and space.dtype == np.uint8
        and len(space.shape) == 3
        and 3 in (space.shape[0], space.shape[-1])
    )


class BackboneExtractor(BaseFeaturesExtractor):
    """SB3 features extractor running an :mod:`rlkit.backbones` encoder.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or Dict
        uint8 RGB images (channels first or last), or a Dict with exactly one such key.
    backbone : str, path or ConvEncoder, default DEFAULT_BACKBONE ("rlkit-cnn-v2")
        A shipped backbone name, a ``.pt`` file from ``rlkit pretrain``, or an encoder
        object (copied, so the caller's stays untouched).
    finetune : {"scratch", "frozen", "full", "lora", "adapter"}, default "full"
        See the module docstring.
    lora_rank, lora_alpha : int, float, optional
        Adapter rank (default 4) and scale numerator (default: the rank, scale 1).
    adapter_size : int, default DEFAULT_ADAPTER_SIZE (16)
        Bottleneck channels of each adapter in ``adapter`` mode.
    augment : bool, default False
        Random-shift augmentation in training mode.
    shift_pad : int, default 4
        Largest shift of the augmentation, in pixels.
    seed : int, default 0
        Seed of the random init in ``scratch`` mode.
    spatial : int, default 0
        Channels of a spatial head: a 1x1 convolution (with ReLU) of the backbone's last
        feature map, flattened and appended to its pooled features (``spatial * h * w``
        more features; ``h = w = 8`` for 64x64 frames on ``rlkit-cnn-v2``). The pooled
        features say where the agent and the goal are; a map that changes every episode
        (``rlkit/GridNav-v0``) also needs where every wall is, which a coarse pool
        averages away. Trained as a head (at the heads' learning rate), also in
        ``frozen`` mode. 0: none.
    plan : mapping, optional
        A value iteration head (:mod:`rlkit.deep.planning`): keys ``grid`` (cells
        across of the pooled map; the env's cells, 11 on ``rlkit/GridNav-v0``),
        ``iterations`` (at least the longest path in cells), ``channels``, ``actions``;
        defaults :data:`~rlkit.deep.planning.PLAN_DEFAULTS`; ``pooled`` (default
        False): also give the heads the backbone's pooled features (without them the
        backbone is not run). Trained as a head, also in ``frozen`` mode. None
        (default): none.
    keypoints : mapping, optional
        A keypoint head (:mod:`rlkit.deep.keypoints`): keys ``count`` (keypoints),
        ``channels`` (of its convolutions), ``weight`` (of its auxiliary loss in
        distillation), ``pooled`` (default False: as for ``plan``) and ``cspace``
        (cells per joint of a joint-space planner on the keypoints for 2-link arms
        among obstacles, :mod:`rlkit.deep.arm_planning`; 0, the default: none) with
        ``cspace_iterations``; defaults :data:`~rlkit.deep.keypoints.KEYPOINT_DEFAULTS`.
        Trained as a head, also in ``frozen`` mode. None (default): none.
    """

    def __init__(
        self,
        observation_space: gym.Space[Any],
        backbone: str | os.PathLike[str] | ConvEncoder = DEFAULT_BACKBONE,
        finetune: Finetune = "full",
        lora_rank: int = 4,
        lora_alpha: float | None = None,
        adapter_size: int = DEFAULT_ADAPTER_SIZE,
        augment: bool = False,
        shift_pad: int = 4,
        seed: int = 0,
        spatial: int = 0,
        plan: Mapping[str, Any] | None = None,
        keypoints: Mapping[str, Any] | None = None,
    ) -> None:
        check_finetune(finetune)
        check_adapter_size(adapter_size)
        if isinstance(spatial, bool) or not isinstance(spatial, int) or spatial < 0:
            raise ValueError(f"spatial must be an int >= 0 (channels; 0: none), got {spatial!r}")
        image_key, image_space, vector_keys = _split_space(observation_space)
        encoder = _make_encoder(backbone, pretrained=finetune != "scratch", seed=seed)
        vector_dim = 0
        if isinstance(observation_space, gym.spaces.Dict):
            vector_dim = sum(int(np.prod(observation_space[k].shape or ())) for k in vector_keys)
        map_channels, map_cells = 0, 0
        if spatial:
            height, width = _image_size(image_space)
            probe = torch.zeros(1, 3, height, width, device=next(encoder.parameters()).device)
            with torch.no_grad():
                _, fmap = encoder.encode(probe)
            map_channels, map_cells = int(fmap.shape[1]), int(fmap.shape[2] * fmap.shape[3])
        plan_options = check_plan(plan)
        plan_head = None
        if plan_options is not None:
            plan_head = ValueIterationHead(**{k: plan_options[k] for k in HEAD_KEYS})
        plan_dim = 0 if plan_head is None else plan_head.features_dim
        keypoint_options = check_keypoints(keypoints)
        keypoint_head = None
        if keypoint_options is not None:
            keypoint_head = KeypointHead(**{k: keypoint_options[k] for k in KEYPOINT_HEAD_KEYS})
        keypoint_dim = 0 if keypoint_head is None else keypoint_head.features_dim
        # With a plan or keypoint head the pooled features reach the heads only on
        # request: beside a plan head, imitation overfits on the pooled path and leaves
        # the planner unused (rlkit/GridNav-v0, 300 maps: held-out accuracy 0.76, train 1.00).
        heads = [o for o in (plan_options, keypoint_options) if o is not None]
        self.pooled = not heads or any(bool(o["pooled"]) for o in heads)
        pooled_dim = encoder.features_dim if self.pooled else 0
        super().__init__(
            observation_space,
            pooled_dim + spatial * map_cells + plan_dim + keypoint_dim + vector_dim,
        )
        self.spatial_head = nn.Conv2d(map_channels, spatial, 1) if spatial else None
        self.plan_head = plan_head
        self.keypoint_head = keypoint_head
        #: Weight of the keypoint head's auxiliary loss in distillation.
        self.keypoint_weight = 0.0 if keypoint_options is None else keypoint_options["weight"]
        self.finetune = finetune
        self.augment = bool(augment)
        self.shift_pad = int(shift_pad)
        self.image_key = image_key
        self.vector_keys = vector_keys
        self.channels_last = image_space.shape[0] != 3
        self.backbone = encoder
        if finetune == "frozen":
            self.backbone.requires_grad_(False)
        elif finetune == "lora":
            add_lora(self.backbone, rank=lora_rank, alpha=lora_alpha)
        elif finetune == "adapter":
            add_adapters(self.backbone, size=adapter_size)
        # The weights this extractor starts from. SB3's PPO re-initialises every module of
        # its policy orthogonally after building it; the policies of rlkit.deep.policies
        # call restore_initial_backbone() afterwards so pretrained weights survive.
        self._initial_state = {k: v.detach().clone() for k, v in self.backbone.state_dict().items()}
        self.train(True)

    # ------------------------------------------------------------------ parameters
    def backbone_parameters(self) -> list[nn.Parameter]:
        """The trainable parameters that belong to the backbone (adapters in ``lora``
        and ``adapter`` mode, none in ``frozen`` mode)."""
        if self.finetune == "lora":
            return lora_parameters(self.backbone)
        if self.finetune == "adapter":
            return adapter_parameters(self.backbone)
        return [p for p in self.backbone.parameters() if p.requires_grad]

    def restore_initial_backbone(self) -> None:
        """Reset the backbone (and adapters) to the weights it was constructed with."""
        self.backbone.load_state_dict(self._initial_state, strict=True)

    def train(self, mode: bool = True) -> BackboneExtractor:
        super().train(mode)
        if self.finetune == "frozen":
            self.backbone.eval()
        return self

    # ------------------------------------------------------------------ forward
    def _frames(self, observations: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        if isinstance(observations, dict):
            assert self.image_key is not None
            frames = observations[self.image_key]
        else:
            frames = observations
        if self.channels_last:
            frames = frames.permute(0, 3, 1, 2)
        if self.augment and self.training:  # shifted before the float copy: uint8 moves
            frames = random_shift(frames, self.shift_pad)  # 4x fewer bytes; global RNG
        return frames.float()  # the encoder normalises and lays them out for its convs

    def forward(self, observations: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        frames = self._frames(observations)
        parts: list[torch.Tensor] = []
        if self.pooled or self.spatial_head is not None:
            with torch.set_grad_enabled(torch.is_grad_enabled() and self.finetune != "frozen"):
                if self.spatial_head is None:
                    features = self.backbone(frames)
                else:
                    features, fmap = self.backbone.encode(frames)
            if self.pooled:
                parts.append(features)
        if self.spatial_head is not None:
            parts.append(F.relu(self.spatial_head(fmap)).flatten(1))
        if self.plan_head is not None:
            parts.append(self.plan_head(frames))
        if self.keypoint_head is not None:
            parts.append(self.keypoint_head(frames))
        if self.vector_keys:
            assert isinstance(observations, dict)
            parts += [observations[k].flatten(1).float() for k in self.vector_keys]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def _image_size(space: gym.spaces.Box) -> tuple[int, int]:
    """``(H, W)`` of a channels-first or channels-last image space."""
    shape = space.shape
    return (int(shape[1]), int(shape[2])) if shape[0] == 3 else (int(shape[0]), int(shape[1]))


def _split_space(space: gym.Space[Any]) -> tuple[str | None, gym.spaces.Box, list[str]]:
    """``(image key or None, image space, other keys)`` of an observation space."""
    if _is_image(space):
        assert isinstance(space, gym.spaces.Box)
        return None, space, []
    if isinstance(space, gym.spaces.Dict):
        images = [k for k, s in space.spaces.items() if _is_image(s)]
        if len(images) == 1:
            image = space.spaces[images[0]]
            assert isinstance(image, gym.spaces.Box)
            return images[0], image, [k for k in space.spaces if k != images[0]]
    raise ValueError(
        "BackboneExtractor needs uint8 RGB image observations (Box(0, 255, (H, W, 3)) or "
        f"(3, H, W)) or a Dict with exactly one such key, got {space}; make the env with "
        "obs='pixels'"
    )


def _make_encoder(
    backbone: str | os.PathLike[str] | ConvEncoder, *, pretrained: bool, seed: int
) -> ConvEncoder:
    if isinstance(backbone, ConvEncoder):
        import copy

        encoder = copy.deepcopy(backbone)
        if not pretrained:
            from rlkit.backbones import seeded_encoder

            fresh = seeded_encoder(seed, **encoder.architecture)
            fresh.set_normalization(**encoder.normalization)
            encoder = fresh.to(next(backbone.parameters()).device)
        return encoder.train()
    return load_backbone(backbone, pretrained=pretrained, seed=seed).train()
