"""How the ``rlkit`` command reports errors (rlkit.cli.main)."""

from __future__ import annotations

import argparse
import errno
import os

import pytest

import rlkit.cli as cli


def _parser_raising(error: BaseException) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlkit")
    sub = parser.add_subparsers(dest="command", required=True)

    def fail(args: argparse.Namespace) -> int:
        raise error

    sub.add_parser("job").set_defaults(func=fail)
    return parser


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_disk_errors_are_one_line_naming_the_file(
    code: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    error = OSError(code, os.strerror(code), "/results/out/model.zip")
    monkeypatch.setattr(cli, "build_parser", lambda: _parser_raising(error))
    assert cli.main(["job"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlkit job: error writing /results/out/model.zip: ")
    assert os.strerror(code) in err and "\n" not in err and "writable output folder" in err


def test_other_os_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    error = OSError(errno.ENOENT, "No such file or directory", "x")
    monkeypatch.setattr(cli, "build_parser", lambda: _parser_raising(error))
    with pytest.raises(FileNotFoundError):
        cli.main(["job"])
