"""Per-round checkpoints of distillation, so a killed DAgger run loses at most one round.

With a checkpoint folder (``rlkit distill`` uses ``OUT/rounds``), after each round's
training::

    rounds/data_<r>.pt     the labelled states round r added to the dataset
    rounds/state_<r>.pt    the student's weights, the optimizer, the minibatch generator,
                           the expert-or-student coins and torch's RNG (augmentation),
                           the losses, the run's config and the sha256 of every data file

each written atomically (``torch.save``; read back with ``weights_only=True``, no code
runs); the latest two states are kept. Resuming restores all of it, so the rounds after
are the very rounds an uninterrupted run would play: on CPU the resumed run ends with
the same weights. Only ``callback`` of the rounds done before the kill is not called
again.

A state or data file that cannot be read, or a data file whose sha256 differs from its
state's record, is never trusted: it is moved aside (``*.corrupt``) with a
``RuntimeWarning`` naming it and the state before is used (or the run starts afresh).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rlkit.backbones.store import load_tensors
from rlkit.deep.demos import Demos
from rlkit.evaluation.atomic import atomic_output

if TYPE_CHECKING:
    from stable_baselines3 import PPO

__all__ = ["RESUMABLE", "RoundCheckpoints", "RoundState"]

#: Config keys a resumed run may change: more (or fewer) DAgger rounds.
RESUMABLE = frozenset({"iterations"})
_STATE = re.compile(r"state_(\d+)\.pt")
_KEEP = 2  # states kept: the latest, and one to fall back on


@dataclass
class RoundState:
    """The training state after a round: what :func:`~rlkit.deep.rounds.run_rounds`
    carries from round to round besides the data."""

    round: int  #: the round just finished (0: behaviour cloning on the demos)
    losses: list[float]  #: every epoch's loss so far
    updates: int  #: gradient steps so far
    policy: dict[str, torch.Tensor]  #: the student's ``policy.state_dict()``
    optimizer: dict[str, Any]  #: the optimizer's ``state_dict()``
    generator: torch.Tensor  #: the minibatch order's generator state
    coins: dict[str, Any]  #: the expert-or-student coins' ``bit_generator.state``
    torch_rng: torch.Tensor  #: torch's global RNG (random-shift augmentation)

    @classmethod
    def capture(
        cls,
        round_: int,
        model: PPO,
        optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
        coins: np.random.Generator,
        losses: list[float],
        updates: int,
    ) -> RoundState:
        """The state of a run after round ``round_``."""
        policy = {k: v.detach().cpu().clone() for k, v in model.policy.state_dict().items()}
        return cls(
            round_, list(losses), updates, policy, optimizer.state_dict(),
            generator.get_state(), dict(coins.bit_generator.state), torch.get_rng_state(),
        )  # fmt: skip

    def apply(
        self,
        model: PPO,
        optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
        coins: np.random.Generator,
    ) -> None:
        """Put this state into a run's freshly made objects."""
        model.policy.load_state_dict(self.policy, strict=True)
        optimizer.load_state_dict(self.optimizer)
        generator.set_state(self.generator)
        coins.bit_generator.state = self.coins
        torch.set_rng_state(self.torch_rng)


class RoundCheckpoints:
    """The checkpoint folder of one distillation run (see the module's docstring)."""

    def __init__(self, folder: Path, config: Mapping[str, Any]) -> None:
        self.folder, self.config = folder, json.loads(json.dumps(config, default=str))
        self._hashes: dict[str, str] = {}  # sha256 of each data file written or checked

    @classmethod
    def open(cls, folder: Path, config: Mapping[str, Any], *, resume: bool) -> RoundCheckpoints:
        """The checkpoints of the run ``config`` in ``folder``.

        Raises
        ------
        ValueError
            Without ``resume``, where ``folder`` holds an interrupted run's states.
        """
        store = cls(Path(folder), config)
        if not resume and store._states():
            raise ValueError(
                f"{store.folder} holds the checkpoints of an interrupted run: pass "
                "resume=True (rlkit distill --resume) to continue it, or delete the folder "
                "(or choose another --out) to start afresh"
            )
        return store

    @staticmethod
    def finished(out: Path) -> bool:
        """Whether ``out`` holds a finished ``rlkit distill`` run: its ``config.json``
        (written last) and no round state left in ``out/rounds``."""
        states = RoundCheckpoints(out / "rounds", {})._states()
        return (out / "config.json").is_file() and not states

    def _states(self) -> list[tuple[int, Path]]:
        """``(round, path)`` of every state file, newest first."""
        found = [
            (int(m[1]), p)
            for p in self.folder.glob("state_*.pt")
            if (m := _STATE.fullmatch(p.name))
        ]
        return sorted(found, reverse=True)

    def save(self, state: RoundState, parts: list[Demos]) -> None:
        """Write round ``state.round``'s data (``parts[-1]``) and ``state``; drop states
        older than the last :data:`_KEEP`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = self.folder / f"data_{state.round}.pt"
        with atomic_output(data) as tmp:
            torch.save(_demos_tensors(parts[-1]), tmp)
        self._hashes[data.name] = _sha256(data)
        record = {
            **{f.name: getattr(state, f.name) for f in dataclasses.fields(RoundState)},
            "config": json.dumps(self.config),
            "data": {f"data_{r}.pt": self._hashes[f"data_{r}.pt"] for r in range(len(parts))},
            "rows": [len(p) for p in parts],
        }
        with atomic_output(self.folder / f"state_{state.round}.pt") as tmp:
            torch.save(record, tmp)
        for _, old in self._states()[_KEEP:]:
            old.unlink(missing_ok=True)

    def restore(self) -> tuple[RoundState, list[Demos]] | None:
        """The newest good state and the data it trained on (one :class:`Demos` per
        round), or None where there is none (a ``RuntimeWarning`` names each damaged
        file, moved aside).

        Raises
        ------
        ValueError
            Where the run's config differs from this one's in more than the number of
            ``iterations``.
        """
        for _, path in self._states():
            try:
                record = _load(path)
                self._check_config(json.loads(record["config"]), path)
                names = [f"data_{r}.pt" for r in range(int(record["round"]) + 1)]
                data = [self._data(name, record["data"][name]) for name in names]
                if [len(d) for d in data] != record["rows"]:
                    raise _Damaged(path, "its data files hold other rows than it records")
                fields = {f.name for f in dataclasses.fields(RoundState)}
                state = RoundState(**{k: v for k, v in record.items() if k in fields})
                self._hashes = dict(record["data"])
            except (_Damaged, KeyError, TypeError) as error:
                damaged = error if isinstance(error, _Damaged) else _Damaged(path, repr(error))
                damaged.set_aside()
                if damaged.path != path:  # a data file: the state built on it goes too
                    _Damaged(path, f"built on {damaged.path.name}").set_aside()
                continue
            return state, data
        return None

    def _check_config(self, recorded: Mapping[str, Any], path: Path) -> None:
        changed = sorted(
            k for k in recorded.keys() | self.config.keys()
            if recorded.get(k) != self.config.get(k) and k not in RESUMABLE
        )  # fmt: skip
        if changed:
            details = ", ".join(
                f"{k}: {recorded.get(k)!r} -> {self.config.get(k)!r}" for k in changed
            )
            raise ValueError(
                f"cannot resume from {path}: the settings differ ({details}); resume with "
                "the same ones (only the DAgger rounds may change), or choose another --out"
            )

    def _data(self, name: str, sha: str) -> Demos:
        path = self.folder / name
        if not path.exists() or _sha256(path) != sha:
            raise _Damaged(path, "missing, or its sha256 differs from the state's record")
        return _tensors_demos(_load(path), path)

    def remove(self) -> None:
        """Delete the folder's checkpoints (states first: a kill midway leaves no run)."""
        for _, path in self._states():
            path.unlink(missing_ok=True)
        for path in self.folder.glob("data_*.pt"):
            path.unlink(missing_ok=True)
        for path in self.folder.glob(".*.pt.*"):  # a killed writer's temporary files
            path.unlink(missing_ok=True)
        if self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()


class _Damaged(Exception):
    """A checkpoint file that must not be used."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem

    def set_aside(self) -> None:
        """Rename the file to ``<name>.corrupt`` (kept for a look, never read again)
        and warn, naming it."""
        aside = self.path.with_name(self.path.name + ".corrupt")
        moved = f"moved aside to {aside.name}" if self.path.exists() else "missing"
        if self.path.exists():
            self.path.replace(aside)
        warnings.warn(
            f"{self.path} is damaged ({self.problem}): {moved}; resuming from the round "
            "before (or afresh)",
            RuntimeWarning,
            stacklevel=5,  # the caller of dagger / behaviour_cloning
        )


def _load(path: Path) -> dict[str, Any]:
    try:
        loaded = load_tensors(path)
    except ValueError as error:
        raise _Damaged(path, str(error).removeprefix(f"{path} is damaged ")) from None
    if not isinstance(loaded, dict):
        raise _Damaged(path, "not an rlkit distillation checkpoint")
    return loaded


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _demos_tensors(demos: Demos) -> dict[str, Any]:
    """The arrays of ``demos`` as tensors (``weights_only`` loads tensors, not arrays)."""
    result: dict[str, Any] = {}
    for field in dataclasses.fields(Demos):
        value = getattr(demos, field.name)
        if value is None:  # an optional field (positions)
            result[field.name] = None
        elif isinstance(value, dict):
            result[field.name] = {k: torch.from_numpy(np.array(v)) for k, v in value.items()}
        else:
            result[field.name] = torch.from_numpy(np.array(value))
    return result


def _array(saved: Mapping[str, Any], name: str, *, optional: bool) -> Any:
    """Field ``name`` of saved round data as numpy; None for an optional field saved as
    None or missing (data of rounds written before the field existed)."""
    value = saved.get(name) if optional else saved[name]
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: v.numpy() for k, v in value.items()}
    return value.numpy()


def _tensors_demos(saved: Mapping[str, Any], path: Path) -> Demos:
    try:
        arrays: dict[str, Any] = {
            field.name: _array(saved, field.name, optional=field.default is None)
            for field in dataclasses.fields(Demos)
        }
    except (KeyError, AttributeError) as error:
        raise _Damaged(path, f"not a round's data ({type(error).__name__}: {error})") from None
    return Demos(**arrays)
