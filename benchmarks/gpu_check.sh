#!/usr/bin/env bash
# GPU check: train one short PPO run of rlkit.deep (pixel policy on the pretrained
# default backbone (rlkit-cnn-v2), full fine-tune) on GridNav with device="cuda" and say whether
# CUDA was really used.
#
#   bash benchmarks/gpu_check.sh                 # 4096 steps on CUDA
#   STEPS=20000 bash benchmarks/gpu_check.sh
#   DEVICE=cpu bash benchmarks/gpu_check.sh      # the same run on the CPU, for comparison
#   LEARNING=full bash benchmarks/gpu_check.sh   # then the learning curves at full budget
#   LEARNING=full CELLS='dagger*' bash benchmarks/gpu_check.sh   # a part of them
#   LEARNING=quick DEVICE=cpu bash benchmarks/gpu_check.sh       # smoke test of that path
#
# LEARNING=full runs benchmarks/learning.py on benchmarks/suites/learning-full.yaml
# (10 seeds, PPO 1M env steps, SAC + HER 200k) after the check, on the same device,
# writing OUT (default benchmarks/results)/learning-full/; cells already there are
# reused, so a lent device's time limit can be met by running it in parts (CELLS).
#
# Prints the torch version, the device the policy's parameters live on, the CUDA device
# name and the training steps/s. Exit status: 0 when the policy trained on the requested
# device; 1 when CUDA was requested but not used (no CUDA device visible to torch, or
# the parameters ended up elsewhere); 2 when Python, torch, stable-baselines3 or rlkit's
# envs are missing. Runs from any folder; uses the repository's .venv/bin/python when
# present, else python3.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then
    PYTHON=.venv/bin/python
elif command -v python3 >/dev/null 2>&1; then
    PYTHON=python3
else
    echo "gpu_check: no Python found (.venv/bin/python or python3); run 'make venv' first" >&2
    exit 2
fi

STEPS="${STEPS:-4096}" DEVICE="${DEVICE:-cuda}" "$PYTHON" - <<'PY'
import os
import sys
import time

try:
    import torch
    import envs  # noqa: F401 - registers the rlkit/ ids
    from rlkit.deep import train
except ImportError as error:
    print(f"gpu_check: missing dependency ({error}); install with: pip install -e '.[rl]'",
          file=sys.stderr)
    sys.exit(2)

steps, device = int(os.environ["STEPS"]), os.environ["DEVICE"]
cuda = device.startswith("cuda")
print(f"python {sys.version.split()[0]}, torch {torch.__version__} "
      f"(built for CUDA {torch.version.cuda or 'none'}); requested device: {device}")
if cuda and not torch.cuda.is_available():
    why = ("this torch is a CPU-only build: install a CUDA build of torch"
           if torch.version.cuda is None
           else "no GPU or NVIDIA driver is visible to this process (try nvidia-smi)")
    print("gpu_check: FAIL: CUDA was requested but torch sees no CUDA device "
          f"(torch.cuda.is_available() is False, "
          f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}): {why}",
          file=sys.stderr)
    sys.exit(1)

name = torch.cuda.get_device_name(0) if cuda else "the CPU"
if cuda:
    print(f"CUDA device 0: {name}")


def synchronize() -> None:
    # CUDA runs asynchronously: wait for queued work so the timing covers all of it.
    if cuda:
        torch.cuda.synchronize()


start = time.perf_counter()
result = train("ppo", "rlkit/GridNav-v0", finetune="full", total_steps=steps, seed=0,
               device=device, tensorboard=False)
synchronize()
seconds = time.perf_counter() - start
model = result.model
devices = {p.device for p in model.policy.parameters()}
print(f"model device: {model.device}; policy parameters on: "
      f"{', '.join(sorted(str(d) for d in devices))}")
if cuda and (model.device.type != "cuda" or any(d.type != "cuda" for d in devices)):
    print("gpu_check: FAIL: CUDA was requested but the policy is not on it", file=sys.stderr)
    sys.exit(1)
print(f"trained PPO (BackbonePPOPolicy, pixels) on rlkit/GridNav-v0 for "
      f"{model.num_timesteps} steps in {seconds:.1f} s (model build included): "
      f"{model.num_timesteps / seconds:.0f} steps/s on {name}")
if cuda:
    print(f"peak CUDA memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    print("gpu_check: OK: CUDA used")
else:
    print(f"gpu_check: OK: trained on {device} (CUDA not requested)")
PY

case "${LEARNING:-}" in
    "") exit 0 ;;
    full) args=(--suite benchmarks/suites/learning-full.yaml --out "${OUT:-benchmarks/results}") ;;
    quick) args=(--quick) ;;
    *) echo "gpu_check: LEARNING must be full or quick, got '${LEARNING}'" >&2; exit 2 ;;
esac
if [[ -n "${CELLS:-}" ]]; then
    args+=(--cells "$CELLS")
fi
if [[ "${DEVICE:-cuda}" == cpu ]]; then
    export CUDA_VISIBLE_DEVICES=""  # the cells pick device="auto": keep them on the CPU
fi
echo "gpu_check: learning curves: benchmarks/learning.py ${args[*]}"
exec "$PYTHON" benchmarks/learning.py "${args[@]}"
