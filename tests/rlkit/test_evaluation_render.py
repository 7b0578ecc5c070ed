"""render_episodes(): GIF recording, window mode, and clear errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import gymnasium as gym
import imageio.v3 as iio
import pytest

from rlkit.evaluation.render import render_episodes


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


@pytest.mark.parametrize(
    ("agent", "env_id"),
    [("random", "FrozenLake-v1"), ("planner", "rlkit/GridNav-v0")],
)
def test_gif_recording(tmp_path: Path, agent: str, env_id: str) -> None:
    if env_id.startswith("rlkit/"):
        pytest.importorskip("envs", reason="GridNav (envs package) is not installed")
    out = render_episodes(agent, env_id, episodes=2, out=tmp_path / "run.gif", max_steps=20)
    assert out == tmp_path / "run.gif"
    frames = iio.imread(out, index=None)
    assert frames.ndim == 4 and frames.shape[0] >= 4  # reset + steps of two episodes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.gif"]


def test_window_mode(tmp_path: Path) -> None:
    # FrozenLake draws a pygame window (a dummy one here) and sleeps 1/fps per frame.
    assert render_episodes(lambda obs: 2, "FrozenLake-v1", episodes=1, max_steps=2) is None


@pytest.mark.skipif(
    importlib.util.find_spec("imageio_ffmpeg") is not None, reason="imageio-ffmpeg is installed"
)
def test_mp4_without_ffmpeg_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(
        gym.error.DependencyNotInstalled, match=r"pip install imageio-ffmpeg.*\.gif"
    ):
        render_episodes("random", "FrozenLake-v1", out=tmp_path / "run.mp4")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"out": "run.avi"}, r"must end in \.gif or \.mp4"),
        ({"episodes": 0}, "episodes must be a positive int"),
        ({"env_id": "FrozenLake-v9"}, "did you mean 'FrozenLake-v1'"),
    ],
)
def test_bad_input(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    options: dict[str, object] = {"agent": "random", "env_id": "FrozenLake-v1", "out": "run.gif"}
    options.update(kwargs)
    with pytest.raises(ValueError, match=match):
        render_episodes(**options)  # type: ignore[arg-type]


def test_env_without_rgb_array(tmp_path: Path) -> None:
    gym.register("rlkit-test/NoFrames-v0", entry_point=_no_frames_env)
    try:
        with pytest.raises(ValueError, match="has no 'rgb_array' render mode"):
            render_episodes("random", "rlkit-test/NoFrames-v0", out=tmp_path / "x.gif")
    finally:
        del gym.registry["rlkit-test/NoFrames-v0"]


def _no_frames_env(**kwargs: Any) -> gym.Env[Any, Any]:
    env = gym.make("FrozenLake-v1").unwrapped
    env.metadata = {"render_modes": ["ansi"], "render_fps": 4}
    return env
