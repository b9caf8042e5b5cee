"""Role assignments: grants to users and groups on projects, domains and the
system (optionally inherited down the project tree), and the effective roles a
token carries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, or_, select

from nubo.core.errors import BadRequest, Forbidden, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import backends
from nubo.identity import tables as t
from nubo.identity.service import cache, groups, resource, revoke, roles, users

SYSTEM = "system"


@dataclass(frozen=True)
class Grant:
    actor_kind: str  # "user" | "group"
    actor_id: str
    target_kind: str  # "project" | "domain" | "system"
    target_id: str
    role_id: str
    inherited: bool = False

    @property
    def type(self) -> str:
        return self.actor_kind.capitalize() + self.target_kind.capitalize()


async def _check(rt: Runtime, conn: Any, grant: Grant) -> Mapping[str, Any]:
    role = await roles.require(conn, grant.role_id)
    if grant.actor_kind == "user":
        if await users.lookup_row(rt, conn, grant.actor_id) is None:
            raise NotFound(f"Could not find user: {grant.actor_id}.")
    elif await groups.lookup_row(rt, conn, grant.actor_id) is None:
        raise NotFound(f"Could not find group: {grant.actor_id}.")
    if grant.target_kind != "system":
        target = await resource.get_row(conn, grant.target_id)
        is_domain = grant.target_kind == "domain"
        if target is None or (is_domain and not target["is_domain"]):
            raise NotFound(f"Could not find {grant.target_kind}: {grant.target_id}.")
        target_domain = target["id"] if target["is_domain"] else target["domain_id"]
        if role["domain_id"] != t.NULL_DOMAIN and role["domain_id"] != target_domain:
            raise Forbidden(f"Cannot assign the domain-specific role {grant.role_id} outside "
                            f"its domain.")
    elif role["domain_id"] != t.NULL_DOMAIN:
        raise ValidationError("Domain-specific roles cannot be granted on the system.")
    return role


def _where(grant: Grant) -> Any:
    a = t.assignment.c
    return (a.type == grant.type) & (a.actor_id == grant.actor_id) & (
        a.target_id == grant.target_id) & (a.role_id == grant.role_id) & (
        a.inherited == grant.inherited)


async def create_grant(rt: Runtime, grant: Grant) -> None:
    async with rt.db.transaction() as tx:
        await _check(rt, tx.conn, grant)
        exists = (await tx.execute(select(t.assignment.c.role_id).where(_where(grant)))).first()
        if not exists:
            await tx.execute(insert(t.assignment).values(
                type=grant.type, actor_id=grant.actor_id, target_id=grant.target_id,
                role_id=grant.role_id, inherited=grant.inherited))
        cache.changed(tx, rt)


async def check_grant(rt: Runtime, grant: Grant) -> None:
    async with rt.db.read() as conn:
        await _check(rt, conn, grant)
        found = (await conn.execute(select(t.assignment.c.role_id).where(_where(grant)))).first()
    if found is None:
        raise NotFound(f"Could not find role assignment with role: {grant.role_id}, "
                       f"{grant.actor_kind}: {grant.actor_id}, {grant.target_kind}: "
                       f"{grant.target_id}.")


async def delete_grant(rt: Runtime, grant: Grant) -> None:
    async with rt.db.transaction() as tx:
        await roles.require(tx.conn, grant.role_id)
        result = await tx.execute(delete(t.assignment).where(_where(grant)))
        if result.rowcount == 0:
            raise NotFound(f"Could not find role assignment with role: {grant.role_id}, "
                           f"{grant.actor_kind}: {grant.actor_id}, {grant.target_kind}: "
                           f"{grant.target_id}.")
        if grant.actor_kind == "user":
            scope = {"project_id": grant.target_id} if grant.target_kind == "project" else (
                {"domain_id": grant.target_id} if grant.target_kind == "domain" else {})
            await revoke.record(tx, rt, user_id=grant.actor_id, **scope)
        cache.changed(tx, rt)


async def list_grants(rt: Runtime, actor_kind: str, actor_id: str, target_kind: str,
                      target_id: str, inherited: bool = False) -> list[dict[str, Any]]:
    """The roles granted directly to one actor on one target."""
    probe = Grant(actor_kind, actor_id, target_kind, target_id, "", inherited)
    async with rt.db.read() as conn:
        if actor_kind == "user" and await users.lookup_row(rt, conn, actor_id) is None:
            raise NotFound(f"Could not find user: {actor_id}.")
        if actor_kind == "group" and await groups.lookup_row(rt, conn, actor_id) is None:
            raise NotFound(f"Could not find group: {actor_id}.")
        if target_kind != "system":
            row = await resource.get_row(conn, target_id)
            if row is None or (target_kind == "domain" and not row["is_domain"]):
                raise NotFound(f"Could not find {target_kind}: {target_id}.")
        a = t.assignment.c
        q = select(t.role).join(t.assignment, a.role_id == t.role.c.id).where(
            a.type == probe.type, a.actor_id == actor_id, a.target_id == target_id,
            a.inherited == inherited)
        return [roles.to_role(r._mapping) for r in await conn.execute(q)]


async def grant_target(rt: Runtime, actor_kind: str, actor_id: str, target_kind: str,
                       target_id: str | None, role_id: str | None) -> dict[str, Any]:
    """What the grant policy rules look at: the actor's, the target's and the
    role's domains (a domain manager grants only within its domain)."""
    async with rt.db.read() as conn:
        actor = await (users.lookup_row(rt, conn, actor_id) if actor_kind == "user"
                       else groups.lookup_row(rt, conn, actor_id))
        out: dict[str, Any] = {actor_kind: {"id": actor_id,
                                            "domain_id": actor["domain_id"] if actor else None}}
        if target_kind == "project" and target_id:
            project = await resource.get_row(conn, target_id)
            out["project"] = {"id": target_id,
                              "domain_id": project["domain_id"] if project else None}
        elif target_kind == "domain":
            out["domain"] = {"id": target_id}
        if role_id:
            role = await roles.get_row(conn, role_id)
            out["role"] = {"id": role_id, "name": role["name"] if role else None,
                           "domain_id": None if role is None or role["domain_id"] ==
                           t.NULL_DOMAIN else role["domain_id"]}
    return out


async def user_group_ids(conn: Any, user_id: str, rt: Runtime) -> list[str]:
    """The user's groups: SQL membership, plus its directory groups when the user
    lives in an LDAP domain."""
    rows = await conn.execute(select(t.user_group_membership.c.group_id).where(
        t.user_group_membership.c.user_id == user_id))
    ids = [r.group_id for r in rows]
    if backends.configured(rt):
        external = await backends.groups_for_user(rt, conn, user_id)
        ids.extend(g["id"] for g in external or ())
    return ids


async def direct_role_ids(conn: Any, user_id: str, target_kind: str, target_id: str,
                          *, rt: Runtime) -> set[str]:
    """Roles held on a target by a user directly, through groups, and by
    inheritance from the target's ancestors."""
    actors = [user_id, *await user_group_ids(conn, user_id, rt)]
    a = t.assignment.c
    conds = [a.target_id == target_id]
    if target_kind == "project":
        ancestors = await resource.parent_ids(conn, target_id)
        if ancestors:
            conds = [(a.target_id == target_id) & ~a.inherited,
                     a.target_id.in_(ancestors) & a.inherited]
        else:
            conds = [(a.target_id == target_id) & ~a.inherited]
    else:
        conds = [(a.target_id == target_id) & ~a.inherited]
    suffix = target_kind.capitalize()
    rows = await conn.execute(select(a.role_id).where(
        a.actor_id.in_(actors), a.type.in_([f"User{suffix}", f"Group{suffix}"]), or_(*conds)))
    return {r.role_id for r in rows}


async def effective_roles(conn: Any, user_id: str, target_kind: str, target_id: str,
                          *, rt: Runtime) -> list[dict[str, str]]:
    """The global roles a token scoped to the target carries (implied roles included)."""
    direct = await direct_role_ids(conn, user_id, target_kind, target_id, rt=rt)
    expanded = await roles.expand(conn, direct)
    return [{"id": rid, "name": name} for rid, (name, _) in sorted(expanded.items(),
                                                                     key=lambda kv: kv[1][0])]


async def project_ids_for_user(conn: Any, user_id: str, *, rt: Runtime) -> list[str]:
    """Projects the user can scope to (``GET /v3/auth/projects``)."""
    actors = [user_id, *await user_group_ids(conn, user_id, rt)]
    a = t.assignment.c
    rows = await conn.execute(select(a.target_id, a.inherited, a.type).where(
        a.actor_id.in_(actors), a.type.in_(["UserProject", "GroupProject", "UserDomain",
                                            "GroupDomain"])))
    out: set[str] = set()
    for r in rows:
        if r.type.endswith("Project") and not r.inherited:
            out.add(r.target_id)
        if r.inherited:
            if r.type.endswith("Domain"):
                q = select(t.project.c.id).where(t.project.c.domain_id == r.target_id,
                                                 ~t.project.c.is_domain)
                out.update(x.id for x in await conn.execute(q))
            else:
                out.update(await resource.subtree_ids(conn, r.target_id))
    return sorted(out)


async def domain_ids_for_user(conn: Any, user_id: str, *, rt: Runtime) -> list[str]:
    actors = [user_id, *await user_group_ids(conn, user_id, rt)]
    a = t.assignment.c
    rows = await conn.execute(select(a.target_id).where(
        a.actor_id.in_(actors), a.type.in_(["UserDomain", "GroupDomain"]), ~a.inherited))
    return sorted({r.target_id for r in rows})


async def has_system_roles(conn: Any, user_id: str, *, rt: Runtime) -> bool:
    return bool(await direct_role_ids(conn, user_id, "system", SYSTEM, rt=rt))


# ---------------------------------------------------------------- role_assignments


@dataclass(frozen=True)
class Assignment:
    actor_kind: str
    actor_id: str
    target_kind: str
    target_id: str
    role_id: str
    inherited: bool
    via_group: str | None = None
    prior_role: str | None = None
    # (kind, id) of the inherited grant this effective assignment came from
    source_target: tuple[str, str] | None = None


def _parse_query(q: Mapping[str, str]) -> dict[str, Any]:
    known = {"user.id", "group.id", "role.id", "scope.project.id", "scope.domain.id",
             "scope.system", "scope.OS-INHERIT:inherited_to", "effective", "include_names",
             "include_subtree"}
    out: dict[str, Any] = {k: v for k, v in q.items() if k in known}
    if "effective" in q:
        out["effective"] = q["effective"] in ("", "true", "True", "1")
    for flag in ("include_names", "include_subtree"):
        if flag in q:
            out[flag] = q[flag] in ("", "true", "True", "1")
    if out.get("effective") and "group.id" in out:
        raise BadRequest("Combining effective and group filter will always result in an empty "
                         "list.")
    if out.get("include_subtree") and "scope.project.id" not in out:
        raise BadRequest("scope.project.id must be specified if include_subtree is also "
                         "specified.")
    scopes = [k for k in ("scope.project.id", "scope.domain.id", "scope.system") if k in out]
    if len(scopes) > 1:
        raise ValidationError("Specify at most one of scope.project.id, scope.domain.id and "
                              "scope.system.")
    return out


async def list_role_assignments(rt: Runtime, query: Mapping[str, str]) -> list[Assignment]:
    f = _parse_query(query)
    async with rt.db.read() as conn:
        rows = [r._mapping for r in await conn.execute(select(t.assignment))]
        raw = [_from_row(r) for r in rows]
        if f.get("effective"):
            raw = await _effective(rt, conn, raw)
        targets = await _target_filter(conn, f)
        out = [a for a in raw if _matches(a, f, targets)]
    return out


def _from_row(r: Mapping[Any, Any]) -> Assignment:
    kind = r["type"]
    actor = "user" if kind.startswith("User") else "group"
    target = kind[len(actor):].lower()
    return Assignment(actor, r["actor_id"], target, r["target_id"], r["role_id"],
                      bool(r["inherited"]))


async def _target_filter(conn: Any, f: Mapping[str, Any]) -> set[str] | None:
    if "scope.project.id" in f:
        ids = {f["scope.project.id"]}
        if f.get("include_subtree"):
            ids.update(await resource.subtree_ids(conn, f["scope.project.id"]))
        return ids
    if "scope.domain.id" in f:
        return {f["scope.domain.id"]}
    return None


def _matches(a: Assignment, f: Mapping[str, Any], targets: set[str] | None) -> bool:
    if "user.id" in f and (a.actor_kind != "user" or a.actor_id != f["user.id"]):
        return False
    if "group.id" in f and (a.actor_kind != "group" or a.actor_id != f["group.id"]):
        return False
    if "role.id" in f and a.role_id != f["role.id"]:
        return False
    if targets is not None:
        kind = "project" if "scope.project.id" in f else "domain"
        if a.target_kind != kind or a.target_id not in targets:
            return False
    if "scope.system" in f and a.target_kind != "system":
        return False
    inherited_to = f.get("scope.OS-INHERIT:inherited_to")
    return not (inherited_to is not None and not a.inherited)


async def _effective(rt: Runtime, conn: Any, raw: list[Assignment]) -> list[Assignment]:
    """Groups expanded to members (a directory group's from the directory),
    inheritance expanded to projects, implied roles added, domain-specific roles
    dropped: what tokens really carry."""
    out: list[Assignment] = []
    for a in raw:
        members = [a.actor_id] if a.actor_kind == "user" else await _members(rt, conn, a.actor_id)
        for user_id in members:
            via = a.actor_id if a.actor_kind == "group" else None
            for target_kind, target_id in await _expand_targets(conn, a):
                out.append(Assignment("user", user_id, target_kind, target_id, a.role_id,
                                      False, via, None,
                                      (a.target_kind, a.target_id) if a.inherited else None))
    with_implied: list[Assignment] = []
    for a in out:
        expanded = await roles.expand(conn, [a.role_id])
        for rid in expanded:
            with_implied.append(Assignment(
                a.actor_kind, a.actor_id, a.target_kind, a.target_id, rid, False, a.via_group,
                a.role_id if rid != a.role_id else None, a.source_target))
    return list(dict.fromkeys(with_implied))


async def _members(rt: Runtime, conn: Any, group_id: str) -> list[str]:
    ids = await groups.member_ids(conn, group_id)
    if backends.configured(rt):
        external = await backends.users_in_group(rt, conn, group_id, {})
        ids.extend(u["id"] for u in external or ())
    return ids


async def _expand_targets(conn: Any, a: Assignment) -> list[tuple[str, str]]:
    if not a.inherited:
        return [(a.target_kind, a.target_id)]
    if a.target_kind == "domain":
        rows = await conn.execute(select(t.project.c.id).where(
            t.project.c.domain_id == a.target_id, ~t.project.c.is_domain))
        return [("project", r.id) for r in rows]
    return [("project", pid) for pid in await resource.subtree_ids(conn, a.target_id)]


async def within_domain(rt: Runtime, items: list[Assignment], domain_id: str
                        ) -> list[Assignment]:
    async with rt.db.read() as conn:
        projects = {r.id for r in await conn.execute(
            select(t.project.c.id).where(t.project.c.domain_id == domain_id))}
    return [a for a in items if (a.target_kind == "domain" and a.target_id == domain_id)
            or (a.target_kind == "project" and a.target_id in projects)]


async def names(rt: Runtime, items: Iterable[Assignment]) -> dict[str, dict[str, Any]]:
    """id -> {name, domain} for every role, actor and target mentioned (include_names)."""
    items = list(items)
    ids = {x for a in items for x in (a.actor_id, a.target_id, a.role_id)}
    out: dict[str, dict[str, Any]] = {}
    async with rt.db.read() as conn:
        domains = {r.id: r.name for r in await conn.execute(
            select(t.project.c.id, t.project.c.name).where(t.project.c.is_domain))}

        def dom(did: str | None) -> dict[str, Any] | None:
            return {"id": did, "name": domains.get(did or "")} if did else None

        for r in await conn.execute(select(t.role).where(t.role.c.id.in_(ids))):
            out[r.id] = {"name": r.name, "domain": dom(r.domain_id if r.domain_id !=
                                                         t.NULL_DOMAIN else None)}
        for r in await conn.execute(select(t.user).where(t.user.c.id.in_(ids))):
            out[r.id] = {"name": r.name, "domain": dom(r.domain_id)}
        for r in await conn.execute(select(t.group).where(t.group.c.id.in_(ids))):
            out[r.id] = {"name": r.name, "domain": dom(r.domain_id)}
        for r in await conn.execute(select(t.project).where(t.project.c.id.in_(ids))):
            out[r.id] = {"name": r.name,
                         "domain": None if r.is_domain else dom(r.domain_id)}
        for a in items:  # actors of LDAP domains: named by their directory
            if a.actor_id not in out:
                found = await (backends.user_row if a.actor_kind == "user"
                               else backends.group_row)(rt, conn, a.actor_id)
                if found is not None:
                    out[a.actor_id] = {"name": found["name"], "domain": dom(found["domain_id"])}
    return out
