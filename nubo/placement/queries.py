"""Parsing Placement's query strings: resources, traits and aggregates.

``resources=VCPU:1,MEMORY_MB:512``, ``required=A,!B,in:C,D`` (each item either a
trait, a forbidden trait or an any-of set) and ``member_of=in:a,b`` /
``member_of=!in:a,b`` (repeated: every one must match). Bad values raise
BadRequest with Placement's ``placement.query.bad_value`` code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from nubo.core.errors import BadRequest

BAD_VALUE = "placement.query.bad_value"
RC_NAME = re.compile(r"^[A-Z0-9_]+$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                  r"[0-9a-fA-F]{12}$")


def bad(message: str) -> BadRequest:
    return BadRequest(message, code=BAD_VALUE)


def parse_resources(text: str, *, param: str = "resources") -> dict[str, int]:
    """``"VCPU:1,MEMORY_MB:512"`` → ``{"VCPU": 1, "MEMORY_MB": 512}``."""
    out: dict[str, int] = {}
    for item in text.split(","):
        name, sep, amount = item.strip().partition(":")
        if not sep or not RC_NAME.match(name) or not amount.strip().isdigit():
            raise bad(f"Badly formed {param} parameter. Expected {param} query string "
                      f"parameter in form: ?{param}=VCPU:2,MEMORY_MB:1024. Got: {text}.")
        if name in out:
            raise bad(f"Invalid {param}: {name} appears more than once.")
        value = int(amount)
        if value < 1:
            raise bad(f"Requested resource {name} expected positive integer amount. "
                      f"Got: {value}.")
        out[name] = value
    return out


@dataclass
class TraitQuery:
    """Required traits as any-of sets (a plain trait is a set of one) and forbidden ones."""

    required: list[frozenset[str]] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)

    def names(self) -> set[str]:
        return set().union(*self.required) | self.forbidden

    def matches(self, traits: frozenset[str] | set[str]) -> bool:
        if self.forbidden & traits:
            return False
        return all(any_of & traits for any_of in self.required)


def parse_required(values: Iterable[str], *, forbidden_ok: bool = True,
                   any_of_ok: bool = True) -> TraitQuery:
    """Each value is ``A,!B`` or ``in:A,B`` (several values: all must hold)."""
    query = TraitQuery()
    for value in values:
        value = value.strip()
        if value.startswith("in:"):
            if not any_of_ok:
                raise bad(f"Invalid query string parameters: 'in:' is not supported at this "
                          f"microversion. Got: {value}.")
            names = _trait_names(value[3:], value)
            query.required.append(frozenset(names))
            continue
        for name in _trait_names(value, value, allow_bang=forbidden_ok):
            if name.startswith("!"):
                query.forbidden.add(name[1:])
            else:
                query.required.append(frozenset({name}))
    clash = {t for s in query.required if len(s) == 1 for t in s} & query.forbidden
    if clash:
        raise bad(f"Conflicting required and forbidden traits found in the following "
                  f"traits keys: {', '.join(sorted(clash))}.")
    return query


def _trait_names(text: str, whole: str, *, allow_bang: bool = False) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    for name in names:
        bare = name[1:] if allow_bang and name.startswith("!") else name
        if not bare or not RC_NAME.match(bare):
            raise bad(f"Invalid query string parameters: Expected 'required' parameter value "
                      f"of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {whole}.")
    return names


@dataclass
class AggregateQuery:
    """``member_of``: each any-of set must intersect; none of ``forbidden`` may."""

    any_of: list[frozenset[str]] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)

    def matches(self, aggregates: frozenset[str] | set[str]) -> bool:
        if self.forbidden & aggregates:
            return False
        return all(s & aggregates for s in self.any_of)

    def __bool__(self) -> bool:
        return bool(self.any_of or self.forbidden)


def parse_member_of(values: Iterable[str], *, forbidden_ok: bool = True) -> AggregateQuery:
    query = AggregateQuery()
    for value in values:
        value = value.strip()
        negate = value.startswith("!")
        if negate:
            if not forbidden_ok:
                raise bad(f"Invalid query string parameters: forbidden aggregates are not "
                          f"supported at this microversion. Got: {value}.")
            value = value[1:]
        text = value[3:] if value.startswith("in:") else value
        uuids = [u.strip() for u in text.split(",")]
        for u in uuids:
            if not UUID.match(u):
                raise bad(f"Invalid query string parameters: Expected 'member_of' parameter "
                          f"to contain valid UUID(s). Got: {u}.")
        if negate:
            if value.startswith("in:") is False and len(uuids) > 1:
                raise bad("Invalid query string parameters: Forbidden member_of needs "
                          "'!in:' for more than one aggregate.")
            query.forbidden.update(uuids)
        else:
            query.any_of.append(frozenset(uuids))
    return query
