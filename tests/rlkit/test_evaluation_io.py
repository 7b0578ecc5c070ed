"""EvalResult files (JSON, CSV, markdown), provenance and compare()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlkit.evaluation import EvalResult, compare, evaluate, probability_of_improvement
from rlkit.evaluation.atomic import atomic_output


@pytest.fixture(scope="module")
def frozen_random() -> EvalResult:
    return evaluate("random", "FrozenLake-v1", episodes=4, seeds=3, progress_bar=False)


@pytest.fixture(scope="module")
def gridnav_pair() -> list[EvalResult]:
    pytest.importorskip("envs", reason="GridNav (envs package) is not installed")
    return [
        evaluate(agent, "rlkit/GridNav-v0", episodes=6, seeds=4, progress_bar=False)
        for agent in ("planner", "random")
    ]


def test_json_round_trip(tmp_path: Path, gridnav_pair: list[EvalResult]) -> None:
    result = gridnav_pair[1]
    path = result.to_json(tmp_path / "sub" / "random.json")
    loaded = EvalResult.from_json(path)
    assert loaded.records == result.records
    assert loaded.metadata == json.loads(json.dumps(result.metadata))
    assert [p.name for p in path.parent.iterdir()] == ["random.json"]  # no temp file left


def test_csv_round_trip(
    tmp_path: Path, gridnav_pair: list[EvalResult], frozen_random: EvalResult
) -> None:
    for result in (*gridnav_pair, frozen_random):
        path = result.to_csv(tmp_path / "records.csv")
        loaded = EvalResult.from_csv(path, metadata=result.metadata)
        assert loaded.records == result.records  # floats, bools and None survive
    header = path.read_text().splitlines()[0]
    assert header.startswith("task,seed,episode,reset_seed,return,length")


def test_metadata_says_how_it_was_made(frozen_random: EvalResult) -> None:
    meta = frozen_random.metadata
    assert meta["agent"] == "random" and meta["env_id"] == "FrozenLake-v1"
    assert meta["env_source"] == "id" and "TimeLimit" in meta["env_wrappers"]
    for key in ("command", "date", "git_commit", "git_dirty", "python"):
        assert key in meta
    assert {"rlkit", "gymnasium", "numpy"} <= set(meta["versions"])
    assert meta["versions"]["numpy"] is not None


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ({"records": []}, "not an rlkit evaluation result"),
        ({"format": {"name": "rlkit.evaluation.result", "version": 99}, "records": []}, "newer"),
    ],
)
def test_from_json_rejects_other_files(tmp_path: Path, content: dict[str, Any], match: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=match):
        EvalResult.from_json(path)


def test_from_csv_rejects_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("task,seed\nFrozenLake-v1,0\n")
    with pytest.raises(ValueError, match="lacks the columns"):
        EvalResult.from_csv(path)


def test_atomic_output_keeps_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_markdown_report(gridnav_pair: list[EvalResult]) -> None:
    text = gridnav_pair[0].to_markdown()
    assert text.startswith("## planner on rlkit/GridNav-v0")
    # mean [CI] | IQM [CI] | median | optimality gap | seeds x tasks | episodes
    row = "| Success rate | 1.000 [1.000, 1.000] | 1.000 [1.000, 1.000] | 1.000 | 0.000 | 4 × 1 |"
    assert row in text
    assert "| SPL | 1.000 [1.000, 1.000]" in text
    assert "- Run: 24 episodes over 4 seeds (6 per seed)\n" in text


def test_compare_table(gridnav_pair: list[EvalResult]) -> None:
    planner, random_ = gridnav_pair
    table = compare(gridnav_pair).splitlines()
    assert table[0] == (
        "| Agent | Env | Episodes | Success rate IQM [95% CI] | SPL IQM [95% CI] | "
        "Return IQM [95% CI] | P(> planner) on success [95% CI] |"
    )
    assert len(table) == 4
    assert table[2].startswith("| planner | rlkit/GridNav-v0 | 24 | 1.000 [1.000, 1.000]")
    assert table[2].endswith("(baseline) |")
    assert table[3].startswith("| random |")
    # Random never beats the perfect planner; it ties on seeds where it always succeeded.
    x, y = random_.score_matrix("success"), planner.score_matrix("success")
    assert table[3].split(" | ")[-1].startswith(f"{probability_of_improvement(x, y):.2f} [")
    assert probability_of_improvement(x, y) < 0.5
    flipped = compare(gridnav_pair, ["spl"], baseline=1, statistic="mean").splitlines()
    assert flipped[2].endswith("1.00 [1.00, 1.00] |")  # planner's SPL beats random's


def test_compare_with_unavailable_metrics(frozen_random: EvalResult) -> None:
    table = compare([frozen_random, frozen_random])
    assert "n/a (env gives no is_success)" in table
    assert "P(> random) on return" in table  # falls back to a metric the env has


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"statistic": "max"}, "statistic must be one of"),
        ({"baseline": 3}, "baseline 3 is not an index"),
        ({"metrics": []}, "at least one metric"),
    ],
)
def test_compare_bad_input(frozen_random: EvalResult, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compare([frozen_random], **kwargs)
    with pytest.raises(ValueError, match="at least one result"):
        compare([])


def test_git_commit_never_writes_the_index(tmp_path: Path) -> None:
    """Regression (#18 fault tests): ``git status`` refreshes a stale index under
    ``.git/index.lock``; a run killed meanwhile left the lock behind and blocked git.
    Reading provenance must leave the checkout's index untouched."""
    import os
    import shutil
    import subprocess

    from rlkit.evaluation.provenance import git_commit

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    tracked = tmp_path / "file.txt"
    tracked.write_text("x")
    for args in (["init", "-q"], ["add", "file.txt"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, env=env)
    index = tmp_path / ".git" / "index"
    os.utime(tracked, (1, 1))  # the index's stat data is stale: status would refresh it
    before = index.stat().st_mtime_ns
    commit, dirty = git_commit(tmp_path)
    assert commit is not None and dirty is False
    assert index.stat().st_mtime_ns == before
