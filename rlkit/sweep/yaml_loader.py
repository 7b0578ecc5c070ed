r"""YAML for suite files: PyYAML's safe loader, refusing a key given twice.

>>> load_yaml("a: 1\nb: [2, 3]")
{'a': 1, 'b': [2, 3]}
>>> try:
...     load_yaml("a: 1\na: 2")
... except Exception as error:
...     print(type(error).__name__, "-", error.problem)
ConstructorError - key 'a' appears twice
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

__all__ = ["load_yaml", "yaml_module"]


def yaml_module() -> Any:
    """The ``yaml`` module (PyYAML)."""
    # Through importlib: PyYAML ships no type hints, and the stubs are not a dependency.
    return importlib.import_module("yaml")


def load_yaml(text: str) -> Any:
    """``text`` parsed by a ``SafeLoader`` that rejects a key given twice (PyYAML keeps
    the last)."""
    return yaml_module().load(text, Loader=_unique_key_loader())


@cache  # one loader class per process, not one per file read
def _unique_key_loader() -> type:
    yaml = yaml_module()

    # Built with type(): the base class comes from a module imported at run time.
    loader: Any = type(
        "UniqueKeyLoader",
        (yaml.SafeLoader,),
        {"__doc__": "SafeLoader that rejects a key given twice (PyYAML keeps the last)."},
    )

    def construct_mapping(constructor: Any, node: Any) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = constructor.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return constructor.construct_mapping(node)

    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    result: type = loader
    return result
