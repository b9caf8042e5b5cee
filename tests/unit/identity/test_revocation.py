from __future__ import annotations

import datetime as dt

from nubo.identity.service.revoke import RevocationIndex

T0 = dt.datetime(2026, 1, 1, 12, 0, 0)


def ids(**kw: str) -> dict[str, str | None]:
    base: dict[str, str | None] = {"user_id": "u1", "project_id": "p1", "domain_id2": "d1",
                                   "audit_id0": "a1"}
    base.update(kw)
    return base


def test_user_event_revokes_older_tokens_only() -> None:
    idx = RevocationIndex()
    idx.add({"user_id": "u1", "issued_before": T0})
    assert idx.is_revoked(T0 - dt.timedelta(seconds=1), ids())
    assert idx.is_revoked(T0, ids())
    assert not idx.is_revoked(T0 + dt.timedelta(microseconds=1), ids())
    assert not idx.is_revoked(T0 - dt.timedelta(seconds=1), ids(user_id="u2"))


def test_audit_id_event_revokes_one_token() -> None:
    idx = RevocationIndex()
    idx.add({"audit_id": "a1", "issued_before": T0.isoformat()})
    assert idx.is_revoked(T0, ids())
    assert not idx.is_revoked(T0, ids(audit_id0="a2"))


def test_domain_event_matches_user_or_project_domain() -> None:
    idx = RevocationIndex()
    idx.add({"domain_id": "d1", "issued_before": T0})
    assert idx.is_revoked(T0, ids())
    assert not idx.is_revoked(T0, ids(domain_id2="d9"))


def test_user_scope_event_only_hits_that_scope() -> None:
    idx = RevocationIndex()
    idx.add({"user_id": "u1", "project_id": "p1", "issued_before": T0})
    assert idx.is_revoked(T0, ids())
    assert not idx.is_revoked(T0, ids(project_id="p2"))
    assert not idx.is_revoked(T0, ids(user_id="u2"))


def test_later_event_wins() -> None:
    idx = RevocationIndex()
    idx.add({"user_id": "u1", "issued_before": T0})
    idx.add({"user_id": "u1", "issued_before": T0 - dt.timedelta(hours=1)})
    assert idx.is_revoked(T0, ids())
