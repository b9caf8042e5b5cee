"""The idempotent first-start bootstrap: default domain, the admin and demo
projects and users, the standard roles with admin ⇒ member ⇒ reader, the
region and a catalog entry for every enabled service."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from nubo.core.db.base import new_id, utcnow
from nubo.core.db.engine import Tx
from nubo.core.runtime import Runtime
from nubo.core.service import ServiceSpec
from nubo.identity import tables as t
from nubo.identity.service import users

DEFAULT_DOMAIN = "default"
STANDARD_ROLES = ("admin", "manager", "member", "reader", "service")
# Keystone's defaults: admin ⇒ manager ⇒ member ⇒ reader. A domain manager (or a
# domain-scoped admin, which implies it) administers its own domain only.
IMPLIED = (("admin", "manager"), ("manager", "member"), ("member", "reader"))


@dataclass(frozen=True)
class Account:
    user: str
    password: str
    project: str
    role: str


async def bootstrap(
    rt: Runtime, *, admin: Account, demo: Account | None, region: str,
    services: Iterable[ServiceSpec], reset_passwords: bool = False,
) -> None:
    async with rt.db.transaction() as tx:
        await _domain(tx)
        roles = {name: await _role(tx, name) for name in STANDARD_ROLES}
        for prior, implied in IMPLIED:
            await _implies(tx, roles[prior], roles[implied])
        for acct in filter(None, (admin, demo)):
            project_id = await _project(tx, acct.project)
            user_id = await _user(tx, rt, acct, reset_passwords)
            await _grant(tx, "UserProject", user_id, project_id, roles[acct.role])
            if acct is admin:
                await _grant(tx, "UserSystem", user_id, "system", roles["admin"])
                await _grant(tx, "UserDomain", user_id, DEFAULT_DOMAIN, roles["admin"])
        await _region(tx, region)
        for spec in services:
            await _catalog(tx, rt, spec, region)
    rt.state.pop("identity.catalog", None)


async def _exists(tx: Tx, q: object) -> str | None:
    row = (await tx.execute(q)).first()
    return str(row[0]) if row else None


async def _domain(tx: Tx) -> None:
    if not await _exists(tx, select(t.project.c.id).where(t.project.c.id == DEFAULT_DOMAIN)):
        await tx.execute(insert(t.project).values(
            id=DEFAULT_DOMAIN, name="Default", domain_id=t.ROOT_DOMAIN, parent_id=None,
            is_domain=True, enabled=True, description="The default domain", options={},
            extra={}))


async def _role(tx: Tx, name: str) -> str:
    found = await _exists(tx, select(t.role.c.id).where(t.role.c.name == name,
                                                         t.role.c.domain_id == t.NULL_DOMAIN))
    if found:
        return found
    role_id = new_id()
    await tx.execute(insert(t.role).values(id=role_id, name=name, domain_id=t.NULL_DOMAIN,
                                           description=None, options={}, extra={}))
    return role_id


async def _implies(tx: Tx, prior: str, implied: str) -> None:
    c = t.implied_role.c
    if not await _exists(tx, select(c.prior_role_id).where(c.prior_role_id == prior,
                                                           c.implied_role_id == implied)):
        await tx.execute(insert(t.implied_role).values(prior_role_id=prior,
                                                       implied_role_id=implied))


async def _project(tx: Tx, name: str) -> str:
    found = await _exists(tx, select(t.project.c.id).where(
        t.project.c.name == name, t.project.c.domain_id == DEFAULT_DOMAIN))
    if found:
        return found
    project_id = new_id()
    await tx.execute(insert(t.project).values(
        id=project_id, name=name, domain_id=DEFAULT_DOMAIN, parent_id=DEFAULT_DOMAIN,
        is_domain=False, enabled=True, description=f"Bootstrap project {name}", options={},
        extra={}))
    return project_id


async def _user(tx: Tx, rt: Runtime, acct: Account, reset: bool) -> str:
    found = await _exists(tx, select(t.user.c.id).where(
        t.user.c.name == acct.user, t.user.c.domain_id == DEFAULT_DOMAIN))
    if found and not reset:
        return found
    hashed = await users.hasher(rt).hash_async(acct.password)
    user_id = found or new_id()
    if not found:
        await tx.execute(insert(t.user).values(
            id=user_id, name=acct.user, domain_id=DEFAULT_DOMAIN, enabled=True, options={},
            extra={}, created_at=utcnow(), failed_auth_count=0))
    else:
        await tx.execute(update(t.user).where(t.user.c.id == user_id).values(enabled=True))
    await tx.execute(insert(t.password).values(user_id=user_id, password_hash=hashed,
                                               created_at=utcnow(), self_service=False))
    return user_id


async def _grant(tx: Tx, kind: str, actor: str, target: str, role: str) -> None:
    a = t.assignment.c
    if not await _exists(tx, select(a.role_id).where(a.type == kind, a.actor_id == actor,
                                                     a.target_id == target, a.role_id == role,
                                                     a.inherited.is_(False))):
        await tx.execute(insert(t.assignment).values(type=kind, actor_id=actor,
                                                     target_id=target, role_id=role,
                                                     inherited=False))


async def _region(tx: Tx, region: str) -> None:
    if not await _exists(tx, select(t.region.c.id).where(t.region.c.id == region)):
        await tx.execute(insert(t.region).values(id=region, description="", extra={}))


async def _catalog(tx: Tx, rt: Runtime, spec: ServiceSpec, region: str) -> None:
    service_id = await _exists(tx, select(t.service.c.id).where(
        t.service.c.type == spec.catalog_type))
    if not service_id:
        service_id = new_id()
        await tx.execute(insert(t.service).values(
            id=service_id, type=spec.catalog_type, enabled=True,
            extra={"name": spec.catalog_name, "description": f"nubo {spec.name}"}))
    url = f"{rt.settings.public_url}{spec.endpoint_path}"
    for interface in ("public", "internal", "admin"):
        found = (await tx.execute(select(t.endpoint.c.id, t.endpoint.c.url).where(
            t.endpoint.c.service_id == service_id,
            t.endpoint.c.interface == interface))).first()
        if found is None:
            await tx.execute(insert(t.endpoint).values(
                id=new_id(), service_id=service_id, interface=interface, url=url,
                enabled=True, region_id=region, extra={}))
        elif found.url != url:
            # the public URL changed (another port): keep the catalog true
            await tx.execute(update(t.endpoint).where(t.endpoint.c.id == found.id)
                             .values(url=url))
