"""Schedules of rlkit.tabular: values, string forms, parsing and range checks."""

from __future__ import annotations

import pytest

from rlkit.tabular import (
    ConstantSchedule,
    ExponentialSchedule,
    LinearSchedule,
    Schedule,
    parse_schedule,
)
from rlkit.tabular.schedules import as_schedule


@pytest.mark.parametrize(
    "schedule",
    [
        ConstantSchedule(0.25),
        LinearSchedule(1.0, 0.05, 0.5),
        LinearSchedule(1.0, 0.0, 20_000),
        ExponentialSchedule(1.0, 0.01, 0.8),
        ExponentialSchedule(0.5, 0.05, 1000),
    ],
    ids=str,
)
def test_string_form_round_trips(schedule: Schedule) -> None:
    assert parse_schedule(str(schedule)) == schedule


@pytest.mark.parametrize(
    ("text", "step", "value"),
    [
        ("0.1", 10**9, 0.1),
        ("constant(0.3)", 5, 0.3),
        ("linear(1.0,0.0,100)", 0, 1.0),
        ("linear(1.0,0.0,100)", 25, 0.75),
        ("linear(1.0,0.0,100)", 100, 0.0),
        ("linear(1.0,0.0,100)", 1000, 0.0),
        ("exp(1.0,0.01,100)", 50, 0.1),
        ("exponential(1.0,0.01,100)", 200, 0.01),
        (" linear( 0.5 , 0.1 , 10 ) ", 10, 0.1),
    ],
)
def test_values(text: str, step: int, value: float) -> None:
    assert parse_schedule(text)(step) == pytest.approx(value)


def test_fraction_needs_a_horizon() -> None:
    schedule = parse_schedule("linear(1.0,0.05,0.5)")
    assert schedule.needs_horizon
    with pytest.raises(ValueError, match="resolve"):
        schedule(10)
    with pytest.raises(ValueError, match=r"total_steps"):
        schedule.resolve(None)
    bound = schedule.resolve(1000)
    assert bound(250) == pytest.approx(0.525)
    assert bound(500) == pytest.approx(0.05)
    assert str(bound) == str(schedule)


def test_fraction_of_a_tiny_budget_still_decays() -> None:
    assert LinearSchedule(1.0, 0.0, 0.1).resolve(3)(1) == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "fast",
        "linear(1,2)",
        "linear(a,b,c)",
        "cosine(1,0,0.5)",
        "linear(1,0,-5)",
        "exp(1,0,10)",
    ],
)
def test_bad_strings_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="schedule"):
        parse_schedule(text)


def test_exponential_needs_positive_ends() -> None:
    with pytest.raises(ValueError, match="end > 0"):
        ExponentialSchedule(1.0, 0.0, 100)


def test_as_schedule_names_the_argument_and_checks_the_range() -> None:
    with pytest.raises(ValueError, match=r"^epsilon must stay in \[0.0, 1.0\]"):
        as_schedule("linear(1.5,0.1,100)", "epsilon", low=0.0, high=1.0)
    with pytest.raises(ValueError, match=r"^learning_rate must stay in \(0.0"):
        as_schedule(0.0, "learning_rate", low=0.0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"^epsilon: cannot parse"):
        as_schedule("often", "epsilon")
    with pytest.raises(ValueError, match=r"^epsilon must be a number"):
        as_schedule(None, "epsilon")  # type: ignore[arg-type]
