"""Fault injection for the long training jobs (issue #18, item 2): ``rlkit train
--resume``, ``rlkit pretrain`` and DAgger (``rlkit distill``).

Each job is killed with ``kill -9`` (its whole process group) at a seeded random moment
after its first checkpoint, or finds a checkpoint damaged, a full disk or a read-only
folder. The rerun must finish with what an uninterrupted run gives (``identical``) or
lose at most one checkpoint interval (``within-interval``); a damaged file is noticed
and never trusted (``detected``); a folder that cannot be written stops the job with
one line naming it and leaves nothing half-written (``clear-error``). Every job is tiny
(a few hundred steps, one thread) so the whole file runs in well under a minute.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from rlkit.backbones import load_backbone
from rlkit.backbones.cards import BackboneFileError
from rlkit.backbones.recipes import RECIPES, PretrainConfig
from rlkit.cli import main
from rlkit.deep.checkpoints import checkpoint_problem, latest_checkpoint
from rlkit.deep.round_checkpoints import RoundCheckpoints
from tests.faults.training_helpers import (
    TINY_PRETRAIN,
    kill_moment,
    kill_when,
    partial_files,
    pretrain_command,
    read_only,
    rlkit_command,
    start,
)

LINE = '{"map": ".......", "goal": [0, 3], "max_steps": 4, "pixel_size": 32}'
EVERY = 64  #: steps between checkpoints; one PPO rollout
FaultLog = Callable[..., None]  #: the ``fault_log`` fixture of tests/faults/conftest.py


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train_argv(out: Path, steps: int = 512, algo: str = "ppo") -> list[str]:
    """``rlkit train`` of a tiny PPO (or DQN) on a 1x7 corridor, a checkpoint per rollout."""
    hp = ["n_steps=64", "batch_size=32", "n_epochs=1"] if algo == "ppo" else [
        "learning_starts=32", "buffer_size=500", "batch_size=16", "train_freq=4",
    ]  # fmt: skip
    sets = [arg for value in ["n_envs=1", *hp] for arg in ("--set", value)]
    return [
        "train", "--algo", algo, "--env", "rlkit/GridNav-Map-v0", "--env-kwargs", LINE,
        "--steps", str(steps), "--checkpoint-every", str(EVERY), *sets, "--device", "cpu",
        "--finetune", "frozen", "--no-progress", "--no-tensorboard", "--out", str(out),
    ]  # fmt: skip


def monitor_rows(out: Path) -> list[dict[str, str]]:
    """The Monitor rows of a run, without the wall-time column."""
    lines = (out / "monitor" / "0.monitor.csv").read_text().splitlines()[1:]
    return [{k: v for k, v in row.items() if k != "t"} for row in csv.DictReader(lines)]


def policy_weights(model_zip: Path) -> dict[str, torch.Tensor]:
    """The policy's tensors in an SB3 zip (read as weights, no unpickling of the rest)."""
    with zipfile.ZipFile(model_zip) as archive:
        state: dict[str, torch.Tensor] = torch.load(
            io.BytesIO(archive.read("policy.pth")), weights_only=True
        )
    return state


def same_weights(a: Path, b: Path) -> bool:
    first, second = policy_weights(a), policy_weights(b)
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted ``rlkit train`` run of 512 steps (checkpoints every 64)."""
    out = tmp_path_factory.mktemp("train") / "whole"
    assert main(train_argv(out)) == 0
    return out


# ---------------------------------------------------------------------- rlkit train


def test_train_killed_and_resumed(
    finished_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fault_log: FaultLog
) -> None:
    """kill -9 after a checkpoint; --resume finishes, losing at most that interval."""
    out = tmp_path / "run"
    interval = 1 + int(kill_moment("train-interval", 4))  # after checkpoint 1..4 of 8
    job = start(rlkit_command(*train_argv(out)), tmp_path)
    ready = out / "checkpoints" / f"model_{interval * EVERY}.zip"
    kill_when(job, ready.exists, delay=kill_moment("train", 0.25))

    # Nothing half-written under a final name: no model, every checkpoint whole.
    assert not (out / "model.zip").exists()
    assert json.loads((out / "config.json").read_text())["status"] == "running"
    checkpoints = sorted((out / "checkpoints").glob("model_*.zip"))
    assert all(checkpoint_problem(p) is None for p in checkpoints)
    last = latest_checkpoint(out / "checkpoints")
    assert last is not None and 512 > last[0] >= interval * EVERY
    leftovers = len(partial_files(out))

    assert main(train_argv(out)) == 2  # the same command: never overwrites the run
    assert "--resume" in capsys.readouterr().err
    assert main([*train_argv(out), "--resume"]) == 0
    config = json.loads((out / "config.json").read_text())
    whole = json.loads((finished_run / "config.json").read_text())
    assert config["status"] == "finished" and config["resumed_from"] == last[0]
    assert config["result"]["steps"] == whole["result"]["steps"] == 512
    assert config["hyperparams"] == whole["hyperparams"] and not partial_files(out)
    # The episodes before the checkpoint are the uninterrupted run's, none repeated.
    rows = monitor_rows(out)
    assert len(rows) == config["result"]["episodes"]
    early = [r for r in rows if int(r["total_steps"]) <= last[0]]
    assert early == [r for r in monitor_rows(finished_run) if int(r["total_steps"]) <= last[0]]
    # A kill costs the steps after the last checkpoint and nothing else: the run equals
    # the uninterrupted one resumed from that checkpoint, bit for bit.
    cut = copy_run(finished_run, tmp_path / "cut")
    (cut / "model.zip").unlink()
    for path in (cut / "checkpoints").glob("model_*.zip"):
        if int(path.stem.split("_")[1]) > last[0]:
            path.unlink()
    assert main([*train_argv(cut), "--resume"]) == 0
    assert same_weights(out / "model.zip", cut / "model.zip")
    identical = same_weights(out / "model.zip", finished_run / "model.zip")
    fault_log(
        job="rlkit train --resume", fault="kill -9", killed=1, resumed=1,
        outcome="identical" if identical else "within-interval",
        detail=f"killed after checkpoint {last[0]} of 512 steps ({leftovers} temporary "
        f"file(s) left by the kill, removed on resume); resumed envs draw fresh episodes, "
        f"so the model {'equals' if identical else 'differs from'} the uninterrupted "
        "run's; it equals that run resumed from the same checkpoint bit for bit",
    )  # fmt: skip


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated zip":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zero-byte file":
        path.write_bytes(b"")
    elif how == "garbage bytes":
        path.write_bytes(bytes(range(256)) * (len(data) // 256 + 1))
    else:  # flipped bytes: the zip's directory is intact, a member fails its CRC
        middle = bytearray(data)
        for i in range(len(data) // 3, len(data) // 3 + 64):
            middle[i] ^= 0xFF
        path.write_bytes(bytes(middle))


@pytest.mark.parametrize(
    "how", ["truncated zip", "zero-byte file", "garbage bytes", "flipped bytes"]
)
def test_damaged_latest_checkpoint_falls_back(
    finished_run: Path, tmp_path: Path, how: str, fault_log: FaultLog
) -> None:
    """Regression: a damaged latest checkpoint stopped every --resume (SB3's error) until the
    file was deleted by hand; now it is moved aside and the one before is used."""
    out = copy_run(finished_run, tmp_path / "run")
    (out / "model.zip").unlink()  # a run killed just after its last checkpoint
    latest = out / "checkpoints" / "model_512.zip"
    _damage(latest, how)
    with pytest.warns(RuntimeWarning, match=r"model_512\.zip is damaged.*model_448\.zip"):
        assert main([*train_argv(out), "--resume"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["resumed_from"] == 448 and config["result"]["steps"] == 512
    assert (out / "checkpoints" / "model_512.zip.corrupt").exists()
    assert checkpoint_problem(latest) is None  # rewritten by the resumed run
    fault_log(
        job="rlkit train --resume", fault=f"latest checkpoint: {how}", outcome="detected",
        resumed=1, detail="moved aside as .corrupt with a warning naming it; resumed "
        "from the checkpoint before (one interval trained again)",
    )  # fmt: skip


def test_every_checkpoint_damaged_starts_afresh(
    finished_run: Path, tmp_path: Path, fault_log: FaultLog
) -> None:
    """No good checkpoint left: --resume starts afresh, with a warning per damaged file."""
    out = copy_run(finished_run, tmp_path / "run")
    (out / "model.zip").unlink()
    for path in (out / "checkpoints").glob("model_*.zip"):
        path.write_bytes(b"")
    with pytest.warns(RuntimeWarning) as warned:
        assert main([*train_argv(out), "--resume"]) == 0
    messages = [str(w.message) for w in warned if " is damaged (" in str(w.message)]
    assert len(messages) == 8
    assert messages[-1].endswith("no checkpoint is left: starting afresh")
    config = json.loads((out / "config.json").read_text())
    assert config["resumed_from"] == 0 and config["result"]["steps"] == 512
    # afresh with the same seed: the uninterrupted run again
    assert monitor_rows(out) == monitor_rows(finished_run)
    assert same_weights(out / "model.zip", finished_run / "model.zip")
    fault_log(
        job="rlkit train --resume", fault="every checkpoint zero bytes", outcome="detected",
        resumed=1, files_lost=0, detail="each moved aside with a warning; the run started "
        "afresh and equals the uninterrupted one",
    )  # fmt: skip


def test_half_written_checkpoint_of_a_killed_save_is_never_read(
    finished_run: Path, tmp_path: Path, fault_log: FaultLog
) -> None:
    """The temporary file of a save cut by a kill is never read, and is deleted on resume."""
    out = copy_run(finished_run, tmp_path / "run")
    (out / "model.zip").unlink()
    (out / "checkpoints" / "model_512.zip").unlink()
    # what atomic_output leaves when the kill lands inside model.save
    whole = (finished_run / "checkpoints" / "model_512.zip").read_bytes()
    partial = out / "checkpoints" / ".model_512.zip.k1ll3d.zip"
    partial.write_bytes(whole[: len(whole) // 3])
    assert main([*train_argv(out), "--resume"]) == 0
    assert json.loads((out / "config.json").read_text())["resumed_from"] == 448
    assert not partial.exists() and not partial_files(out)
    fault_log(
        job="rlkit train --resume", fault="kill -9 inside a checkpoint write",
        outcome="detected", resumed=1, detail="the temporary file is never read (no "
        "checkpoint name matches it) and is deleted on resume",
    )  # fmt: skip


def test_damaged_replay_buffer_is_not_trusted(tmp_path: Path, fault_log: FaultLog) -> None:
    """Regression: a replay buffer cut short crashed --resume with an uncaught
    UnpicklingError."""
    out = tmp_path / "dqn"
    assert main(train_argv(out, steps=192, algo="dqn")) == 0
    (out / "model.zip").unlink()
    buffer = out / "checkpoints" / "replay_buffer_192.pkl"
    buffer.write_bytes(buffer.read_bytes()[: buffer.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match=r"replay_buffer_192\.pkl is damaged.*empty replay"):
        assert main([*train_argv(out, steps=256, algo="dqn"), "--resume"]) == 0
    assert json.loads((out / "config.json").read_text())["result"]["steps"] == 256
    assert (out / "checkpoints" / "replay_buffer_192.pkl.corrupt").exists()
    fault_log(
        job="rlkit train --resume", fault="replay buffer .pkl cut short", outcome="detected",
        resumed=1, detail="was an uncaught UnpicklingError; now moved aside with a warning, "
        "the model resumes with an empty buffer that refills",
    )  # fmt: skip


def test_damaged_config_is_a_clear_error(
    finished_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fault_log: FaultLog
) -> None:
    """A damaged config.json is one line naming it (was a bare JSON error message)."""
    out = copy_run(finished_run, tmp_path / "run")
    (out / "config.json").write_bytes(b'{"algo": "ppo", "env_')
    assert main([*train_argv(out), "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert "config.json is damaged" in err and str(out) in err and "\n" not in err
    fault_log(
        job="rlkit train --resume",
        fault="config.json cut short",
        outcome="clear-error",
        detail="one line naming the file; nothing resumed on settings it cannot check",
    )


# ---------------------------------------------------------------------- full disk, read-only


def test_disk_full_at_a_checkpoint(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault_log: FaultLog,
) -> None:
    """Regression: a full disk at a checkpoint crashed rlkit train with a traceback that
    named a removed temporary file."""
    import stable_baselines3.common.base_class as base_class

    real_save = base_class.save_to_zip_file
    saves = 0

    def disk_fills_up(save_path: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal saves
        saves += 1
        if saves < 3:
            real_save(save_path, *args, **kwargs)
            return
        Path(save_path).write_bytes(b"PK\x03\x04 half a checkpoint")  # the bytes that fit
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(base_class, "save_to_zip_file", disk_fills_up)
    out = tmp_path / "run"
    assert main(train_argv(out, steps=256)) == 1
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and "model_192.zip" in err and str(out) in err
    assert "Traceback" not in err and "\n" not in err
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert names == ["model_128.zip", "model_64.zip"] and not partial_files(out)
    assert all(checkpoint_problem(p) is None for p in (out / "checkpoints").iterdir())
    monkeypatch.undo()  # space is free again: the run resumes from step 128
    assert main([*train_argv(out, steps=256), "--resume"]) == 0
    assert json.loads((out / "config.json").read_text())["resumed_from"] == 128
    fault_log(
        job="rlkit train --resume", fault="disk full (ENOSPC) at a checkpoint",
        outcome="clear-error", resumed=1, detail="one line naming the checkpoint and the "
        "folder, exit 1; the temporary file removed, earlier checkpoints intact, --resume "
        "finishes",
    )  # fmt: skip


@pytest.mark.parametrize("existing", [True, False], ids=["resume", "new-run"])
def test_read_only_run_folder(
    finished_run: Path,
    tmp_path: Path,
    existing: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault_log: FaultLog,
) -> None:
    """Regression: a read-only --out crashed rlkit train with a traceback."""
    out = tmp_path / "run"
    if existing:
        copy_run(finished_run, out)
        (out / "model.zip").unlink()
    else:
        out.mkdir()
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    argv = [*train_argv(out, steps=576), *(["--resume"] if existing else [])]
    with read_only(out, monkeypatch) as how:
        status = main(argv)
    err = capsys.readouterr().err.strip()
    assert status == 1 and str(out) in err and "Traceback" not in err
    assert ("Read-only file system" if how == "simulated" else "Permission denied") in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    fault_log(
        job="rlkit train --resume" if existing else "rlkit train",
        fault=f"read-only --out ({how})",
        outcome="clear-error",
        detail="one line naming the folder, exit 1; every file as it was",
    )


# ---------------------------------------------------------------------- rlkit pretrain


def pretrain_argv(out: Path, *more: str) -> list[str]:
    """``rlkit pretrain`` of the tiny recipe into ``out`` (``tiny.pt``, ``tiny.json``)."""
    return ["pretrain", "--out", str(out), "--name", "tiny", "--device", "cpu",
            "--no-progress", *more]  # fmt: skip


@pytest.fixture
def tiny_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """``rlkit pretrain`` in this process with the recipe the subprocesses use."""
    monkeypatch.setitem(RECIPES, "rlkit-cnn-v2", PretrainConfig(**TINY_PRETRAIN))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted tiny ``rlkit pretrain`` run."""
    out = tmp_path_factory.mktemp("pretrain") / "whole"
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(RECIPES, "rlkit-cnn-v2", PretrainConfig(**TINY_PRETRAIN))
        assert main(pretrain_argv(out)) == 0
    return out


@pytest.mark.usefixtures("tiny_recipe")
def test_pretrain_killed_and_resumed(
    pretrained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fault_log: FaultLog
) -> None:
    """kill -9 mid-pretraining; --resume ends with the uninterrupted run's weights."""
    out = tmp_path / "run"
    checkpoint = out / "checkpoint.pt"
    wanted = 1 + int(kill_moment("pretrain-interval", 3))  # after 1..3 saves of 15
    seen: set[tuple[int, int]] = set()

    def saved_enough() -> bool:  # each save is a new file (atomic replace)
        try:
            stat = checkpoint.stat()
        except FileNotFoundError:
            return False
        seen.add((stat.st_ino, stat.st_mtime_ns))  # an inode number may come back
        return len(seen) >= wanted

    job = start(pretrain_command(*pretrain_argv(out)[1:]), tmp_path)
    kill_when(job, saved_enough, delay=kill_moment("pretrain", 0.15))
    assert not (out / "tiny.pt").exists() and not (out / "tiny.json").exists()
    step = torch.load(checkpoint, weights_only=True)["step"]  # whole, readable
    assert 0 < step < TINY_PRETRAIN["steps"]

    assert main(pretrain_argv(out)) == 2  # the same command: never overwrites the run
    assert "--resume" in capsys.readouterr().err
    assert main(pretrain_argv(out, "--resume")) == 0
    card = json.loads((out / "tiny.json").read_text())
    whole = json.loads((pretrained / "tiny.json").read_text())
    assert card["sha256"] == whole["sha256"]  # the very weights of the uninterrupted run
    history = json.loads((out / "history.json").read_text())
    assert history == json.loads((pretrained / "history.json").read_text())
    assert load_backbone(out / "tiny.pt").card["sha256"] == whole["sha256"]
    assert not partial_files(out)
    fault_log(
        job="rlkit pretrain", fault="kill -9", outcome="identical", killed=1, resumed=1,
        detail=f"killed after the checkpoint of step {step}; the rerun without --resume "
        "stops with a hint, with --resume it ends with the same sha256 and loss history",
    )  # fmt: skip


@pytest.mark.usefixtures("tiny_recipe")
@pytest.mark.parametrize("how", ["truncated zip", "zero-byte file", "garbage bytes"])
def test_pretrain_damaged_checkpoint_is_a_clear_error(
    pretrained: Path,
    tmp_path: Path,
    how: str,
    capsys: pytest.CaptureFixture[str],
    fault_log: FaultLog,
) -> None:
    """Regression: an empty or garbage checkpoint.pt crashed rlkit pretrain --resume with an
    uncaught EOFError / UnpicklingError (and a cut one gave torch's message, no file)."""
    out = copy_run(pretrained, tmp_path / "run")
    _damage(out / "checkpoint.pt", how)
    assert main(pretrain_argv(out, "--resume")) == 2
    err = capsys.readouterr().err.strip()
    assert f"{out / 'checkpoint.pt'} is damaged" in err and "\n" not in err
    assert "weights_only" not in err  # torch's advice to unpickle anyway is not passed on
    fault_log(
        job="rlkit pretrain", fault=f"checkpoint.pt: {how}", outcome="clear-error",
        detail="one line naming the file (was an uncaught EOFError / UnpicklingError "
        "for empty / garbage files), before any data is collected",
    )  # fmt: skip


@pytest.mark.usefixtures("tiny_recipe")
def test_pretrain_damaged_weights_are_detected_and_redone(
    pretrained: Path, tmp_path: Path, fault_log: FaultLog
) -> None:
    """Weights cut short are refused by load_backbone; --resume writes them again."""
    out = copy_run(pretrained, tmp_path / "run")
    weights = out / "tiny.pt"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(BackboneFileError, match=re.escape(str(weights))):
        load_backbone(weights)
    assert main(pretrain_argv(out, "--resume")) == 0  # the checkpoint is whole: rewritten
    assert (
        load_backbone(weights).card["sha256"]
        == json.loads((pretrained / "tiny.json").read_text())["sha256"]
    )
    fault_log(
        job="rlkit pretrain", fault="weights .pt cut short", outcome="detected", resumed=1,
        detail="load_backbone raises BackboneFileError naming the file (sha256 against "
        "the card); --resume rewrites the same weights from the final checkpoint",
    )  # fmt: skip


# ---------------------------------------------------------------------- DAgger


def dagger_argv(out: Path, *more: str) -> list[str]:
    return [
        "distill", "--env", "rlkit/GridNav-v0", "--env-kwarg", "layout=empty",
        "--env-kwarg", "size=5", "--demos", "4", "--method", "dagger", "--iterations", "6",
        "--rollouts", "4", "--epochs", "20", "--device", "cpu", "--finetune", "frozen",
        "--augment", "--no-progress", "--out", str(out), *more,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def distilled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted tiny DAgger run: 4 demos, 6 rounds of 4 episodes."""
    out = tmp_path_factory.mktemp("dagger") / "whole"
    assert main(dagger_argv(out)) == 0
    return out


def test_dagger_killed_and_resumed(
    distilled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fault_log: FaultLog
) -> None:
    """kill -9 mid-DAgger; --resume continues after the last round, same weights."""
    out = tmp_path / "run"
    after = int(kill_moment("dagger-round", 2))  # after round 0 or 1 of 0..6
    job = start(rlkit_command(*dagger_argv(out)), tmp_path)
    ready = (out / "rounds" / f"state_{after}.pt").exists
    kill_when(job, ready, delay=kill_moment("dagger", 0.15))
    model = out / "model.zip"  # written only once every round is done, and whole
    assert not model.exists() or checkpoint_problem(model) is None
    states = sorted((out / "rounds").glob("state_*.pt"))
    assert states and all(isinstance(torch.load(p, weights_only=True), dict) for p in states)
    done = max(int(p.stem.split("_")[1]) for p in states)

    assert main(dagger_argv(out)) == 2  # the same command: never overwrites the run
    assert "--resume" in capsys.readouterr().err
    assert main(dagger_argv(out, "--resume")) == 0
    assert same_weights(out / "model.zip", distilled / "model.zip")
    result = json.loads((out / "config.json").read_text())["result"]
    expected = json.loads((distilled / "config.json").read_text())["result"]
    assert {k: v for k, v in result.items() if k != "seconds"} == {
        k: v for k, v in expected.items() if k != "seconds"
    }
    assert not (out / "rounds").exists()  # finished: no run left to resume
    fault_log(
        job="rlkit distill --method dagger", fault="kill -9", outcome="identical", killed=1,
        resumed=1, detail=f"killed after round {done} of 6; --resume continues after it "
        "(was: no checkpoints, everything redone) and ends with the uninterrupted weights",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("damaged", "how"), [("state_2.pt", "garbage bytes"), ("data_2.pt", "truncated zip")]
)
def test_dagger_damaged_round_checkpoint_falls_back(
    distilled: Path,
    tmp_path: Path,
    damaged: str,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    fault_log: FaultLog,
) -> None:
    """A damaged round checkpoint is moved aside; the round before is resumed."""
    real_save = RoundCheckpoints.save

    def killed_after_round_two(self: RoundCheckpoints, state: Any, parts: Any) -> None:
        real_save(self, state, parts)
        if state.round == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(RoundCheckpoints, "save", killed_after_round_two)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        main(dagger_argv(out))
    monkeypatch.undo()
    _damage(out / "rounds" / damaged, how)
    with pytest.warns(RuntimeWarning) as warned:
        assert main(dagger_argv(out, "--resume")) == 0
    # the damaged file first; a damaged data file also sets aside the state built on it
    messages = [str(w.message) for w in warned if " is damaged (" in str(w.message)]
    assert re.search(rf"{re.escape(damaged)} is damaged", messages[0])
    assert len(messages) == (1 if damaged.startswith("state") else 2)
    assert same_weights(out / "model.zip", distilled / "model.zip")
    assert not (out / "rounds" / "state_2.pt").exists()  # finished: only .corrupt left
    fault_log(
        job="rlkit distill --method dagger", fault=f"latest round's {damaged}: {how}",
        outcome="detected", resumed=1, detail="moved aside with a warning (sha256 and "
        "torch.load checks); round 2 redone from round 1's checkpoint, same weights as "
        "the uninterrupted run",
    )  # fmt: skip
