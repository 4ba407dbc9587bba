"""The terminal app (Textual): the only package that imports textual.

``LrtuiApp`` is loaded on first use, so that importing a Textual-free module of this package
(``controller``, ``opening``, ``pacing``) imports no Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .app import LrtuiApp

__all__ = ["LrtuiApp"]
__getattr__, __dir__ = lazy_names(__name__, {"LrtuiApp": "app"}, globals(), __all__)
