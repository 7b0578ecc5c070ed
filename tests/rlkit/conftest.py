"""Fixtures shared by the tests of the rlkit package (``tests/rlkit``)."""

from __future__ import annotations

import argparse
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


#: ``rlkit_distill(argv) -> (status, stdout, stderr)`` of :func:`rlkit_distill`.
DistillCommand = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def rlkit_distill(capsys: pytest.CaptureFixture[str]) -> DistillCommand:
    """``rlkit_distill(argv)``: run ``rlkit distill`` (``argv`` starts with
    ``"distill"``) in this process; returns its exit status and its stripped stdout and
    stderr."""
    from rlkit.deep.distill_cli import add_distill_parser

    parser = argparse.ArgumentParser(prog="rlkit")
    add_distill_parser(parser.add_subparsers(dest="command", required=True))

    def run(argv: list[str]) -> tuple[int, str, str]:
        args = parser.parse_args(argv)
        args.argv = argv
        status = int(args.func(args))
        captured = capsys.readouterr()
        return status, captured.out.strip(), captured.err.strip()

    return run


@pytest.fixture(scope="module")
def pretrained() -> dict[str, Any]:
    """The shipped backbone's weights (a state dict of tensors), as ``load_backbone``
    gives them; one copy per test module."""
    from rlkit.backbones import DEFAULT_BACKBONE, load_backbone

    return load_backbone(DEFAULT_BACKBONE).state_dict()


@pytest.fixture
def frames() -> Any:
    """A small batch of raw ``[0, 255]`` float frames (a ``(3, 3, 64, 64)`` tensor),
    fixed by a seed."""
    import torch

    return torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255


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
