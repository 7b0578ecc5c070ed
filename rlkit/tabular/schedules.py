"""Schedules for the exploration rate and the learning rate.

A schedule is a small object with ``__call__(step) -> value``, where ``step`` counts the
environment steps of the current :meth:`~rlkit.tabular.TabularLearner.learn` call. Each
schedule has a string form that :func:`parse_schedule` reads back, so the command line,
save files and configs all use the same spelling::

    0.1                      constant
    constant(0.1)            constant
    linear(1.0,0.05,0.5)     from 1.0 to 0.05 over the first half of training, then 0.05
    linear(1.0,0.05,20000)   the same over the first 20000 steps
    exp(1.0,0.01,0.8)        geometric decay from 1.0 to 0.01 over 80 % of training

The third argument of ``linear`` and ``exp`` is the decay duration: a value ``<= 1`` is a
fraction of the training budget (``learn(total_steps=...)``), a value ``> 1`` a number of
steps. A fractional schedule must be bound to a budget with :meth:`Schedule.resolve`
before it can be evaluated; the learners do that at the start of ``learn``.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
from abc import ABC, abstractmethod
from typing import TypeAlias

__all__ = [
    "ConstantSchedule",
    "ExponentialSchedule",
    "LinearSchedule",
    "Schedule",
    "ScheduleLike",
    "as_schedule",
    "parse_schedule",
]


class Schedule(ABC):
    """A value that changes with the training step (exploration rate, learning rate)."""

    @abstractmethod
    def __call__(self, step: int) -> float:
        """The value at ``step`` (environment steps since the start of ``learn``)."""

    @abstractmethod
    def __str__(self) -> str:
        """The spelling :func:`parse_schedule` reads back into an equal schedule."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))

    @property
    def needs_horizon(self) -> bool:
        """Whether the duration is a fraction of a training budget not yet given."""
        return False

    def resolve(self, horizon: int | None) -> Schedule:
        """This schedule with a fractional duration turned into steps of ``horizon``.

        Parameters
        ----------
        horizon : int or None
            The training budget in steps; ``None`` when training is budgeted in episodes.

        Raises
        ------
        ValueError
            If the duration is a fraction and ``horizon`` is ``None``.
        """
        return self

    def values(self) -> tuple[float, ...]:
        """Every value the schedule takes (its end points), for range checks."""
        return (self(0),)


class ConstantSchedule(Schedule):
    """The same value at every step.

    Examples
    --------
    >>> ConstantSchedule(0.1)(1000)
    0.1
    """

    def __init__(self, value: float) -> None:
        self.value = _finite(value, "value")

    def __call__(self, step: int) -> float:
        return self.value

    def __str__(self) -> str:
        return f"constant({self.value!r})"


class _DecaySchedule(Schedule):
    """From ``start`` to ``end`` over ``duration`` (steps, or fraction when <= 1)."""

    name: str = ""

    def __init__(self, start: float, end: float, duration: float) -> None:
        self.start = _finite(start, "start")
        self.end = _finite(end, "end")
        duration = _finite(duration, "duration")
        if duration <= 0:
            raise ValueError(
                f"duration must be > 0 (a fraction of training <= 1, or steps > 1), "
                f"got {duration!r}"
            )
        self.duration = duration
        self._steps = duration if duration > 1 else None

    def __str__(self) -> str:
        duration = int(self.duration) if self.duration.is_integer() else self.duration
        return f"{self.name}({self.start!r},{self.end!r},{duration!r})"

    @property
    def needs_horizon(self) -> bool:
        return self._steps is None

    def resolve(self, horizon: int | None) -> Schedule:
        if self._steps is not None:
            return self
        if horizon is None:
            raise ValueError(
                f"schedule {self} decays over a fraction of training, which needs a step "
                f"budget: call learn(total_steps=...), or give the duration in steps, "
                f"e.g. {self.name}({self.start!r},{self.end!r},10000)"
            )
        resolved = copy.copy(self)
        resolved._steps = max(self.duration * horizon, 1.0)
        return resolved

    def values(self) -> tuple[float, ...]:
        return (self.start, self.end)

    def _progress(self, step: int) -> float:
        if self._steps is None:
            raise ValueError(f"schedule {self} is fractional; call resolve(total_steps) first")
        return min(step / self._steps, 1.0)


class LinearSchedule(_DecaySchedule):
    """Linear interpolation from ``start`` to ``end``, then constant at ``end``.

    Parameters
    ----------
    start, end : float
        Values at step 0 and at the end of the decay.
    duration : float
        Length of the decay: a fraction of training when ``<= 1``, steps when ``> 1``.

    Examples
    --------
    >>> eps = LinearSchedule(1.0, 0.1, 100)
    >>> eps(0), eps(50), eps(100), eps(10_000)
    (1.0, 0.55, 0.1, 0.1)
    >>> LinearSchedule(1.0, 0.0, 0.5).resolve(1000)(250)
    0.5
    """

    name = "linear"

    def __call__(self, step: int) -> float:
        return self.start + (self.end - self.start) * self._progress(step)


class ExponentialSchedule(_DecaySchedule):
    """Geometric decay from ``start`` to ``end`` (both > 0), then constant at ``end``.

    The value is multiplied by the same factor every step, reaching ``end`` exactly at
    the end of the decay.

    Parameters
    ----------
    start, end : float
        Values at step 0 and at the end of the decay; both must be positive.
    duration : float
        Length of the decay: a fraction of training when ``<= 1``, steps when ``> 1``.

    Examples
    --------
    >>> eps = ExponentialSchedule(1.0, 0.01, 100)
    >>> round(eps(50), 6), eps(100), eps(500)
    (0.1, 0.01, 0.01)
    """

    name = "exp"

    def __init__(self, start: float, end: float, duration: float) -> None:
        super().__init__(start, end, duration)
        if self.start <= 0 or self.end <= 0:
            raise ValueError(
                f"exponential schedule needs start > 0 and end > 0, got start={self.start!r}, "
                f"end={self.end!r}; use linear(...) to decay to 0"
            )

    def __call__(self, step: int) -> float:
        progress = self._progress(step)
        if progress >= 1.0:
            return self.end
        return self.start * (self.end / self.start) ** progress


#: What learners accept for a rate: a number, a schedule string, or a :class:`Schedule`.
ScheduleLike: TypeAlias = "float | str | Schedule"

_CALL = re.compile(r"^\s*([A-Za-z_]+)\s*\((.*)\)\s*$")
_KINDS: dict[str, type[_DecaySchedule]] = {
    "linear": LinearSchedule,
    "exp": ExponentialSchedule,
    "exponential": ExponentialSchedule,
}


def parse_schedule(text: str) -> Schedule:
    """Read a schedule from its string form.

    Parameters
    ----------
    text : str
        ``"0.1"``, ``"constant(0.1)"``, ``"linear(start,end,duration)"`` or
        ``"exp(start,end,duration)"`` (also ``"exponential(...)"``); a duration ``<= 1`` is
        a fraction of training, ``> 1`` a number of steps.

    Returns
    -------
    Schedule

    Raises
    ------
    ValueError
        If the text is not one of the forms above.

    Examples
    --------
    >>> parse_schedule("linear(1.0,0.05,0.5)")
    LinearSchedule('linear(1.0,0.05,0.5)')
    >>> parse_schedule("0.1")(123)
    0.1
    >>> parse_schedule(str(ExponentialSchedule(1.0, 0.1, 500)))
    ExponentialSchedule('exp(1.0,0.1,500)')
    """
    if not isinstance(text, str):
        raise ValueError(f"schedule must be a string, got {type(text).__name__}")
    forms = "a number, constant(v), linear(start,end,duration) or exp(start,end,duration)"
    try:
        return ConstantSchedule(float(text))
    except ValueError:
        pass
    match = _CALL.match(text)
    if match is None:
        raise ValueError(f"cannot parse schedule {text!r}: expected {forms}")
    kind, arguments = match.group(1).lower(), match.group(2)
    try:
        numbers = [float(part) for part in arguments.split(",")]
    except ValueError:
        raise ValueError(
            f"cannot parse schedule {text!r}: arguments must be numbers, expected {forms}"
        ) from None
    if kind == "constant" and len(numbers) == 1:
        return ConstantSchedule(numbers[0])
    if kind in _KINDS and len(numbers) == 3:
        try:
            return _KINDS[kind](*numbers)
        except ValueError as error:
            raise ValueError(f"cannot parse schedule {text!r}: {error}") from None
    raise ValueError(f"cannot parse schedule {text!r}: expected {forms}")


def as_schedule(
    value: ScheduleLike,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_inclusive: bool = True,
) -> Schedule:
    """Turn a number, string or schedule into a :class:`Schedule`, checking its range.

    Parameters
    ----------
    value : float, str or Schedule
        What the user passed.
    name : str
        The argument's name, for error messages.
    low, high : float
        Bounds every value of the schedule must respect (``high`` inclusive).
    low_inclusive : bool
        Whether ``low`` itself is allowed.

    Raises
    ------
    ValueError
        Naming ``name``, if the value cannot be read or leaves the range.

    Examples
    --------
    >>> as_schedule(0.5, "epsilon", low=0.0, high=1.0)
    ConstantSchedule('constant(0.5)')
    """
    if isinstance(value, Schedule):
        schedule = value
    elif isinstance(value, str):
        try:
            schedule = parse_schedule(value)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            schedule = ConstantSchedule(float(value))
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    else:
        raise ValueError(
            f"{name} must be a number, a schedule string such as 'linear(1.0,0.05,0.5)' "
            f"or a Schedule, got {type(value).__name__}"
        )
    for v in schedule.values():
        too_low = v < low or (v == low and not low_inclusive)
        if too_low or v > high:
            bracket = "[" if low_inclusive else "("
            raise ValueError(
                f"{name} must stay in {bracket}{low}, {high}], but {schedule} reaches {v!r}"
            )
    return schedule


def _finite(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)
