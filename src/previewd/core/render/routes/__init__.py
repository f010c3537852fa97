"""Route kinds that expose one Service of a preview at its host. One module per kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from previewd.config.repositories import ROUTE_KIND_NAMES
from previewd.core.render.routes import httproute

if TYPE_CHECKING:
    from previewd.core.render.routes.common import RouteSpec
    from previewd.core.render.yamlout import Manifest

ROUTE_KINDS: dict[str, Callable[[RouteSpec], list[Manifest]]] = {
    "httproute": httproute.render,
}

if set(ROUTE_KINDS) != set(ROUTE_KIND_NAMES):  # a kind config accepts must have a renderer, and back
    raise RuntimeError(f"route kinds {sorted(ROUTE_KINDS)} differ from config's {sorted(ROUTE_KIND_NAMES)}")
