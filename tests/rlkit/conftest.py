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


#: ``(run, called)`` of :func:`faked_distill`.
FakedDistill = tuple[Callable[[list[str]], int], dict[str, Any]]


@pytest.fixture
def faked_distill(monkeypatch: pytest.MonkeyPatch) -> FakedDistill:
    """``(run, called)``: ``run(argv)`` parses and runs ``rlkit distill`` (``argv``
    starts with ``"distill"``) with ``dagger`` and ``behaviour_cloning`` replaced by a
    fake that records its keyword arguments in ``called`` (cleared first) and stops
    with a ``ValueError``, so a run returns exit status 2 without training."""
    import rlkit.deep.distill as distill
    from rlkit.deep.distill_cli import add_distill_parser

    parser = argparse.ArgumentParser(prog="rlkit")
    add_distill_parser(parser.add_subparsers(dest="command", required=True))
    called: dict[str, Any] = {}

    def fake(env_id: str, **kwargs: Any) -> None:
        called.clear()
        called.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(distill, "dagger", fake)
    monkeypatch.setattr(distill, "behaviour_cloning", fake)

    def run(argv: list[str]) -> int:
        called.clear()
        args = parser.parse_args(argv)
        return int(args.func(args))

    return run, called


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


#: ``ray_and_local(suite, out)``: each cell's ``(local, ray)`` documents, both "ok" and
#: with the same episode records.
RayAndLocal = Callable[[Any, Any], list[tuple[dict[str, Any], dict[str, Any]]]]


@pytest.fixture(scope="session")
def ray_and_local() -> RayAndLocal:
    """Run ``suite`` on the local backend and on Ray under ``out``, check that each cell
    ran on both with the same episode records (all but ``wall_time_s``, the one field
    that differs between two runs with the same seeds) and pair the cell documents."""
    from rlkit.sweep.cells import read_cell
    from rlkit.sweep.runner import run_suite

    def run(suite: Any, out: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        runs = [
            run_suite(
                suite,
                backend=backend,
                out=out / backend,
                workers=workers,
                progress_bar=False,
                report=False,
            )
            for backend, workers in (("local", 1), ("ray", 2))
        ]
        assert not runs[0].errors and not runs[1].errors
        pairs = []
        for cell in suite.cells():
            local, ray = (read_cell(r.folder / "cells" / f"{cell.name}.json") for r in runs)
            assert local is not None and ray is not None
            assert local["status"] == ray["status"] == "ok" and ray["backend"] == "ray"
            assert _records(local) == _records(ray)
            pairs.append((local, ray))
        return pairs

    return run


def _records(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in r.items() if k != "wall_time_s"} for r in document["result"]["records"]
    ]
