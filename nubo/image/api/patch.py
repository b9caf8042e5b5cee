"""JSON patch as Glance takes it (``application/openstack-images-v2.1-json-patch``):
a list of ``add``, ``replace`` and ``remove`` operations on top-level attributes."""

from __future__ import annotations

from typing import Any

from nubo.core.errors import BadRequest, UnsupportedMediaType

MEDIA_TYPES = ("application/openstack-images-v2.1-json-patch",
               "application/openstack-images-v2.0-json-patch")
OPS = ("add", "replace", "remove")


def check_media_type(content_type: str) -> bool:
    """Refuse other media types (415); True for v2.1, whose ``add`` replaces."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {content_type!r}: send {MEDIA_TYPES[0]}.")
    return media_type == MEDIA_TYPES[0]


def _attribute(path: Any) -> str:
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    parts = path[1:].split("/")
    if len(parts) > 1:
        raise BadRequest(f"Nested paths are not allowed: '{path}'")
    part = parts[0]
    if "~" in part.replace("~0", "").replace("~1", ""):
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    return part.replace("~1", "/").replace("~0", "~")


def _op_and_path(raw: dict[str, Any]) -> tuple[str, Any]:
    """``{"op": "add", "path": "/x"}``, or Glance's older ``{"add": "/x"}`` form."""
    if "op" not in raw:
        named = [op for op in OPS if op in raw]
        if len(named) != 1:
            raise BadRequest("Unable to find 'op' in JSON Schema change")
        return named[0], raw[named[0]]
    op = raw["op"]
    if op not in OPS:
        raise BadRequest(f"Invalid operation: `{op}`. It must be one of {', '.join(OPS)}.")
    if "path" not in raw:
        raise BadRequest("Unable to find 'path' in JSON Schema change")
    return str(op), raw["path"]


def parse(body: Any) -> list[tuple[str, str, Any]]:
    """The operations of a patch document, or 400 naming what is wrong."""
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    changes: list[tuple[str, str, Any]] = []
    for raw in body:
        if not isinstance(raw, dict):
            raise BadRequest("Operations must be JSON objects.")
        op, path = _op_and_path(raw)
        key = _attribute(path)
        if op != "remove" and "value" not in raw:
            raise BadRequest("Unable to find 'value' in JSON Schema change")
        extra = set(raw) - {"op", "path", "value", op}
        if extra:
            raise BadRequest(f"Operation objects must contain only 'op', 'path' and "
                             f"'value': {sorted(extra)}")
        changes.append((op, key, raw.get("value")))
    return changes
