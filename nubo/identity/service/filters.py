"""Keystone's list filters: exact matches on attributes and the inexact
``name__contains``/``__startswith``/``__endswith``/``__equals`` family (with an
``i`` prefix for case-insensitive)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Boolean, Select, Table, bindparam, func, select

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


# built statements by their shape (table, fixed part, which filters are present,
# order); the filter values are bound parameters, so a list built once is reused
_BUILT: dict[tuple[Any, ...], Select[Any]] = {}


def filtered(
    table: Table,
    filters: Mapping[str, str],
    *,
    exact: Iterable[str] = (),
    text: Iterable[str] = (),
    where: tuple[Any, ...] = (),
    order_by: str | None = None,
) -> tuple[Select[Any], dict[str, Any]]:
    """``SELECT * FROM table`` with Keystone's filters, and the values to bind.

    ``where`` are fixed conditions of the caller: module-level expressions, because
    they are part of the shape under which the statement is kept.
    """
    exact, text = tuple(exact), tuple(text)
    present = [n for n in (*exact, *text) if n in filters]
    inexact = [(n, op) for n in text for op in INEXACT if f"{n}__{op}" in filters]
    params: dict[str, Any] = {}
    for name in present:
        col = table.c[name]
        raw = filters[name]
        params[f"f_{name}"] = parse_bool(name, raw) if isinstance(col.type, Boolean) else raw
    for name, op in inexact:
        params[f"f_{name}__{op}"] = _pattern(op, filters[f"{name}__{op}"])
    key = (table.name, tuple(id(w) for w in where), tuple(present), tuple(inexact), order_by)
    q = _BUILT.get(key)
    if q is None:
        q = select(table).where(*where)
        for name in present:
            q = q.where(table.c[name] == bindparam(f"f_{name}"))
        for name, op in inexact:
            q = q.where(_inexact(table.c[name], op, bindparam(f"f_{name}__{op}")))
        if order_by is not None:
            q = q.order_by(table.c[order_by])
        _BUILT[key] = q
    return q, params


def _pattern(op: str, value: str) -> str:
    ci = op.startswith("i")
    kind = op[1:] if ci else op
    v = value.lower() if ci else value
    if kind == "equals":
        return v
    esc = v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if kind == "contains":
        return f"%{esc}%"
    if kind == "startswith":
        return f"{esc}%"
    return f"%{esc}"


def _inexact(col: Any, op: str, value: Any) -> Any:
    target = func.lower(col) if op.startswith("i") else col
    if op.endswith("equals"):
        return target == value
    return target.like(value, escape="\\")
