"""Transfer across tasks: start a target-task student from a source-task pixel policy.

A policy trained on one task (the *source*: four-rooms GridNav, a 2-link arm) carries
two things another task (the *target*: a maze, a 3-link arm) may reuse: its perception
(the backbone CNN of its :class:`~rlkit.deep.extractor.BackboneExtractor`) and, where
the action spaces match, its policy and value heads. The classic recipe -- initialise
from a network trained on a related task, then fine-tune on the target -- is that of
Yosinski et al. 2014 ("How transferable are features in deep neural networks?") and, for
policies, of Rusu et al. 2016 ("Policy distillation"; "Progressive neural networks").

- :func:`export_backbone`: the source policy's encoder as a backbone ``.pt`` file (and
  its model card), which ``behaviour_cloning(..., backbone=path)``, ``dagger(...)`` and
  :func:`rlkit.deep.train` accept like a shipped backbone. LoRA adapters are folded in.
- :func:`init_from`: copy every parameter of a source policy whose name and shape match
  into a fresh model (the backbone always; heads where the action spaces allow), after
  checking the observations agree. Returns what was copied and what was not.
- :func:`~rlkit.deep.transfer_training.fine_tune`: behaviour cloning or DAgger on the
  target from ``init="source"`` (:func:`init_from`), ``"pretrained"`` (the shipped
  backbone, fresh heads) or ``"scratch"`` (random init), the three rows of the transfer
  matrix of ``benchmarks/transfer.py``.

Source policies are stable-baselines3 models (PPO for the heads; any algorithm for the
backbone) or their ``.zip`` files. Loading a ``.zip`` unpickles it, which executes code
from the file: only load files you trust. Backbone files are read back with
``torch.load(weights_only=True)``.

Examples
--------
>>> import tempfile, pathlib, torch; torch.set_num_threads(1)
>>> from rlkit.backbones import load_backbone
>>> from rlkit.deep.distill import behaviour_cloning
>>> tiny = {"layout": "empty", "size": 4}
>>> source = behaviour_cloning("rlkit/GridNav-v0", 2, epochs=1, env_kwargs=tiny,
...                            ppo_kwargs={"n_steps": 16, "batch_size": 16}).model
>>> folder = tempfile.TemporaryDirectory()
>>> path = pathlib.Path(folder.name) / "source.pt"
>>> card = export_backbone(source, path)
>>> load_backbone(path).features_dim, card["transfer"]["source_env"]
(128, 'rlkit/GridNav-v0')
>>> fresh = behaviour_cloning("rlkit/GridNav-v0", 2, epochs=1, seed=1, env_kwargs=tiny,
...                           ppo_kwargs={"n_steps": 16, "batch_size": 16}).model
>>> len(init_from(fresh, source, strict=True).copied) > 0
True
>>> folder.cleanup()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import gymnasium as gym
import torch

from rlkit.backbones import ConvEncoder
from rlkit.backbones.store import save_backbone
from rlkit.deep.extractor import BackboneExtractor
from rlkit.deep.lora import merge_lora

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

__all__ = [
    "INITS",
    "Init",
    "Transferred",
    "export_backbone",
    "init_from",
    "load_source",
    "source_encoder",
]

Init = Literal["source", "pretrained", "scratch"]
#: Where :func:`~rlkit.deep.transfer_training.fine_tune` starts the target student from.
INITS: tuple[str, ...] = ("source", "pretrained", "scratch")


@dataclass(frozen=True)
class Transferred:
    """What :func:`init_from` copied.

    Attributes
    ----------
    copied : list of str
        Names (in the target policy's ``state_dict``) of the tensors copied.
    skipped : dict
        Target tensor name -> why it kept its own init (absent from the source, or
        another shape: the action head of another action space, a new spatial head).
    backbone_missing : list of str
        Source backbone tensors that found no place in the target (empty when the whole
        source encoder was carried over).
    """

    copied: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    backbone_missing: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-able counts and the skipped names (what a result records)."""
        return {
            "copied": len(self.copied),
            "skipped": dict(self.skipped),
            "backbone_missing": list(self.backbone_missing),
        }


def load_source(source: Any) -> BaseAlgorithm:
    """The SB3 model ``source`` (returned as is) or loaded from its ``.zip`` (on the CPU;
    the algorithm is read off the file, see :meth:`rlkit.agents.SB3Agent.load`).

    Loading a ``.zip`` unpickles it, which executes code from the file: only load files
    you trust.

    Raises
    ------
    FileNotFoundError
        For a path that does not exist.
    TypeError
        For anything else than a model or a path.
    """
    from stable_baselines3.common.base_class import BaseAlgorithm

    if isinstance(source, BaseAlgorithm):
        return source
    if isinstance(source, (str, os.PathLike)):
        from rlkit.agents.sb3 import SB3Agent

        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"source policy {os.fspath(path)!r} does not exist")
        model: BaseAlgorithm = SB3Agent.load(path, device="cpu").model
        return model
    raise TypeError(
        f"source must be a stable-baselines3 model or the path of its .zip, got "
        f"{type(source).__name__}"
    )


def _extractor(model: BaseAlgorithm) -> BackboneExtractor:
    found = [m for m in model.policy.modules() if isinstance(m, BackboneExtractor)]
    if not found:
        raise TypeError(
            f"the source policy ({type(model.policy).__name__}) has no BackboneExtractor: "
            "transfer needs a pixel policy trained through rlkit.deep (rlkit train, "
            "rlkit distill), not an MlpPolicy on state observations"
        )
    return found[0]


def source_encoder(source: Any) -> ConvEncoder:
    """A plain copy of the source policy's backbone (LoRA adapters folded in), in eval
    mode: the encoder :func:`export_backbone` writes.

    Raises
    ------
    TypeError
        If the source policy has no :class:`BackboneExtractor`.
    ValueError
        If its backbone holds layers that do not fold into the plain architecture
        (bottleneck adapters are nonlinear): carry it with :func:`init_from` instead.
    """
    backbone = _extractor(load_source(source)).backbone
    merged = merge_lora(backbone)
    assert isinstance(merged, ConvEncoder)
    plain = ConvEncoder(**merged.architecture)
    try:
        plain.load_state_dict(merged.state_dict(), strict=True)
    except RuntimeError as error:
        raise ValueError(
            "the source backbone holds layers a plain backbone file cannot hold (bottleneck "
            f"adapters?): {str(error).splitlines()[0]}; carry it with init_from() instead"
        ) from None
    return plain.to(next(backbone.parameters()).device).eval()


def export_backbone(
    source: Any, path: str | os.PathLike[str], *, card: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Write the source policy's encoder as a backbone ``.pt`` file and its model card.

    The file loads with :func:`rlkit.backbones.load_backbone` (``weights_only=True``,
    sha256 checked) and wherever a backbone name is accepted:
    ``behaviour_cloning(env, backbone=path)``, ``dagger``, ``rlkit.deep.train`` and
    ``rlkit train/distill --backbone path``.

    Parameters
    ----------
    source : stable_baselines3 model or path of its ``.zip``
        A pixel policy with a :class:`BackboneExtractor` (any SB3 algorithm; the first
        extractor found, the actor's for SAC).
    path : path-like
        Where to write, ending in ``.pt``; the card goes beside it (``.json``).
    card : mapping, optional
        More fields of the model card (merged over the ``transfer`` field written here).

    Returns
    -------
    dict
        The model card written.

    Raises
    ------
    TypeError, ValueError
        As :func:`source_encoder`; ``ValueError`` for a path not ending in ``.pt``.
    """
    model = load_source(source)
    encoder = source_encoder(model)
    made_by = dict(getattr(model, "rlkit_distillation", None) or {})
    about = {
        "source_env": made_by.get("env_id"),
        "source_method": made_by.get("method", type(model).__name__.lower()),
        "source_observation_shape": list(model.observation_space.shape or ()),
    }
    return save_backbone(encoder, path, {"transfer": about, **dict(card or {})})


def _shapes(space: gym.Space[Any]) -> Any:
    if isinstance(space, gym.spaces.Dict):
        return {k: tuple(s.shape or ()) for k, s in space.spaces.items()}
    return tuple(space.shape or ())


def _check_spaces(source: BaseAlgorithm, target: BaseAlgorithm) -> None:
    """Raise ``ValueError`` when the observations differ, or the action spaces are of
    different kinds (``Discrete`` vs ``Box``)."""
    seen, wanted = _shapes(source.observation_space), _shapes(target.observation_space)
    if seen != wanted:
        raise ValueError(
            f"the source policy observes {seen} but the target env gives {wanted}: make the "
            "target env with the same observation (obs='pixels', the same pixel_size), or "
            "carry only the backbone with export_backbone() (its CNN reads any frame size)"
        )
    kinds = type(source.action_space).__name__, type(target.action_space).__name__
    if kinds[0] != kinds[1]:
        raise ValueError(
            f"the source policy acts in {source.action_space} but the target env in "
            f"{target.action_space}: heads cannot carry over between {kinds[0]} and "
            f"{kinds[1]} actions; use init='pretrained' with the backbone of "
            "export_backbone(source, path) instead"
        )


def _plain_name(name: str) -> str:
    """A backbone tensor's name without LoRA's wrapper (``trunk.0.base.weight`` ->
    ``trunk.0.weight``)."""
    return name.replace(".base.", ".")


def init_from(model: BaseAlgorithm, source: Any, *, strict: bool = False) -> Transferred:
    """Copy the source policy's parameters into ``model`` where name and shape match.

    The backbone of every :class:`BackboneExtractor` of ``model`` gets the source's
    encoder (:func:`source_encoder`: LoRA folded in; ``model``'s own LoRA adapters keep
    their init, zero change, so it starts as the source's function). Every other tensor
    of ``model.policy`` (heads, a spatial head, the log-std) is copied from the source
    policy's tensor of the same name when the shapes agree: all of them between two PPO
    policies on the same action space, all but the action head and log-std for a 2-link
    source and a 3-link target.

    Parameters
    ----------
    model : stable_baselines3 model
        The fresh target model (e.g. :func:`rlkit.deep.student.make_student`); changed
        in place.
    source : stable_baselines3 model or path of its ``.zip``
        The source policy (loading a ``.zip`` unpickles it: only files you trust).
    strict : bool, default False
        Raise unless every tensor of ``model`` but new adapters was copied.

    Returns
    -------
    Transferred

    Raises
    ------
    ValueError
        For other observation shapes, ``Discrete`` vs ``Box`` actions, or (``strict``)
        any tensor left out.
    TypeError
        For a source without a :class:`BackboneExtractor`.
    """
    loaded = load_source(source)
    _check_spaces(loaded, model)
    encoder_state = source_encoder(loaded).state_dict()
    source_state = loaded.policy.state_dict()
    prefixes = [
        f"{name}.backbone."
        # every alias: SB3 shares one extractor as features/pi/vf_features_extractor
        for name, module in model.policy.named_modules(remove_duplicate=False)
        if isinstance(module, BackboneExtractor)
    ]
    done = Transferred()
    landed: set[str] = set()
    with torch.no_grad():
        for name, tensor in model.policy.state_dict().items():
            prefix = next((p for p in prefixes if name.startswith(p)), None)
            key = name if prefix is None else _plain_name(name[len(prefix) :])
            if prefix is not None and key not in encoder_state:
                continue  # the target's own adapters: zero change at init, they keep it
            given = (source_state if prefix is None else encoder_state).get(key)
            if given is None:
                done.skipped[name] = "not in the source policy"
            elif given.shape != tensor.shape:
                done.skipped[name] = f"shape {tuple(given.shape)} in the source"
            else:
                tensor.copy_(given.to(tensor.device))
                done.copied.append(name)
                if prefix is not None:
                    landed.add(key)
    done.backbone_missing.extend(k for k in encoder_state if k not in landed)
    left = dict(done.skipped) | {k: "no place in the target" for k in done.backbone_missing}
    if strict and left:
        raise ValueError(f"init_from(strict=True): not carried over: {left}")
    return done
