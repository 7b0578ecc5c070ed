"""Jobs write only under their own folders: nothing is left in the temp folder.

stable-baselines3 makes an empty ``/tmp/SB3-<time>`` folder for every ``learn()`` of a
model without a logger of its own; every model rlkit builds carries one. The jobs run
in a fresh interpreter whose ``TMPDIR`` is a folder of the test's, which must stay empty.
(tests/conftest.py checks the same of the whole test session.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

JOBS = """
import torch
torch.set_num_threads(1)
from rlkit.deep import behaviour_cloning, dagger, train
line = {"map": ".......", "goal": (0, 3), "max_steps": 4, "pixel_size": 32}
small = {"n_steps": 16, "batch_size": 16}
student = behaviour_cloning("rlkit/GridNav-Map-v0", 3, epochs=1, env_kwargs=line,
                            ppo_kwargs=small, device="cpu")
student.model.learn(16)  # RL fine-tuning of a distilled student
dagger("rlkit/GridNav-Map-v0", 2, iterations=1, rollouts_per_iteration=2, epochs=1,
       env_kwargs=line, ppo_kwargs=small, device="cpu")
train("ppo", "rlkit/GridNav-Map-v0", total_steps=32, env_kwargs={**line, "obs": "pixels"},
      hyperparams={"n_envs": 1, **small, "n_epochs": 1}, device="cpu")
print("done")
"""


def test_training_jobs_leave_nothing_in_the_temp_folder(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "SDL_VIDEODRIVER": "dummy", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", JOBS], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "done" in done.stdout, done.stderr[-2000:]
    # torch makes its per-user cache folder torchinductor_<user> once per machine (a fixed
    # name: it never accumulates); everything else would be ours.
    left = sorted(p.name for p in temp.iterdir() if not p.name.startswith("torchinductor_"))
    assert left == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]  # no runs/ or logs either
