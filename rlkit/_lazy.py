"""Lazy package attributes (PEP 562): heavy modules load when a name is first used.

A package lists where each public name lives and takes its ``__getattr__`` and
``__dir__`` from :func:`lazy_exports`::

    _MODULES = {"ConvEncoder": ".model", "pretrain": ".pretrain"}
    __getattr__, __dir__ = lazy_exports(__name__, _MODULES)

so ``import rlkit.deep`` stays cheap and ``rlkit.deep.BackboneExtractor`` imports torch
only then. The first lookup of a name stores every name of its module in the package, so
later lookups never reach ``__getattr__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``(__getattr__, __dir__)`` pair of ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : mapping of str to str
        Public name -> the module defining it, absolute or relative to ``package``
        (``".model"``).

    Examples
    --------
    >>> import types
    >>> sys.modules["demo_pkg"] = types.ModuleType("demo_pkg")
    >>> getattr_, dir_ = lazy_exports("demo_pkg", {"sqrt": "math", "pi": "math"})
    >>> getattr_("sqrt")(9.0), "pi" in vars(sys.modules["demo_pkg"])
    (3.0, True)
    >>> getattr_("cosine")
    Traceback (most recent call last):
    ...
    AttributeError: module 'demo_pkg' has no attribute 'cosine'
    >>> del sys.modules["demo_pkg"]
    """
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(module, package)
        for exported, home in where.items():
            if home == module:
                namespace[exported] = getattr(loaded, exported)
        return namespace[name]

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
