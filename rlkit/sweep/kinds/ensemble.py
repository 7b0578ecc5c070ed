"""The ``ensemble`` kind: K distilled pixel policies acting as one agent.

``kwargs``: ``members`` (K, default 5), ``method`` (``bc`` or ``dagger``, default
``bc``), ``mode`` (``seeds`` or ``bagging``, default ``seeds``) and the members' own
keywords (those of :func:`rlkit.deep.distill.behaviour_cloning` or
:func:`~rlkit.deep.distill.dagger`: ``demos``, ``finetune``, ``epochs``, ...). The
members are trained by :func:`rlkit.deep.ensemble_training.train_ensemble` with the
cell's seed and act as one :class:`~rlkit.deep.ensemble.PolicyEnsemble`.

What the cell document holds besides the ensemble's records:

- ``train.eval_curve``: every member evaluated as a checkpoint (``x`` = member index,
  ``curve_x = "ensemble member"``) on the cell's own held-out seeds and episodes, the
  very episodes the ensemble played: a report compares the ensemble with its best and
  its mean member, paired by episode start.
- ``train.info.episode_disagreement`` and ``episode_max_disagreement``: the ensemble's
  mean and largest per-step disagreement in each evaluated episode, in the order of the
  records. They are the lists of the agent's :class:`~rlkit.deep.ensemble.DisagreementLog`,
  filled while the cell evaluates the agent (the cell writes ``train.info`` after its
  evaluation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rlkit.sweep.kinds.deep import check_deep_kwargs
from rlkit.sweep.kinds.distill import register_student_kind
from rlkit.sweep.kinds.registry import TrainedAgent

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell

__all__ = ["check_ensemble_kwargs"]

#: The kind's own keywords and their defaults; the rest go to every member.
ENSEMBLE_DEFAULTS: dict[str, Any] = {"members": 5, "method": "bc", "mode": "seeds"}
#: Member arguments every ensemble cell sets itself.
_FIXED = ("env_id", "env_kwargs", "seed", "progress_bar")
_FUNCTIONS = {"bc": "behaviour_cloning", "dagger": "dagger"}
_SUMMARY = (
    "K bc or dagger students acting as one agent by mean action probability "
    "(rlkit.deep.ensemble); kwargs members, method, mode (seeds | bagging) + the members'"
)


def check_ensemble_kwargs(kwargs: dict[str, Any]) -> None:
    """Check an ensemble agent's ``kwargs`` (ValueError naming the key at fault).

    >>> check_ensemble_kwargs({"members": 3, "mode": "bagging", "demos": 50})
    >>> check_ensemble_kwargs({"members": 0})
    Traceback (most recent call last):
    ...
    ValueError: kwargs.members must be an int >= 1, got 0
    """
    options = {**ENSEMBLE_DEFAULTS, **kwargs}
    members, method, mode = options["members"], options["method"], options["mode"]
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        raise ValueError(f"kwargs.members must be an int >= 1, got {members!r}")
    if method not in _FUNCTIONS:
        raise ValueError(f"kwargs.method must be 'bc' or 'dagger', got {method!r}")
    if mode not in ("seeds", "bagging"):
        raise ValueError(f"kwargs.mode must be 'seeds' or 'bagging', got {mode!r}")
    if method == "dagger" and mode == "bagging":
        raise ValueError(
            "kwargs.mode 'bagging' resamples one demo set: use method 'bc' (DAgger "
            "members differ by seed: mode 'seeds')"
        )
    member_kwargs = {k: v for k, v in kwargs.items() if k not in ENSEMBLE_DEFAULTS}
    check_deep_kwargs(f"rlkit.deep.distill:{_FUNCTIONS[method]}", _FIXED, member_kwargs)


@register_student_kind("ensemble", check_ensemble_kwargs, _SUMMARY)
def _ensemble(cell: Cell) -> TrainedAgent:
    from rlkit.deep.ensemble_training import train_ensemble

    kwargs = dict(cell.agent.kwargs)
    own = {key: kwargs.pop(key, default) for key, default in ENSEMBLE_DEFAULTS.items()}
    result = train_ensemble(
        cell.env.id,
        own["members"],
        method=own["method"],
        mode=own["mode"],
        seed=cell.seed,
        env_kwargs=dict(cell.env.kwargs),
        **kwargs,
    )
    log = result.ensemble.log
    members = result.members
    # BC members share one demo set; DAgger members collect their own.
    episodes = members[0].expert_episodes if own["method"] == "bc" else None
    return TrainedAgent(
        result.ensemble,
        steps=sum(m.updates for m in members),
        episodes=episodes or sum(m.demos.num_episodes for m in members),
        info={
            **result.summary(),
            "disagreement": "mutual information of action and member, nats (Discrete); "
            "std of member actions (Box)",
            "episode_disagreement": log.means,
            "episode_max_disagreement": log.maxima,
        },
        checkpoints=[(index, member.model) for index, member in enumerate(members)],
        curve_x="ensemble member",
    )
