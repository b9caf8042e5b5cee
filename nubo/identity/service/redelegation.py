"""Trust redelegation rules (OS-TRUST), as Keystone applies them.

A trust made with ``allow_redelegation`` carries a ``redelegation_count`` (the
configured ``max_redelegation_count`` unless a smaller one is asked). Its trustee
may then use a token scoped to it to create another trust: a *redelegated* trust,
whose ``redelegated_trust_id`` names the parent. The trustor of the new trust is
the user of that token (the original trustor when the parent impersonates, the
parent's trustee otherwise). Against every trust of the chain (its *pedigree*)
the new one may not: outlive it, hold a role it does not, impersonate when it
does not, name another project, or limit its uses. Its count is the parent's
minus one, so a chain is at most ``max_redelegation_count + 1`` trusts long.

Pure functions over :class:`Link` values, so the rules are unit-tested alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nubo.core.errors import Forbidden, ValidationError


@dataclass(frozen=True)
class Link:
    """One trust of a chain, with what the rules compare."""

    id: str
    project_id: str | None
    impersonation: bool
    expires_at: dt.datetime | None
    redelegation_count: int
    role_ids: frozenset[str]


@dataclass(frozen=True)
class Wanted:
    """The trust asked for (roles as ids, expiry naive UTC)."""

    project_id: str | None
    impersonation: bool
    expires_at: dt.datetime | None
    remaining_uses: int | None
    role_ids: frozenset[str]
    allow_redelegation: bool = False
    redelegation_count: int | None = None


@dataclass(frozen=True)
class Settled:
    """What the new trust stores."""

    redelegation_count: int
    expires_at: dt.datetime | None
    redelegated_trust_id: str | None


def check_fields(body: Mapping[str, Any]) -> None:
    """400 for badly typed redelegation fields (Keystone's schema)."""
    allow = body.get("allow_redelegation")
    if allow is not None and not isinstance(allow, bool):
        raise ValidationError("Invalid input for field 'allow_redelegation': a boolean.")
    count = body.get("redelegation_count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or count < 0):
        raise ValidationError(
            "Invalid input for field 'redelegation_count': a non-negative integer.")


def _own_count(wanted: Wanted, max_count: int) -> int | None:
    """The count the request itself sets (None: inherit or default)."""
    if not wanted.allow_redelegation or wanted.redelegation_count == 0:
        return 0
    if wanted.redelegation_count is not None and wanted.redelegation_count > max_count:
        raise Forbidden(f"Requested redelegation depth of {wanted.redelegation_count} "
                        f"is greater than allowed {max_count}.")
    if wanted.remaining_uses is not None:
        raise ValidationError("remaining_uses must not be set if redelegation is allowed.")
    return wanted.redelegation_count


def _check_link(wanted: Wanted, link: Link, expires: dt.datetime | None,
                max_count: int) -> dt.datetime | None:
    """Refuse what ``link`` cannot pass on; the expiry the new trust gets."""
    if not 0 < link.redelegation_count <= max_count:
        raise Forbidden(f"Remaining redelegation depth of {link.redelegation_count} out of "
                        f"allowed range of [0..{max_count}]: trust {link.id} cannot be "
                        f"redelegated.")
    if wanted.remaining_uses is not None:
        raise Forbidden(f"Field \"remaining_uses\" is set to {wanted.remaining_uses} while "
                        f"it must not be set in order to redelegate a trust.")
    if link.expires_at is not None:
        if expires is None:
            expires = link.expires_at
        elif expires > link.expires_at:
            raise Forbidden("Requested expiration time is more than redelegated trust "
                            "can provide.")
    if not wanted.role_ids <= link.role_ids:
        raise Forbidden("Some of requested roles are not in redelegated trust.")
    if wanted.impersonation and not link.impersonation:
        raise Forbidden("Impersonation is not allowed because redelegated trust does not "
                        f"specify impersonation. Redelegated trust id: {link.id}.")
    if wanted.project_id != link.project_id:
        raise Forbidden(f"A trust redelegated from trust {link.id} must be on its project.")
    return expires


def settle(wanted: Wanted, pedigree: Sequence[Link], max_count: int) -> Settled:
    """Apply the rules. ``pedigree``: the parent first, then its parent, … (empty:
    the request was not made with a trust-scoped token)."""
    count = _own_count(wanted, max_count)
    if not pedigree:
        return Settled(max_count if count is None else count, wanted.expires_at, None)
    left = pedigree[0].redelegation_count - 1
    if count and count != left:
        raise Forbidden('Modifying "redelegation_count" upon redelegation is forbidden. '
                        "Omitting this parameter is advised.")
    expires = wanted.expires_at
    for link in pedigree:
        expires = _check_link(wanted, link, expires, max_count)
    return Settled(left if count is None else count, expires, pedigree[0].id)
