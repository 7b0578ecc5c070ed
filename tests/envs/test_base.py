"""What every single environment inherits from envs.base.PlannedEnv."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from envs.arm import ArmReachEnv
from envs.base import PlannedEnv
from envs.grid import GridNavEnv


@pytest.mark.parametrize("env_class", [GridNavEnv, ArmReachEnv])
def test_render_without_mode_warns(env_class: Callable[[], PlannedEnv[Any, Any, Any]]) -> None:
    env = env_class()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
