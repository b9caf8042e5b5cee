"""Keystone's list filters: exact matches on attributes and the inexact
``name__contains``/``__startswith``/``__endswith``/``__equals`` family (with an
``i`` prefix for case-insensitive)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Boolean, Select, Table, func

from nubo.core.errors import ValidationError

INEXACT = ("contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
           "equals", "iequals")


def parse_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise ValidationError(f"Invalid input for field '{name}': {value!r} is not a boolean.")


def apply_filters(
    q: Select[Any],
    table: Table,
    filters: Mapping[str, str],
    *,
    exact: Iterable[str] = (),
    text: Iterable[str] = (),
) -> Select[Any]:
    for name in [*exact, *text]:
        if name in filters:
            col = table.c[name]
            raw = filters[name]
            value: Any = parse_bool(name, raw) if isinstance(col.type, Boolean) else raw
            q = q.where(col == value)
    for name in text:
        for op in INEXACT:
            key = f"{name}__{op}"
            if key in filters:
                q = q.where(_inexact(table.c[name], op, filters[key]))
    return q


def _inexact(col: Any, op: str, value: str) -> Any:
    ci = op.startswith("i")
    kind = op[1:] if ci else op
    target = func.lower(col) if ci else col
    v = value.lower() if ci else value
    esc = v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if kind == "contains":
        return target.like(f"%{esc}%", escape="\\")
    if kind == "startswith":
        return target.like(f"{esc}%", escape="\\")
    if kind == "endswith":
        return target.like(f"%{esc}", escape="\\")
    return target == v
