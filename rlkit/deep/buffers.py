"""``ChannelsLastRolloutBuffer``: SB3's PPO rollout buffer, image frames kept channels-last.

SB3 wraps a channels-last image env in ``VecTransposeImage``, so the policy sees
``(3, H, W)`` frames and ``RolloutBuffer`` stores them that way. On the CPU, oneDNN's
convolutions run fastest on channels-last memory: the backbone's stem then reorders
every minibatch, 4 epochs over the same frames. This buffer stores each frame as the
env made it, ``(H, W, 3)``, and hands the policy ``(B, 3, H, W)`` tensors whose memory
is channels-last (a permuted view, no copy). Shapes, values, sampling order and the
random stream are SB3's; only the memory layout differs, which every torch op accepts.

On PPO with ``rlkit-cnn-lite`` (64x64 frames, minibatch 256, one CPU thread) this saved
1.5-2.0 ms of a 20-22 ms minibatch update; ``benchmarks/train_throughput.py`` measures
the whole training loop with it.

Examples
--------
>>> import gymnasium as gym, numpy as np
>>> space = gym.spaces.Box(0, 255, (3, 8, 8), np.uint8)
>>> buffer = ChannelsLastRolloutBuffer(4, space, gym.spaces.Discrete(2), device="cpu")
>>> buffer.channels_last
True
>>> for _ in range(4):
...     frame = np.full((1, 3, 8, 8), 7, np.uint8)
...     buffer.add(frame, np.zeros(1), np.zeros(1), np.zeros(1), torch.zeros(1), torch.zeros(1))
>>> buffer.compute_returns_and_advantage(torch.zeros(1), np.zeros(1))
>>> batch = next(buffer.get(2))
>>> tuple(batch.observations.shape), batch.observations.is_contiguous(
...     memory_format=torch.channels_last)
((2, 3, 8, 8), True)
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.type_aliases import RolloutBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from rlkit.deep.extractor import has_image

__all__ = ["ChannelsLastRolloutBuffer", "rollout_buffer_for"]


def _chw_image(space: gym.Space[Any]) -> tuple[int, int] | None:
    """``(H, W)`` of a uint8 ``(3, H, W)`` image space, else None."""
    if (
        isinstance(space, gym.spaces.Box)
        and space.dtype == np.uint8
        and len(space.shape) == 3
        and space.shape[0] == 3
    ):
        return int(space.shape[1]), int(space.shape[2])
    return None


def rollout_buffer_for(observation_space: gym.Space[Any]) -> dict[str, Any]:
    """``PPO(...)`` arguments choosing :class:`ChannelsLastRolloutBuffer` where it applies:
    Box image observations (channels first or last; SB3 transposes the latter). Empty
    otherwise, so SB3 picks its own buffer (``DictRolloutBuffer`` for Dict spaces).

    >>> import gymnasium as gym, numpy as np
    >>> rollout_buffer_for(gym.spaces.Box(0, 255, (64, 64, 3), np.uint8))
    {'rollout_buffer_class': <class 'rlkit.deep.buffers.ChannelsLastRolloutBuffer'>}
    >>> rollout_buffer_for(gym.spaces.Box(-1, 1, (4,)))
    {}
    """
    # the images BackboneExtractor reads, less the Dict spaces (SB3's DictRolloutBuffer)
    if isinstance(observation_space, gym.spaces.Box) and has_image(observation_space):
        return {"rollout_buffer_class": ChannelsLastRolloutBuffer}
    return {}


class ChannelsLastRolloutBuffer(RolloutBuffer):
    """SB3's ``RolloutBuffer`` storing ``(3, H, W)`` uint8 frames channels-last.

    Any other observation space is stored exactly as SB3 stores it (``channels_last``
    is then False). Pass it to PPO as ``rollout_buffer_class`` (see
    :func:`rollout_buffer_for`); it survives ``save``/``load`` like SB3's own buffers.
    """

    def __init__(
        self, buffer_size: int, observation_space: gym.spaces.Space, *args: Any, **kwargs: Any
    ) -> None:
        self._image = _chw_image(observation_space)
        self._frames: np.ndarray | None = None  # (buffer_size, n_envs, H, W, 3) or (N, H, W, 3)
        super().__init__(buffer_size, observation_space, *args, **kwargs)

    @property
    def channels_last(self) -> bool:
        """Whether frames are stored channels-last (a ``(3, H, W)`` uint8 image space)."""
        return self._image is not None

    def reset(self) -> None:
        super().reset()
        if self._image is not None:
            h, w = self._image
            self._frames = np.zeros((self.buffer_size, self.n_envs, h, w, 3), np.uint8)
            # SB3's own code sees the (3, H, W) shape it expects, a view of the frames.
            self.observations = self._frames.transpose(0, 1, 4, 2, 3)

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        value: torch.Tensor,
        log_prob: torch.Tensor,
    ) -> None:
        if self._frames is None:
            super().add(obs, action, reward, episode_start, value, log_prob)
            return
        # SB3's add, with the frame stored channels-last: VecTransposeImage's
        # (n, 3, H, W) frames are a view of the env's (n, H, W, 3) arrays, so the
        # transposed-back copy is a plain one.
        if len(log_prob.shape) == 0:
            log_prob = log_prob.reshape(-1, 1)
        self._frames[self.pos] = np.asarray(obs).transpose(0, 2, 3, 1)
        self.actions[self.pos] = np.array(action).reshape((self.n_envs, self.action_dim))
        self.rewards[self.pos] = np.array(reward)
        self.episode_starts[self.pos] = np.array(episode_start)
        self.values[self.pos] = value.clone().cpu().numpy().flatten()
        self.log_probs[self.pos] = log_prob.clone().cpu().numpy()
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True

    def get(self, batch_size: int | None = None) -> Generator[RolloutBufferSamples, None, None]:
        if self._frames is None:
            yield from super().get(batch_size)
            return
        # SB3's get, with the frames flattened to (step * env, H, W, 3).
        assert self.full, "the rollout is not complete"
        total = self.buffer_size * self.n_envs
        # numpy's global stream, as SB3 draws it (SB3 seeds it in set_random_seed)
        indices = np.random.permutation(total)  # noqa: NPY002
        if not self.generator_ready:
            self._frames = self.swap_and_flatten(self._frames)
            self.observations = self._frames.transpose(0, 3, 1, 2)
            for name in ("actions", "values", "log_probs", "advantages", "returns"):
                setattr(self, name, self.swap_and_flatten(getattr(self, name)))
            self.generator_ready = True
        size = total if batch_size is None else batch_size
        for start in range(0, total, size):
            yield self._get_samples(indices[start : start + size])

    def _get_samples(
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> RolloutBufferSamples:
        if self._frames is None:
            return super()._get_samples(batch_inds, env)
        frames = torch.from_numpy(self._frames[batch_inds]).to(self.device)  # a fresh copy
        data = (
            self.actions[batch_inds].astype(np.float32, copy=False),
            self.values[batch_inds].flatten(),
            self.log_probs[batch_inds].flatten(),
            self.advantages[batch_inds].flatten(),
            self.returns[batch_inds].flatten(),
        )
        return RolloutBufferSamples(frames.permute(0, 3, 1, 2), *map(self.to_torch, data))
