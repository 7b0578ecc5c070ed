"""Smoke test: the environment-throughput benchmark runs end to end in its --quick mode;
its anchors section (JAX envs in a separate venv) reports them as not installed without
that venv, and reads a worker's replies (a fake worker here: jax is never installed)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

NOT_INSTALLED = "not installed: make bench-anchors"

#: Speaks jax_anchor_worker's protocol with made-up numbers: NAVIX at 1000 steps/s,
#: XLand-MiniGrid absent, and a line of library noise on stdout before each reply.
FAKE_WORKER = """
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    print("Building rendering cache, may take a while...")
    if req["cmd"] == "quit":
        break
    reply = {
        "hello": {"versions": {"jax": "0.0-fake", "navix": "9.9-fake", "xminigrid": None},
                  "python": "3", "backend": "cpu", "devices": ["cpu:0"],
                  "xla_flags": "", "jax_platforms": "cpu"},
        "prepare": {"env": "Navix-Empty-8x8-v0", "obs_shape": [8, 8, 3], "compile_s": 1.5,
                    "reset_compile_s": 0.5, "first_call_s": 0.1},
        "time": {"steps": 1000, "calls": 1, "elapsed_s": 1.0, "cpu_s": 0.5},
        "drop": {},
    }[req["cmd"]]
    print("@anchor " + json.dumps(reply), flush=True)
"""


@pytest.fixture
def anchors(load_script: Callable[[str], ModuleType]) -> ModuleType:
    return load_script("jax_anchors.py")


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    """A venv whose ``bin/python`` runs :data:`FAKE_WORKER`, whatever script it is given."""
    worker = tmp_path / "fake_worker.py"
    worker.write_text(FAKE_WORKER)
    python = tmp_path / "fake-venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{worker}"\n')
    python.chmod(0o755)
    return python.parents[1]


def test_quick_run_writes_its_results(tmp_path: Path, run_script: Any) -> None:
    out = tmp_path / "results" / "throughput.json"  # the folder does not exist yet
    venv = tmp_path / "no-venv"
    result = run_script(
        "env_throughput.py", "--quick", "--seconds", "0.05", "--out", str(out),
        "--anchors-venv", str(venv),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| env | obs | kind |" in result.stdout
    assert "machine:" in result.stdout
    assert "targets:" in result.stdout
    assert not venv.exists()  # --quick never makes the anchors venv

    data = json.loads(out.read_text())
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temporary left
    assert {"command", "args", "machine", "wall_time_s", "notes", "rows", "targets"} <= data.keys()
    assert data["args"]["quick"] is True
    assert {"python", "numpy", "gymnasium", "cpu", "cpus", "date", "git_commit"} <= data[
        "machine"
    ].keys()
    rows = {row["key"]: row for row in data["rows"]}
    for obs in ("index", "coords", "symbolic", "pixels"):
        env = "rlkit/GridNav-Map-v0"
        assert f"{env}/{obs}/gym.make" in rows
        assert f"{env}/{obs}/.unwrapped" in rows
        assert f"{env}/{obs}/vector N=16" in rows
    for row in data["rows"]:
        assert row["error"] is None, row
        assert row["steps_per_s"] > 0
        assert row["steps"] > 0
        assert {"env", "obs", "kind", "wrappers", "elapsed_s", "baseline"} <= row.keys()
    assert rows["rlkit/GridNav-Map-v0/symbolic/gym.make"]["wrappers"] != "none"
    assert rows["rlkit/GridNav-Map-v0/symbolic/.unwrapped"]["wrappers"] == "none"
    # a target is judged (PASS/MISS) or, when its rows were skipped, marked n/a
    assert {v["status"] for v in data["targets"]} <= {"PASS", "MISS", "n/a"}
    assert len(data["targets"]) == 9 + 2  # + rlkit >= NAVIX, empty room, symbolic and pixels


def test_anchors_without_their_venv_say_not_installed(tmp_path: Path, run_script: Any) -> None:
    out, venv = tmp_path / "a.json", tmp_path / "no-venv"
    result = run_script(
        "env_throughput.py", "--quick", "--anchors", "--sections", "anchors", "--seconds",
        "0.05", "--anchors-venv", str(venv), "--out", str(out), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert not venv.exists()  # --anchors makes it, but never with --quick
    assert "| empty | symbolic | 16 |" in result.stdout
    assert f"| {NOT_INSTALLED} |" in result.stdout

    anchors = json.loads(out.read_text())["anchors"]
    by_lib = {(r["lib"], r["obs"]): r for r in anchors["rows"]}
    assert by_lib["rlkit", "symbolic"]["steps_per_s"] > 0  # rlkit is timed all the same
    assert by_lib["rlkit", "pixels"]["obs_shape"] == [64, 64, 3]
    assert by_lib["navix", "symbolic"]["status"] == NOT_INSTALLED
    assert by_lib["navix", "symbolic"]["steps_per_s"] is None
    assert ("xminigrid", "pixels") not in by_lib  # it has no such mode
    targets = json.loads(out.read_text())["targets"]
    assert [t["status"] for t in targets] == ["n/a", "n/a"]
    assert all(t["why"] == NOT_INSTALLED for t in targets)


def test_anchors_read_a_workers_replies(tmp_path: Path, run_script: Any, fake_venv: Path) -> None:
    out, report = tmp_path / "a.json", tmp_path / "report" / "report.md"
    result = run_script(
        "env_throughput.py", "--quick", "--sections", "anchors", "--anchor-obs", "symbolic",
        "--seconds", "0.05", "--anchors-venv", str(fake_venv), "--out", str(out),
        "--report", str(report), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr

    data = json.loads(out.read_text())
    rl, navix, xmg = data["anchors"]["rows"]
    assert navix["status"] == "ok" and navix["compile_s"] == 1.5
    assert navix["steps_per_s"] == 1000.0  # the fake's 1000 steps in 1 s
    assert navix["ratio"] == pytest.approx(rl["steps_per_s"] / 1000.0)
    assert xmg["status"] == NOT_INSTALLED  # the fake's hello has no xminigrid
    assert data["anchors"]["jax"]["versions"]["navix"] == "9.9-fake"
    assert data["targets"][0]["value"] == pytest.approx(navix["ratio"])

    text = report.read_text()
    assert f"**{navix['ratio']:.1f}x**" in text
    assert "navix 9.9-fake" in text
    assert "machine:" in text


def test_parse_reply_keeps_replies_and_skips_noise(anchors: ModuleType) -> None:
    assert anchors.parse_reply('@anchor {"steps": 4}\n') == {"steps": 4}
    assert anchors.parse_reply("Building rendering cache, may take a while...\n") is None
    with pytest.raises(anchors.WorkerError, match="not JSON"):
        anchors.parse_reply("@anchor {steps\n")
    with pytest.raises(anchors.WorkerError, match="not a JSON object"):
        anchors.parse_reply("@anchor [1, 2]\n")


def test_worker_error_reply_raises_with_its_message(anchors: ModuleType) -> None:
    code = 'import sys; sys.stdin.readline(); print(\'@anchor {"error": "ValueError: bad"}\')'
    worker = anchors.Worker([sys.executable, "-c", code], timeout=30)
    try:
        with pytest.raises(anchors.WorkerError, match="failed on 'prepare': ValueError: bad"):
            worker.request("prepare")
    finally:
        worker.close()


def test_worker_that_dies_names_its_exit_and_stderr(anchors: ModuleType) -> None:
    code = "import sys; sys.stdin.readline(); sys.exit('no module named jax')"
    worker = anchors.Worker([sys.executable, "-c", code], timeout=30)
    try:
        with pytest.raises(anchors.WorkerError, match=r"exit 1(.|\n)*no module named jax"):
            worker.request("hello")
    finally:
        worker.close()


class FakeRun:
    """``subprocess.run`` recording commands; those naming ``fail`` return 1."""

    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], check: bool = False) -> Any:
        self.commands.append(command)
        return type("Done", (), {"returncode": int(self.fail in command)})()


def test_install_venv_tolerates_xminigrid_failing(anchors: ModuleType, tmp_path: Path) -> None:
    run = FakeRun(fail="xminigrid")
    notes = anchors.install_venv(tmp_path / "v", run=run, python="py")
    assert run.commands[0] == ["py", "-m", "venv", str(tmp_path / "v")]
    assert run.commands[1][-2:] == ["jax", "navix"]  # unpinned
    assert run.commands[2][-1] == "xminigrid"
    assert notes == ["xminigrid did not install in the anchors venv: XLand-MiniGrid not timed"]
    assert anchors.install_venv(tmp_path / "v", run=run) == []  # installed: nothing more runs
    assert len(run.commands) == 3


def test_install_venv_fails_clearly_without_navix(anchors: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="pip install jax navix failed"):
        anchors.install_venv(tmp_path / "v", run=FakeRun(fail="navix"), python="py")
    assert not (tmp_path / "v" / anchors.STAMP).exists()  # the next run tries again


def test_four_rooms_map_has_navix_geometry(anchors: ModuleType) -> None:
    rows = anchors.FOUR_ROOMS_19.splitlines()
    assert len(rows) == 19 and {len(r) for r in rows} == {19}
    assert rows[0] == rows[-1] == "#" * 19
    assert rows[9].count(".") == 2  # the dividing walls run along row and column 9
    assert [r[9] for r in rows].count(".") == 2
    assert sum(r.count(".") for r in rows) == 4 * 8 * 8 + 4  # four 8x8 rooms, four doors
