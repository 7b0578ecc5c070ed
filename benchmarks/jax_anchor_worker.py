"""The JAX side of ``env_throughput.py``'s anchors: NAVIX and XLand-MiniGrid, batched.

Runs in the anchors virtual environment (``.venv-anchors``, made by ``make
bench-anchors``), never in the project's: jax is not a dependency of rlkit, and this file
imports nothing of it. :mod:`jax_anchors` starts it with ``JAX_PLATFORMS=cpu`` and
single-threaded ``XLA_FLAGS``. It reads one JSON request a line on stdin and answers each
with one line ``@anchor {json}`` on stdout; anything else printed, by the libraries or
by C code, goes to stderr.

- ``{"cmd": "hello"}``: versions, JAX backend and devices, the thread settings;
- ``{"cmd": "prepare", "lib": "navix", "map": "empty", "obs": "symbolic", "num_envs": N,
  "max_steps": 100, "scan": 8, "seed": 0}``: builds the env, resets N copies (vmap, jit),
  draws ``scan x N`` random actions, compiles ahead of time one jitted function that runs
  the ``lax.scan`` of ``scan`` batched steps a given number of times (``fori_loop``), and
  runs it once; answers the compile and first-call times. It is kept under its ``lib``
  (one env per library at a time);
- ``{"cmd": "time", "lib": "navix", "seconds": 1.0}``: one call of that function,
  repeating the scan as often as fills about ``seconds``, blocked until ready; answers
  the env-steps (``N x scan x repeats``), the wall and the CPU seconds;
- ``{"cmd": "drop"}``: forgets the prepared envs; ``{"cmd": "quit"}``.

A failed request answers ``{"error": "..."}`` and the worker goes on.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

import jax  # type: ignore[import-not-found]  # (mypy runs in .venv, jax in .venv-anchors)
import jax.numpy as jnp  # type: ignore[import-not-found]

#: Each library's env id per map, at NAVIX's and Minigrid's sizes (walls included).
ENV_IDS = {
    "navix": {"empty": "Navix-Empty-8x8-v0", "four_rooms": "Navix-FourRooms-v0"},
    "xminigrid": {"empty": "MiniGrid-Empty-8x8", "four_rooms": "MiniGrid-FourRooms"},
}
PREFIX = "@anchor "
#: ``(reset(key), step(timestep, action), n_actions)`` of one env.
EnvFns = tuple[Callable[..., Any], Callable[..., Any], int]

#: The prepared env of each library: its compiled scan, timestep, actions, env-steps a call.
_prepared: dict[str, dict[str, Any]] = {}


def version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def hello() -> dict[str, Any]:
    return {
        "versions": {p: version(p) for p in ("jax", "jaxlib", "navix", "xminigrid", "numpy")},
        "python": sys.version.split()[0],
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_platforms": os.environ.get("JAX_PLATFORMS", ""),
    }


def navix_env(name: str, obs: str, max_steps: int) -> EnvFns:
    """``(reset(key), step(timestep, action), n_actions)`` of a NAVIX env.

    Four absolute moves (forward, right, backward, left of the start direction, which no
    action turns), as GridNav has, instead of Minigrid's seven actions.
    """
    import navix as nx  # type: ignore[import-not-found]
    from navix import actions

    observation = {"symbolic": nx.observations.symbolic, "pixels": nx.observations.rgb}[obs]
    moves = (actions.forward, actions.right, actions.backward, actions.left)
    env = nx.make(name, max_steps=max_steps, observation_fn=observation, action_set=moves)
    return env.reset, env.step, len(moves)


def xminigrid_env(name: str, obs: str, max_steps: int) -> EnvFns:
    """``(reset(key), step(timestep, action), n_actions)`` of an XLand-MiniGrid env: its
    own observation (a 7x7x2 egocentric view), autoreset on the next step (dm_env)."""
    import xminigrid  # type: ignore[import-not-found]
    from xminigrid.wrappers import DmEnvAutoResetWrapper  # type: ignore[import-not-found]

    if obs != "symbolic":
        raise ValueError(f"XLand-MiniGrid has no full-view {obs!r} observation: ask for symbolic")
    env, params = xminigrid.make(name)
    params = params.replace(max_steps=max_steps)
    env = DmEnvAutoResetWrapper(env)

    def reset(key: Any) -> Any:
        return env.reset(params, key)

    def step(timestep: Any, action: Any) -> Any:
        return env.step(params, timestep, action)

    return reset, step, int(env.num_actions(params))


def prepare(req: dict[str, Any]) -> dict[str, Any]:
    lib, n, scan = req["lib"], int(req["num_envs"]), int(req["scan"])
    if lib not in ENV_IDS or req["map"] not in ENV_IDS[lib]:
        raise ValueError(f"no env for lib {lib!r} and map {req['map']!r}: see ENV_IDS")
    make = {"navix": navix_env, "xminigrid": xminigrid_env}[lib]
    name = ENV_IDS[lib][req["map"]]
    _prepared.pop(lib, None)  # the previous env's buffers go first
    reset, step, n_actions = make(name, req["obs"], int(req["max_steps"]))
    reset_keys, action_key = jax.random.split(jax.random.PRNGKey(int(req["seed"])))
    keys = jax.random.split(reset_keys, n)

    t0 = time.perf_counter()
    reset_all = jax.jit(jax.vmap(reset)).lower(keys).compile()
    reset_compile = time.perf_counter() - t0
    timestep = jax.block_until_ready(reset_all(keys))
    actions = jax.random.randint(action_key, (scan, n), 0, n_actions, dtype=jnp.int32)
    step_all = jax.vmap(step)

    def scan_steps(_: Any, timestep: Any) -> Any:
        return jax.lax.scan(lambda ts, a: (step_all(ts, a), None), timestep, actions)[0]

    def run(timestep: Any, repeats: Any) -> Any:
        # One call runs the scan `repeats` times (a traced count: no recompiling), so
        # the cost of a call is paid once a measurement, as in a jitted training loop.
        return jax.lax.fori_loop(0, repeats, scan_steps, timestep)

    t0 = time.perf_counter()
    compiled = jax.jit(run).lower(timestep, jnp.int32(1)).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    timestep = jax.block_until_ready(compiled(timestep, jnp.int32(1)))
    first_call = time.perf_counter() - t0
    _prepared[lib] = {"run": compiled, "timestep": timestep, "steps": n * scan,
                      "scan_s": first_call}  # fmt: skip
    return {
        "env": name,
        "obs_shape": list(timestep.observation.shape[1:]),
        "obs_dtype": str(timestep.observation.dtype),
        "n_actions": n_actions,
        "compile_s": compile_s,
        "reset_compile_s": reset_compile,
        "first_call_s": first_call,
    }


def timed(req: dict[str, Any]) -> dict[str, Any]:
    """One call of the prepared scan, repeated to last about ``seconds`` (from the last
    call's pace)."""
    state = _prepared.get(req["lib"])
    if state is None:
        raise RuntimeError(f"{req['lib']!r} is not prepared: send a prepare request first")
    repeats = max(1, round(float(req["seconds"]) / state["scan_s"]))
    t0, cpu0 = time.perf_counter(), time.process_time()
    state["timestep"] = jax.block_until_ready(state["run"](state["timestep"], jnp.int32(repeats)))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    state["scan_s"] = elapsed / repeats
    return {"steps": state["steps"] * repeats, "repeats": repeats, "elapsed_s": elapsed,
            "cpu_s": cpu}  # fmt: skip


def drop(req: dict[str, Any]) -> dict[str, Any]:
    _prepared.clear()
    return {}


def answer(out: TextIO, reply: dict[str, Any]) -> None:
    out.write(PREFIX + json.dumps(reply) + "\n")
    out.flush()


def main() -> int:
    out = os.fdopen(os.dup(1), "w")  # replies only; fd 1 itself now goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "hello": lambda req: hello(),
        "prepare": prepare,
        "time": timed,
        "drop": drop,
    }
    for line in sys.stdin:
        try:
            req = json.loads(line)
            if req.get("cmd") == "quit":
                break
            if req.get("cmd") not in handlers:
                raise ValueError(f"unknown cmd {req.get('cmd')!r}: send one of {list(handlers)}")
            answer(out, handlers[req["cmd"]](req))
        except Exception as error:  # one failed request must not end the others
            traceback.print_exc()
            answer(out, {"error": f"{type(error).__name__}: {error}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
