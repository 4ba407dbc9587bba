"""Package names loaded on first use (PEP 562), so that what needs no torch (``lrtui --help``,
the settings registry) does not import it."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from importlib import import_module
from typing import Any


def lazy_names(
    package: str, home_of: dict[str, str], namespace: MutableMapping[str, Any], public: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names live in the submodules
    ``home_of`` names; a name once loaded is kept in ``namespace``, so later look-ups are plain."""

    def __getattr__(name: str) -> Any:
        home = home_of.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{home}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__


def lazy_callable(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for the function or class ``module.name`` that imports ``module`` when first
    called: for the app's modules, which paint their first frame before torch is imported.
    (Write it under ``if not TYPE_CHECKING``, beside the real import, so type checkers see the
    real signature.)"""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call
