"""Fixtures shared by the tests of the rlkit package (``tests/rlkit``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

#: ``success_rate(agent, env_id, env_kwargs)`` of :func:`pixel_success_rate`.
SuccessRate = Callable[[Any, str, Mapping[str, Any]], float]


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread for the tests of a module, the count restored after them.

    A module opts in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``;
    torch is imported here only then, so the modules that do not use it stay free of it.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def pixel_success_rate() -> SuccessRate:
    """``success_rate(agent, env_id, env_kwargs)``: the share of 50 evaluation episodes
    ``agent`` ends in success on ``env_id`` made with ``obs="pixels"`` and
    ``env_kwargs`` (reset seeds drawn from evaluation seed 1000, never the training ones).
    """
    import numpy as np

    from rlkit.evaluation import evaluate

    def success_rate(agent: Any, env_id: str, env_kwargs: Mapping[str, Any]) -> float:
        result = evaluate(
            agent, env_id, episodes=50, seeds=[1000], env_kwargs={"obs": "pixels", **env_kwargs},
            progress_bar=False,
        )  # fmt: skip
        return float(np.mean([record.success for record in result.records]))

    return success_rate
