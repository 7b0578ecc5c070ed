"""The anchors section of ``env_throughput.py``: GridNavVectorEnv against NAVIX and
XLand-MiniGrid (JAX, CPU), batched random-action steps/s at the same N, map and
observation kind, measured in the same run.

jax never enters the project's environment: the JAX envs run in
:mod:`jax_anchor_worker`, a subprocess of the anchors virtual environment
(``.venv-anchors``: :func:`install_venv`, run by ``make bench-anchors`` or
``env_throughput.py --anchors``), with ``JAX_PLATFORMS=cpu`` and single-threaded XLA
(:data:`THREAD_FLAGS`). Without that environment every JAX cell reads
:data:`NOT_INSTALLED`. Per configuration (map, observation, N) the rounds interleave
rlkit, NAVIX, XLand-MiniGrid; each side's steps/s is the median of its rounds and the
ratio is rlkit's median over the anchor's.

The maps are NAVIX's: an 8x8 empty room (walls included: 6x6 free cells, start (1, 1),
goal (6, 6)) and 19x19 four rooms (random start and goal each episode; NAVIX and
XLand-MiniGrid also move the doors, rlkit's :data:`FOUR_ROOMS_19` keeps them in the middle
of each wall). Every env stops an episode after ``max_steps`` (100, NAVIX's default).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from env_cases import vector_env
from env_timing import measure_vector
from scripting import REPO

from rlkit.atomic import atomic_write_text

THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
NOT_INSTALLED = "not installed: make bench-anchors"
VENV = REPO / ".venv-anchors"
WORKER = Path(__file__).resolve().with_name("jax_anchor_worker.py")
PREFIX = "@anchor "  # the worker's reply lines
STAMP = ".rlkit-anchors-installed"
#: The JAX libraries and the observation kinds each can match.
LIBS = {"navix": ("symbolic", "pixels"), "xminigrid": ("symbolic",)}
NAMES = {"rlkit": "rlkit", "navix": "NAVIX", "xminigrid": "XLand-MiniGrid"}
GRIDNAV = "rlkit/GridNav-Map-v0"
EMPTY_8 = "\n".join(["#" * 8, *["#" + "." * 6 + "#"] * 6, "#" * 8])


def four_rooms(side: int = 19) -> str:
    """NAVIX's ``side x side`` four rooms, walls included, a door mid-way along each wall."""
    mid, walls = side // 2, (0, side // 2, side - 1)
    cells = [["#" if r in walls or c in walls else "." for c in range(side)] for r in range(side)]
    for door in (mid // 2, (mid + side) // 2):
        cells[mid][door] = cells[door][mid] = "."
    return "\n".join("".join(row) for row in cells)


FOUR_ROOMS_19 = four_rooms(19)
#: GridNav's arguments per map; pixels are 8 px a cell, as NAVIX draws them.
MAPS: dict[str, tuple[int, dict[str, Any]]] = {
    "empty": (8, {"map": EMPTY_8, "start": (1, 1), "goal": (6, 6)}),
    "four_rooms": (19, {"map": FOUR_ROOMS_19}),
}


@dataclass
class Plan:
    """What the anchors section measures (see ``env_throughput.py``'s arguments)."""

    num_envs: list[int]
    maps: list[str]
    obs: list[str]
    rounds: int = 3
    seconds: float = 1.0
    warmup: float = 0.25
    scan: int = 100
    max_steps: int = 100
    seed: int = 0
    copy: bool = False
    venv: Path = VENV
    timeout: float = 900.0
    """seconds one worker request may take (a compile of four rooms: tens of seconds)"""


@dataclass
class Result:
    """The rows (one per map, observation, N and library), the worker's hello, notes."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    hello: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- the venv


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def install_venv(
    venv: Path, run: Callable[..., Any] = subprocess.run, python: str = sys.executable
) -> list[str]:
    """Make the anchors venv where it is not complete: ``python -m venv``, ``pip install
    jax navix`` (a failure raises), then ``pip install xminigrid`` (a failure is a note).
    Nothing is pinned; pip resolves the latest versions for this Python."""
    if (venv / STAMP).exists():
        return []
    if not venv_python(venv).exists():
        print(f"making {venv} (python -m venv)", file=sys.stderr)
        run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet"]
    if run([*pip, "jax", "navix"], check=False).returncode != 0:
        raise RuntimeError(
            f"pip install jax navix failed in {venv} (its output is above): check that the "
            f"package index is reachable, or delete {venv} and retry"
        )
    notes = []
    if run([*pip, "xminigrid"], check=False).returncode != 0:
        notes.append("xminigrid did not install in the anchors venv: XLand-MiniGrid not timed")
    atomic_write_text(venv / STAMP, json.dumps({"xminigrid": not notes}) + "\n")
    return notes


def worker_env(venv: Path) -> dict[str, str]:
    """The worker's environment: JAX on the CPU, one XLA thread, caches inside the venv."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    cache = str(venv / "xland_minigrid")
    return {**env, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": THREAD_FLAGS, "OMP_NUM_THREADS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2", "XLAND_MINIGRID_DATA": cache,
            "XLAND_MINIGRID_CACHE": cache}  # fmt: skip


# ---------------------------------------------------------------------- the worker


class WorkerError(RuntimeError):
    """The worker failed, ended or did not answer."""


def parse_reply(line: str) -> dict[str, Any] | None:
    """The JSON object of a worker reply line, or None for any other output line."""
    if not line.startswith(PREFIX):
        return None
    try:
        reply = json.loads(line[len(PREFIX) :])
    except json.JSONDecodeError as error:
        raise WorkerError(f"worker reply is not JSON ({error}): {line.strip()!r}") from None
    if not isinstance(reply, dict):
        raise WorkerError(f"worker reply is not a JSON object: {line.strip()!r}")
    return reply


class Worker:
    """A running :mod:`jax_anchor_worker` (or any command speaking its protocol)."""

    def __init__(
        self, command: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 900
    ) -> None:
        self.timeout = timeout
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by close())
        self.proc = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            bufsize=0, env=None if env is None else dict(env),
        )  # fmt: skip
        self._pending = b""  # read from stdout, not yet a whole line

    def stderr_tail(self, chars: int = 2000) -> str:
        self._stderr.seek(0)
        tail = self._stderr.read()[-chars:].strip()
        return f"; its stderr ends:\n{tail}" if tail else ""

    def _readline(self, cmd: str, deadline: float) -> str:
        """The next line of stdout ("" at its end), read unbuffered: a line the pipe has
        already given is never left waiting in a buffer that ``select`` cannot see."""
        assert self.proc.stdout is not None
        while b"\n" not in self._pending:
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            if not ready:
                raise WorkerError(f"worker gave no answer to {cmd!r} in {self.timeout:g} s")
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                line, self._pending = self._pending, b""
                return line.decode(errors="replace")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode(errors="replace") + "\n"

    def request(self, cmd: str, **fields: Any) -> dict[str, Any]:
        """Send one request, return its reply; WorkerError on an error reply, an ended
        worker, or no answer within ``timeout`` seconds."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        except OSError as error:
            raise WorkerError(f"worker gone before {cmd!r} ({error}){self.stderr_tail()}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            line = self._readline(cmd, deadline)
            if not line:
                code = self.proc.wait(timeout=10)
                raise WorkerError(f"worker ended (exit {code}) on {cmd!r}{self.stderr_tail()}")
            reply = parse_reply(line)
            if reply is not None and "error" in reply:
                raise WorkerError(f"worker failed on {cmd!r}: {reply['error']}")
            if reply is not None:
                return reply

    def close(self) -> None:
        """Ask the worker to quit; kill it when it has not within 30 s."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"cmd": "quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self._stderr.close()


# ---------------------------------------------------------------------- measuring


def start_worker(plan: Plan) -> tuple[Worker | None, dict[str, Any], dict[str, str]]:
    """The worker, its hello (versions, backend), and why each library that will not be
    timed is not (a missing venv: :data:`NOT_INSTALLED`)."""
    python = venv_python(plan.venv)
    if not python.exists():
        return None, {}, {lib: NOT_INSTALLED for lib in LIBS}
    worker = Worker([str(python), str(WORKER)], worker_env(plan.venv), plan.timeout)
    try:
        hello = worker.request("hello")
    except WorkerError as error:
        worker.close()
        return None, {}, {lib: f"error: the anchors worker failed: {error}" for lib in LIBS}
    versions = hello.get("versions", {})
    return worker, hello, {lib: NOT_INSTALLED for lib in LIBS if not versions.get(lib)}


def _row(lib: str, map_name: str, obs: str, n: int, status: str) -> dict[str, Any]:
    return {"map": map_name, "obs": obs, "num_envs": n, "lib": lib, "env": "", "status": status,
            "rates": [], "cpu_per_wall": [], "steps_per_s": None, "ratio": None}  # fmt: skip


def _measure_rlkit(env: Any, row: dict[str, Any], plan: Plan) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    got = measure_vector(env, plan.seed, plan.seconds, plan.warmup)
    row["rates"].append(got["steps"] / got["elapsed_s"])
    row["cpu_per_wall"].append((time.process_time() - cpu) / (time.perf_counter() - wall))
    row.setdefault("first_reset_s", got["first_reset_s"])


def measure_config(
    plan: Plan, worker: Worker | None, missing: dict[str, str], map_name: str, obs: str, n: int
) -> list[dict[str, Any]]:
    """The rows of one (map, observation, N): rlkit's, then each JAX library's, their
    rounds interleaved (rlkit, NAVIX, XLand-MiniGrid, rlkit, ...)."""
    side, kwargs = MAPS[map_name]
    rl = _row("rlkit", map_name, obs, n, "ok")
    libs = {lib: _row(lib, map_name, obs, n, missing.get(lib, "ok"))
            for lib, kinds in LIBS.items() if obs in kinds}  # fmt: skip
    env = None
    try:
        t0 = time.perf_counter()
        pixels = {"pixel_size": 8 * side} if obs == "pixels" else {}
        env = vector_env(GRIDNAV, n, plan.copy, obs=obs, max_steps=plan.max_steps,
                         **kwargs, **pixels)  # fmt: skip
        rl.update(env=GRIDNAV, setup_s=time.perf_counter() - t0,
                  obs_shape=list(env.single_observation_space.shape))  # fmt: skip
    except Exception as error:
        rl["status"] = f"error: {type(error).__name__}: {error}"
    for lib, row in libs.items():
        if row["status"] == "ok" and worker is not None:
            spec = {"lib": lib, "map": map_name, "obs": obs, "num_envs": n, "seed": plan.seed,
                    "max_steps": plan.max_steps, "scan": plan.scan}  # fmt: skip
            try:
                row.update(worker.request("prepare", **spec))
            except WorkerError as error:
                row["status"] = f"error: {error}"
    for _ in range(plan.rounds):
        if env is not None:
            try:
                _measure_rlkit(env, rl, plan)
            except Exception as error:  # the JAX rows still run
                rl["status"] = f"error: {type(error).__name__}: {error}"
                env.close()
                env = None
        for lib, row in libs.items():
            if row["status"] != "ok" or worker is None:
                continue
            try:
                got = worker.request("time", lib=lib, seconds=plan.seconds)
            except WorkerError as error:
                row["status"] = f"error: {error}"
                continue
            row["rates"].append(got["steps"] / got["elapsed_s"])
            row["cpu_per_wall"].append(got["cpu_s"] / got["elapsed_s"])
    if env is not None:
        env.close()
    if worker is not None and libs:
        with contextlib.suppress(WorkerError):  # the rows already say what failed
            worker.request("drop")
    rows = [rl, *libs.values()]
    for row in rows:
        if row["rates"]:
            row["steps_per_s"] = statistics.median(row["rates"])
        row["cpu_per_wall"] = statistics.median(row["cpu_per_wall"]) if row["rates"] else None
    for row in libs.values():
        if rl["steps_per_s"] and row["steps_per_s"]:
            row["ratio"] = rl["steps_per_s"] / row["steps_per_s"]
    return rows


def run_anchors(plan: Plan, install: bool, progress: Callable[[Any], Any] = iter) -> Result:
    """Every configuration of ``plan``; with ``install``, the venv is made first where missing."""
    result = Result()
    if install:
        result.notes += install_venv(plan.venv)
    worker, result.hello, missing = start_worker(plan)
    result.notes += sorted({f"{NAMES[lib]}: {why}" for lib, why in missing.items()})
    configs = [(m, o, n) for m in plan.maps for o in plan.obs for n in plan.num_envs]
    try:
        for map_name, obs, n in progress(configs):
            result.rows += measure_config(plan, worker, missing, map_name, obs, n)
    finally:
        if worker is not None:
            worker.close()
    return result
