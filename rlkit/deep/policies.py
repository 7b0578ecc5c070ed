"""stable-baselines3 policies built around :class:`~rlkit.deep.extractor.BackboneExtractor`.

They are SB3's own policies (``ActorCriticPolicy`` for PPO, ``DQNPolicy``, ``SACPolicy``)
with three changes, each fixing a pitfall of putting a pretrained encoder inside SB3:

1. ``features_extractor_class`` defaults to :class:`BackboneExtractor` and
   ``normalize_images`` to False: the backbone normalises raw ``[0, 255]`` pixels itself,
   SB3's default division by 255 would feed it the wrong scale.
2. After SB3 builds the networks, every backbone is reset to the weights it was
   constructed with. ``ActorCriticPolicy._build`` re-initialises all its modules
   orthogonally (``ortho_init=True``), which silently replaced pretrained weights loaded
   in the extractor's constructor. Off-policy algorithms build separate actor and critic
   (and target) extractors; each is restored, and in ``frozen``/``lora`` mode each is
   frozen the same way.
3. ``backbone_lr_scale``: backbone parameters train at ``scale x`` the learning rate of
   the heads. SB3 rewrites every param group's ``lr`` from its schedule, so the scale is
   kept in the group (``lr_scale``) and applied by optimizer step hooks around each
   step; it survives save and load with the optimizer state.

Pass the class itself as the policy::

    from stable_baselines3 import PPO
    model = PPO(BackbonePPOPolicy, env, policy_kwargs={
        "features_extractor_kwargs": {"finetune": "lora"}, "backbone_lr_scale": 0.1})
"""

from __future__ import annotations

import warnings
from typing import Any, cast

import gymnasium as gym
import torch
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.dqn.policies import DQNPolicy
from stable_baselines3.sac.policies import SACPolicy
from torch import nn

from rlkit.deep.extractor import BackboneExtractor

__all__ = [
    "POLICIES",
    "BackboneDQNPolicy",
    "BackbonePPOPolicy",
    "BackboneSACPolicy",
    "backbone_extractors",
    "policy_snapshot",
]


def backbone_extractors(module: nn.Module) -> list[BackboneExtractor]:
    """Every :class:`BackboneExtractor` inside ``module`` (a policy or a model's policy)."""
    return [m for m in module.modules() if isinstance(m, BackboneExtractor)]


def _scaled_lr_pre_hook(optimizer: torch.optim.Optimizer, *_: Any) -> None:
    for group in optimizer.param_groups:
        group["base_lr"] = group["lr"]
        group["lr"] = group["lr"] * group.get("lr_scale", 1.0)


def _scaled_lr_post_hook(optimizer: torch.optim.Optimizer, *_: Any) -> None:
    for group in optimizer.param_groups:
        group["lr"] = group.pop("base_lr", group["lr"])


def _optimizers(policy: nn.Module) -> list[tuple[nn.Module, str]]:
    """``(owner, attribute)`` of every optimizer SB3 keeps on the policy or its parts."""
    return [
        (m, "optimizer")
        for m in policy.modules()
        if isinstance(getattr(m, "optimizer", None), torch.optim.Optimizer)
    ]


class _BackbonePolicyMixin:
    """The three changes of the module docstring, for any SB3 policy class."""

    backbone_lr_scale: float

    def __init__(self, *args: Any, backbone_lr_scale: float = 1.0, **kwargs: Any) -> None:
        if not backbone_lr_scale >= 0:
            raise ValueError(f"backbone_lr_scale must be >= 0, got {backbone_lr_scale!r}")
        object.__setattr__(self, "backbone_lr_scale", float(backbone_lr_scale))
        kwargs.setdefault("features_extractor_class", BackboneExtractor)
        kwargs.setdefault("normalize_images", False)
        super().__init__(*args, **kwargs)

    def _build(self, *args: Any, **kwargs: Any) -> None:
        super()._build(*args, **kwargs)  # type: ignore[misc]
        assert isinstance(self, nn.Module)
        for extractor in backbone_extractors(self):
            extractor.restore_initial_backbone()
        if self.backbone_lr_scale != 1.0:
            self._split_optimizers()

    def _split_optimizers(self) -> None:
        assert isinstance(self, nn.Module)
        backbone = {id(p) for e in backbone_extractors(self) for p in e.backbone_parameters()}
        for owner, attribute in _optimizers(self):
            old: torch.optim.Optimizer = getattr(owner, attribute)
            params = [p for g in old.param_groups for p in g["params"]]
            groups = [
                {"params": [p for p in params if id(p) not in backbone], "lr_scale": 1.0},
                {
                    "params": [p for p in params if id(p) in backbone],
                    "lr_scale": self.backbone_lr_scale,
                },
            ]
            defaults = {k: v for k, v in old.defaults.items() if k != "params"}
            new = type(old)([g for g in groups if g["params"]], **defaults)
            new.register_step_pre_hook(_scaled_lr_pre_hook)
            new.register_step_post_hook(_scaled_lr_post_hook)
            setattr(owner, attribute, new)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data: dict[str, Any] = super()._get_constructor_parameters()  # type: ignore[misc]
        data["backbone_lr_scale"] = self.backbone_lr_scale
        return data


class BackbonePPOPolicy(_BackbonePolicyMixin, ActorCriticPolicy):
    """``ActorCriticPolicy`` (PPO, A2C) on a :class:`BackboneExtractor`.

    Its extractors get the observations as stored, uint8 frames included, instead of
    SB3's float copy: a shift-augmenting extractor shifts the uint8 frames and then
    converts them once (a PPO minibatch of 256 frames of 64x64 on one CPU thread:
    shift and conversion 1.6 ms instead of 5 ms).
    """

    def extract_features(  # type: ignore[override]
        self, obs: PyTorchObs, features_extractor: BaseFeaturesExtractor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if self.share_features_extractor:
            extractor = (
                self.features_extractor if features_extractor is None else features_extractor
            )
            return self._features(obs, extractor)
        if features_extractor is not None:
            warnings.warn(
                "features_extractor is ignored: this policy's actor and critic each have "
                "an extractor of their own (share_features_extractor=False)",
                UserWarning,
                stacklevel=2,
            )
        return self._features(obs, self.pi_features_extractor), self._features(
            obs, self.vf_features_extractor
        )

    # SB3 builds a torch ``Categorical`` per call, which validates its arguments and
    # normalises the logits through lazy properties: 0.12 ms of a 0.87 ms rollout step
    # (batch 8, rlkit-cnn-lite, one thread) against 0.02 ms for the same quantities
    # written out. Discrete actions take the written-out path below; its samples, log
    # probabilities and entropies are Categorical's to float rounding (the tests
    # compare them).
    def forward(
        self, obs: torch.Tensor, deterministic: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if not self._plain_categorical:
            return super().forward(obs, deterministic)
        latent_pi, latent_vf = self._latents(obs)
        values = self.value_net(latent_vf)
        logits, probs = _normalised(self.action_net(latent_pi))
        if deterministic:
            actions = probs.argmax(dim=-1)
        else:
            actions = torch.multinomial(probs, 1, True).view(-1)
        log_prob = logits.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        return actions.reshape((-1, *self.action_space.shape)), values, log_prob  # type: ignore[misc]

    def evaluate_actions(
        self, obs: PyTorchObs, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        if not self._plain_categorical:
            return super().evaluate_actions(obs, actions)
        latent_pi, latent_vf = self._latents(obs)
        logits, probs = _normalised(self.action_net(latent_pi))
        index = actions.long().unsqueeze(-1)
        index, broadcast = torch.broadcast_tensors(index, logits)
        log_prob = broadcast.gather(-1, index[..., :1]).squeeze(-1)
        values = self.value_net(latent_vf)
        finite = torch.clamp(logits, min=torch.finfo(logits.dtype).min)
        return values, log_prob, -(finite * probs).sum(-1)

    @property
    def _plain_categorical(self) -> bool:
        return isinstance(self.action_dist, CategoricalDistribution)

    def _latents(self, obs: PyTorchObs) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.extract_features(obs)
        if self.share_features_extractor:
            return cast(tuple[torch.Tensor, torch.Tensor], self.mlp_extractor(features))
        pi_features, vf_features = features
        return (
            self.mlp_extractor.forward_actor(pi_features),
            self.mlp_extractor.forward_critic(vf_features),
        )

    def _features(self, obs: PyTorchObs, extractor: BaseFeaturesExtractor) -> torch.Tensor:
        if isinstance(extractor, BackboneExtractor) and _boxes_only(self.observation_space):
            return cast(torch.Tensor, extractor(obs))
        return BasePolicy.extract_features(self, obs, extractor)


def _normalised(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log-probabilities, probabilities)`` of ``logits``: what ``Categorical(logits=)``
    holds, to float rounding, from one log-softmax (``Categorical`` subtracts a
    logsumexp, 4x slower on a batch of 8)."""
    log_probs = torch.log_softmax(logits, dim=-1)
    return log_probs, log_probs.exp()


def _boxes_only(space: gym.Space[Any]) -> bool:
    """Whether SB3 would only convert these observations to float (no one-hot codes)."""
    if isinstance(space, gym.spaces.Dict):
        return all(isinstance(s, gym.spaces.Box) for s in space.spaces.values())
    return isinstance(space, gym.spaces.Box)


class BackboneDQNPolicy(_BackbonePolicyMixin, DQNPolicy):
    """``DQNPolicy`` on a :class:`BackboneExtractor`."""


class BackboneSACPolicy(_BackbonePolicyMixin, SACPolicy):
    """``SACPolicy`` on a :class:`BackboneExtractor` (Dict observations for HER work)."""


#: The policy class for each algorithm name.
POLICIES: dict[str, type[BasePolicy]] = {
    "ppo": BackbonePPOPolicy,
    "dqn": BackboneDQNPolicy,
    "sac": BackboneSACPolicy,
}


def policy_snapshot(policy: BasePolicy) -> BasePolicy:
    """A copy of an SB3 policy, to act with while the original trains on.

    Rebuilt from the policy's constructor parameters and loaded with its
    ``state_dict`` (SB3's own save/load path), in evaluation mode on the same device.
    ``copy.deepcopy`` refuses a policy mid-training: its action distribution keeps the
    last batch's distribution, a tensor inside the autograd graph.

    Examples
    --------
    >>> import gymnasium as gym
    >>> from stable_baselines3.common.policies import ActorCriticPolicy
    >>> box = gym.spaces.Box(-1, 1, (3,))
    >>> policy = ActorCriticPolicy(box, gym.spaces.Discrete(2), lambda _: 1e-3)
    >>> clone = policy_snapshot(policy)
    >>> clone is not policy, all(torch.equal(a, b) for a, b in
    ...     zip(clone.state_dict().values(), policy.state_dict().values()))
    (True, True)
    """
    clone = type(policy)(**policy._get_constructor_parameters())
    clone.load_state_dict(policy.state_dict())
    clone.set_training_mode(False)
    return clone.to(policy.device)
