"""The five calls of a plain Keystone collection, declared once per resource.

Regions, services, endpoints, endpoint groups, legacy policies and OAuth1 consumers
all answer ``POST /v3/<things>``, ``GET /v3/<things>``, and ``GET``, ``PATCH`` and
``DELETE /v3/<things>/{id}`` the same way: the body is ``{"<thing>": {...}}``, the
rule is ``identity:<verb>_<thing>`` (``list_<things>``), one service function does
the work and the answer carries Keystone's links. ``register`` adds those routes to
a router; a resource's other calls stay written out in its own module, except the
association calls (PUT, HEAD and DELETE of a link between two things), which are
all alike too: ``call`` makes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nubo.core.api.routing import ApiRequest, Handler, Reply, Router
from nubo.core.runtime import Runtime
from nubo.identity.api import links
from nubo.identity.policies import DEFAULTS

Entity = dict[str, Any]


@dataclass(frozen=True)
class Collection:
    member: str  # "policy": the body's key and the rules' suffix
    plural: str  # "policies": the list's key
    path: str  # below /v3, as links show it: "OS-OAUTH1/consumers"
    target: str  # the CADF target type of its audit records
    create: Callable[[Runtime, Mapping[str, Any]], Awaitable[Entity]]
    list: Callable[[Runtime, Mapping[str, str]], Awaitable[list[Entity]]]
    get: Callable[[Runtime, str], Awaitable[Entity]]
    update: Callable[[Runtime, str, Mapping[str, Any]], Awaitable[Entity]]
    delete: Callable[[Runtime, str], Awaitable[None]]
    # the path parameter naming one member (the same name as the resource's other
    # routes under it use: routes are grouped by their path text)
    id_param: str = ""

    @property
    def param(self) -> str:
        return self.id_param or f"{self.member}_id"

    def rule(self, verb: str) -> str:
        return known_rule(f"identity:{verb}_{self.plural if verb == 'list' else self.member}")


def known_rule(name: str) -> str:
    """``name``, checked when the routes are made: a rule the defaults lack would
    otherwise surface only as a failing request."""
    if name not in DEFAULTS:
        raise ValueError(f"no policy rule {name!r} among the identity defaults")
    return name


def register(router: Router, c: Collection) -> None:
    """Add the collection's five routes to ``router``."""
    rules = {verb: c.rule(verb) for verb in ("create", "list", "get", "update", "delete")}
    one = f"/v3/{c.path}/{{{c.param}}}"

    async def create(req: ApiRequest) -> Reply:
        body = await req.json_object(c.member)
        req.authorize(rules["create"])
        return {c.member: links.entity(req, c.path, await c.create(req.rt, body))}

    async def list_all(req: ApiRequest) -> Reply:
        req.authorize(rules["list"])
        found = await c.list(req.rt, links.filters(req))
        return links.collection(req, c.plural, c.path, found)

    async def get(req: ApiRequest) -> Reply:
        req.authorize(rules["get"])
        return {c.member: links.entity(req, c.path, await c.get(
            req.rt, req.params[c.param]))}

    async def update(req: ApiRequest) -> Reply:
        body = await req.json_object(c.member)
        req.authorize(rules["update"])
        return {c.member: links.entity(req, c.path, await c.update(
            req.rt, req.params[c.param], body))}

    async def delete(req: ApiRequest) -> Reply:
        req.authorize(rules["delete"])
        await c.delete(req.rt, req.params[c.param])
        return None

    router.post(f"/v3/{c.path}", status=201, target=c.target)(create)
    router.get(f"/v3/{c.path}")(list_all)
    router.get(one)(get)
    router.patch(one, target=c.target)(update)
    router.delete(one, status=204, target=c.target)(delete)


def call(rule: str, change: Callable[..., Awaitable[object]], *params: str,
         optional: tuple[str, ...] = ()) -> Handler:
    """A handler that checks ``rule`` and awaits ``change(rt, *params)`` with the path
    parameters named by ``params`` (and ``optional`` ones as keywords, None when the
    path has not got them); it answers with no body."""
    known_rule(rule)

    async def handle(req: ApiRequest) -> Reply:
        req.authorize(rule)
        await change(req.rt, *(req.params[p] for p in params),
                     **{k: req.params.get(k) for k in optional})
        return None

    return handle
