"""The states a teacher labels for its student, and the student's size.

:func:`teacher_rollouts` plays episodes (the teacher's, or DAgger's mixture of teacher
and student) and labels every visited state with the teacher's whole action
distribution (:meth:`~rlkit.deep.teacher.Teacher.targets`); :class:`TeacherData`
aggregates them over rounds. :func:`~rlkit.deep.distill.distil_teacher` runs the rounds.

The teacher may observe something other than the student's pixels (a state-based SAC
+ HER teacher on ArmReach ``obs="dict"``): :class:`PairedEnv` steps two copies of the
env, one per observation, reset with the same seed and sent the same actions, and checks
after every step that they agree (reward, end, success), so they show one episode.
rlkit's envs draw their episode from the seed alone, whatever they observe.

The student's size is one of :data:`STUDENT_SIZES` (:func:`student_encoder`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from rlkit.deep.demos import Demos, play_labelled
from rlkit.deep.teacher import Teacher, space_fits

if TYPE_CHECKING:
    from rlkit.backbones import ConvEncoder

__all__ = [
    "STUDENT_SIZES",
    "PairedEnv",
    "TeacherData",
    "student_encoder",
    "teacher_env_kwargs",
    "teacher_rollouts",
]

#: Student sizes: ``"same"`` is the DAgger student (the ``backbone`` argument, 128
#: features, two 64-unit layers per head); the others are smaller CNNs from scratch
#: (:class:`~rlkit.backbones.ConvEncoder` arguments) with one hidden layer per head.
STUDENT_SIZES: dict[str, dict[str, Any] | None] = {
    "same": None,
    "small": {
        "encoder": {"features_dim": 32, "channels": [8, 16, 16], "strides": [4, 2, 1],
                    "kernels": [4, 3, 3], "layout_channels": 8, "layout_grid": 4},
        "net_arch": {"pi": [64], "vf": [64]},
    },
    "tiny": {
        "encoder": {"features_dim": 16, "channels": [4, 8, 8], "strides": [4, 2, 1],
                    "kernels": [4, 3, 3], "layout_channels": 4, "layout_grid": 4},
        "net_arch": {"pi": [32], "vf": [32]},
    },
}  # fmt: skip

#: Observation modes tried, in order, for a teacher that does not read the student's.
_OBS_MODES = ("pixels", "dict", "flat", "coords", "symbolic", "index")


def student_encoder(size: str, seed: int) -> ConvEncoder | None:
    """The encoder of a :data:`STUDENT_SIZES` entry (None for ``"same"``).

    Raises
    ------
    ValueError
        For an unknown ``size``.
    """
    if size not in STUDENT_SIZES:
        raise ValueError(f"student_size must be one of {list(STUDENT_SIZES)}, got {size!r}")
    preset = STUDENT_SIZES[size]
    if preset is None:
        return None
    from rlkit.backbones import seeded_encoder

    return seeded_encoder(seed, **preset["encoder"])


def teacher_env_kwargs(
    env_id: str, env_kwargs: dict[str, Any], teacher: Teacher, given: dict[str, Any] | None
) -> dict[str, Any]:
    """The env keyword arguments whose observations the teacher reads.

    ``given`` if not None (checked); else the student's ``env_kwargs`` when the teacher
    reads them, else the first ``obs=`` mode of ``pixels, dict, flat, coords, symbolic,
    index`` whose observation space fits the teacher's (:func:`space_fits`).

    Raises
    ------
    ValueError
        If no observation of ``env_id`` fits the teacher, or its actions differ from the
        env's.
    """
    from rlkit.evaluation.evaluate import make_env

    wanted = teacher.observation_space
    candidates = [given] if given is not None else [env_kwargs]
    if given is None:
        candidates += [{**env_kwargs, "obs": mode} for mode in _OBS_MODES]
    seen = []
    for kwargs in candidates:
        try:
            env = make_env(env_id, kwargs)
        except (ValueError, TypeError, gym.error.Error):
            continue
        space, actions = env.observation_space, env.action_space
        env.close()
        if not space_fits(teacher.action_space, actions):
            raise ValueError(
                f"the teacher acts in {teacher.action_space} but {env_id!r} in {actions}: "
                "distil a teacher trained on this env (same action space)"
            )
        if space_fits(wanted, space):
            return dict(kwargs)
        seen.append(f"{kwargs.get('obs')!r}: {space}")
    raise ValueError(
        f"the teacher observes {wanted}, which no observation of {env_id!r} fits "
        f"({'; '.join(seen) or 'none could be made'}): pass teacher_env_kwargs "
        "(--teacher-env-kwarg) that make the env the teacher was trained on"
    )


class PairedEnv:
    """The student's env and, when the teacher observes something else, the teacher's,
    stepped together (see the module docstring).

    Parameters
    ----------
    env_id : str
        The env.
    student_kwargs, teacher_kwargs : dict
        Keyword arguments of each copy; one env serves both when they are equal.
    """

    def __init__(
        self, env_id: str, student_kwargs: dict[str, Any], teacher_kwargs: dict[str, Any]
    ) -> None:
        from rlkit.evaluation.evaluate import make_env

        self.student = make_env(env_id, student_kwargs)
        same = teacher_kwargs == student_kwargs
        self.teacher = None if same else make_env(env_id, teacher_kwargs)

    @property
    def action_space(self) -> gym.Space[Any]:
        """The actions both copies take."""
        return self.student.action_space

    def reset(self, seed: int) -> tuple[Any, Any, dict[str, Any]]:
        """``(student obs, teacher obs, info)`` of the episode of ``seed``."""
        obs, info = self.student.reset(seed=seed)
        if self.teacher is None:
            return obs, obs, info
        teacher_obs, _ = self.teacher.reset(seed=seed)
        return obs, teacher_obs, info

    def step(self, action: Any) -> tuple[Any, Any, float, bool, bool, dict[str, Any]]:
        """``(student obs, teacher obs, reward, terminated, truncated, info)``.

        Raises
        ------
        RuntimeError
            If the two copies disagree on the reward, the end or the success.
        """
        obs, reward, terminated, truncated, info = self.student.step(action)
        if self.teacher is None:
            return obs, obs, float(reward), terminated, truncated, info
        teacher_obs, t_reward, t_terminated, t_truncated, t_info = self.teacher.step(action)
        mine = (float(reward), terminated, truncated, info.get("is_success"))
        theirs = (float(t_reward), t_terminated, t_truncated, t_info.get("is_success"))
        if mine != theirs:
            raise RuntimeError(
                f"the student's and the teacher's envs diverged ({mine} != {theirs}): the env "
                "must draw its episodes from the reset seed alone, whatever it observes"
            )
        return obs, teacher_obs, float(reward), terminated, truncated, info

    def close(self) -> None:
        """Close both copies."""
        self.student.close()
        if self.teacher is not None:
            self.teacher.close()


def _batch(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: np.asarray(v)[None] for k, v in obs.items()}
    return np.asarray(obs)[None]


def teacher_rollouts(
    env: PairedEnv,
    teacher: Teacher,
    seeds: Sequence[int],
    choose: Callable[[Any, Any], Any] | None = None,
    stop_on_repeat: int | None = None,
) -> tuple[Demos, NDArray[np.float32]]:
    """One episode per reset seed, every state labelled by the teacher.

    Returns the student's observations with the teacher's greedy actions as
    :class:`~rlkit.deep.demos.Demos` and the teacher's ``targets`` rows beside them.
    ``choose(student obs, teacher action)`` picks the action taken (the teacher's by
    default); ``stop_on_repeat`` as in :func:`~rlkit.deep.demos.labelled_rollouts`.
    """
    teacher_obs: list[Any] = [None]  # what the teacher sees of the state last returned
    targets: list[NDArray[np.float32]] = []

    def reset(seed: int) -> tuple[Any, dict[str, Any]]:
        obs, teacher_obs[0], info = env.reset(seed)
        return obs, info

    def step(action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, teacher_obs[0], reward, terminated, truncated, info = env.step(action)
        return obs, reward, terminated, truncated, info

    def label() -> Any:
        row = teacher.targets(_batch(teacher_obs[0]))
        targets.append(row[0])
        return teacher.greedy(row)[0]

    space = env.student.observation_space
    demos = play_labelled(
        reset, step, label, space, env.action_space, seeds, choose, stop_on_repeat
    )
    return demos, np.stack(targets).astype(np.float32)


@dataclass
class TeacherData:
    """Every labelled state so far: the student's rows and the teacher's targets."""

    demos: Demos
    targets: NDArray[np.float32]
    sizes: list[int] = field(default_factory=list)
    betas: list[float] = field(default_factory=list)

    def add(self, demos: Demos, targets: NDArray[np.float32], beta: float) -> None:
        """Aggregate a round's rollouts (DAgger's dataset aggregation)."""
        self.demos = Demos.concatenate([self.demos, demos])
        self.targets = np.concatenate([self.targets, targets])
        self.sizes.append(len(self.demos))
        self.betas.append(beta)
