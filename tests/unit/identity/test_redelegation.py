"""The trust redelegation rules, alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from nubo.core.errors import Forbidden, ValidationError
from nubo.identity.service.redelegation import Link, Wanted, check_fields, settle

NOW = dt.datetime(2030, 1, 1)
ROLES = frozenset({"r1", "r2"})


def _link(count: int = 3, **kw: object) -> Link:
    base = Link(id="parent", project_id="p", impersonation=True,
                expires_at=NOW + dt.timedelta(hours=1), redelegation_count=count,
                role_ids=ROLES)
    return replace(base, **kw)  # type: ignore[arg-type]


def _wanted(**kw: object) -> Wanted:
    base = Wanted(project_id="p", impersonation=True, expires_at=None, remaining_uses=None,
                  role_ids=frozenset({"r1"}))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_first_trust_counts() -> None:
    assert settle(_wanted(), [], 3).redelegation_count == 0
    assert settle(_wanted(allow_redelegation=True), [], 3).redelegation_count == 3
    assert settle(_wanted(allow_redelegation=True, redelegation_count=2), [], 3
                  ).redelegation_count == 2
    assert settle(_wanted(allow_redelegation=True, redelegation_count=0), [], 3
                  ).redelegation_count == 0
    with pytest.raises(Forbidden):
        settle(_wanted(allow_redelegation=True, redelegation_count=4), [], 3)
    with pytest.raises(ValidationError):
        settle(_wanted(allow_redelegation=True, remaining_uses=1), [], 3)
    # a plain trust may limit its uses
    assert settle(_wanted(remaining_uses=1), [], 3).redelegated_trust_id is None


def test_child_takes_count_and_expiry_from_its_chain() -> None:
    grand = _link(3, id="grand", expires_at=NOW + dt.timedelta(minutes=30))
    parent = _link(2, expires_at=NOW + dt.timedelta(minutes=20))
    got = settle(_wanted(allow_redelegation=True), [parent, grand], 3)
    assert got.redelegation_count == 1 and got.redelegated_trust_id == "parent"
    assert got.expires_at == NOW + dt.timedelta(minutes=20)
    # a terminator: allowed to be made, not to be redelegated
    assert settle(_wanted(), [_link(2)], 3).redelegation_count == 0
    assert settle(_wanted(allow_redelegation=True, redelegation_count=1), [_link(2)], 3
                  ).redelegation_count == 1


@pytest.mark.parametrize(("wanted", "chain"), [
    (_wanted(), [_link(0)]),                                     # depth used up
    (_wanted(), [_link(4)]),                                     # above the maximum
    (_wanted(allow_redelegation=True, redelegation_count=1), [_link(3)]),  # not parent-1
    (_wanted(remaining_uses=2), [_link()]),                      # uses on a redelegation
    (_wanted(expires_at=NOW + dt.timedelta(hours=2)), [_link()]),  # outlives the parent
    (_wanted(role_ids=frozenset({"r3"})), [_link()]),            # a role not delegated
    (_wanted(), [_link(), _link(3, id="grand", role_ids=frozenset({"r2"}))]),
    (_wanted(), [_link(impersonation=False)]),                   # widens impersonation
    (_wanted(project_id="q"), [_link()]),                        # another project
])
def test_refusals(wanted: Wanted, chain: list[Link]) -> None:
    with pytest.raises(Forbidden):
        settle(wanted, chain, 3)


def test_no_expiry_in_the_chain_leaves_none() -> None:
    assert settle(_wanted(), [_link(expires_at=None)], 3).expires_at is None
    soon = NOW + dt.timedelta(minutes=5)
    assert settle(_wanted(expires_at=soon), [_link(expires_at=None)], 3).expires_at == soon


@pytest.mark.parametrize("body", [
    {"allow_redelegation": "true"}, {"redelegation_count": -1},
    {"redelegation_count": True}, {"redelegation_count": 1.5},
])
def test_check_fields(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        check_fields(body)
    check_fields({"allow_redelegation": None, "redelegation_count": None})
