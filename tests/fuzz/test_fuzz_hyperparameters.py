"""Fuzz hyperparameters (:mod:`rlkit.deep.hyperparameters`): the YAML file's text (fed
through a stand-in for the shipped file) and the overrides of ``--set`` and suite kwargs.
Oracle: hyperparameters, or a ``ValueError``/``TypeError`` naming the key or the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

pytest.importorskip("stable_baselines3")

from rlkit.deep import hyperparameters as hp_module
from rlkit.deep.hyperparameters import load_hyperparams, resolve_hyperparams, sb3_kwargs

FUZZ = settings.get_profile("fuzz")
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
              st.sampled_from(["lin_3e-4", "lin_x", "relu", "nn.Nope", "HerReplayBuffer"])),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
KEYS = st.one_of(
    st.sampled_from(["learning_rate", "policy_kwargs", "n_envs", "total_steps", "batch_size",
                     "replay_buffer_class", "train_freq", "clip_range", "gamma"]),
    st.text(max_size=8),
    st.integers(),
)  # fmt: skip


def _names(overrides: dict[Any, Any]) -> list[str]:
    return ["hyperparams", *(str(k) for k in overrides)]


@FUZZ
@given(
    algo=st.sampled_from(["ppo", "dqn", "sac"]), overrides=st.dictionaries(KEYS, VALUES, max_size=3)
)
@example(algo="dqn", overrides={1: 2})
@example(algo="ppo", overrides={"policy_kwargs": 5})
@example(algo="ppo", overrides={"policy_kwargs": "abc"})
def test_overrides_resolve_or_raise(
    typed_or_ok: Callable[..., Any], algo: str, overrides: dict[Any, Any]
) -> None:
    def resolve() -> dict[str, Any]:
        hp = resolve_hyperparams(algo, "rlkit/GridNav-v0", overrides, {"total_steps": 10})
        return sb3_kwargs(hp, backbone_policy=False)

    typed_or_ok(resolve, (ValueError, TypeError), _names(overrides))


@FUZZ
@given(st.one_of(st.text(max_size=80), st.sampled_from(
    ["- a\n- b\n", "default: 3\n", "default: {n_envs: [1]}\n", "rlkit/GridNav-v0: x\n",
     "default: {bogus: 1}\n", "{", "42", "default:\n  policy_kwargs: 1\n"])))  # fmt: skip
def test_hyperparameter_file_text_loads_or_raises(
    typed_or_ok: Callable[..., Any], text: str
) -> None:
    files = mock.MagicMock()
    files.return_value.joinpath.return_value.read_text.return_value = text
    with mock.patch.object(hp_module.resources, "files", files):
        typed_or_ok(
            lambda: load_hyperparams("dqn", "rlkit/GridNav-v0"),
            (ValueError, TypeError),
            ["hyperparams", "dqn.yml"],
        )


@pytest.mark.parametrize("overrides", [{1: 2}, {"policy_kwargs": 5}, {"policy_kwargs": "abc"}])
def test_non_mapping_overrides_name_the_key(overrides: dict[Any, Any]) -> None:
    """Regression (fuzz): a non-string key raised AttributeError ('int' has no endswith);
    a policy_kwargs that is not a mapping raised a bare TypeError/ValueError from dict()."""
    with pytest.raises((ValueError, TypeError), match="hyperparams"):
        hp = resolve_hyperparams("ppo", "rlkit/GridNav-v0", overrides, {"total_steps": 10})
        sb3_kwargs(hp, backbone_policy=False)


def test_file_that_is_not_a_mapping_names_the_file() -> None:
    """Regression (fuzz): a YAML file holding a list raised AttributeError ('list' has no get)."""
    files = mock.MagicMock()
    files.return_value.joinpath.return_value.read_text.return_value = "- a\n- b\n"
    with (
        mock.patch.object(hp_module.resources, "files", files),
        pytest.raises(ValueError, match=r"dqn\.yml"),
    ):
        load_hyperparams("dqn", "rlkit/GridNav-v0")
