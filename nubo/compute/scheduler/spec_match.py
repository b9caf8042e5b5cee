"""Nova's extra-spec operators: how ``aggregate_instance_extra_specs:key=<op> value``
is compared with a host's value.

``=`` means "at least" (numeric), ``==``/``!=``/``>=``/``<=`` compare numbers,
``s==``/``s!=``/``s<``/``s<=``/``s>``/``s>=`` compare strings, ``<in>`` is a
substring test, ``<all-in>`` needs every listed word, ``<or>`` any of the
alternatives; a requirement without an operator must equal the value exactly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def check(value: str, wanted: str) -> bool:
        try:
            return compare(float(value), float(wanted))
        except ValueError:
            return False
    return check


_SINGLE: dict[str, Callable[[str, str], bool]] = {
    "=": _numeric(operator.ge),
    "==": _numeric(operator.eq),
    "!=": _numeric(operator.ne),
    ">=": _numeric(operator.ge),
    "<=": _numeric(operator.le),
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
    "<in>": lambda value, wanted: wanted in value,
}


def matches(value: str | None, requirement: str) -> bool:
    """Does a host's ``value`` satisfy ``requirement`` (an extra spec's value)?"""
    words = requirement.split()
    op = words[0] if words else ""
    if op not in _SINGLE and op not in ("<or>", "<all-in>"):
        return value == requirement
    if value is None:
        return False
    arguments = words[1:]
    if op == "<or>":
        return value in arguments[::2]
    if op == "<all-in>":
        return bool(arguments) and all(word in value for word in arguments)
    return bool(arguments) and _SINGLE[op](value, arguments[0])
