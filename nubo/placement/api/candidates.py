"""``GET /allocation_candidates`` (1.10) with its microversion differences:
list-form requests before 1.12, ``limit`` 1.16, ``required`` 1.17, ``member_of``
1.21, forbidden traits 1.22, granular groups 1.25 (string suffixes 1.33),
all classes in summaries 1.27, tree fields in summaries 1.29, ``in_tree`` 1.31,
forbidden aggregates 1.32, ``mappings`` 1.34, ``root_required`` 1.35,
``same_subtree`` 1.36, ``in:`` traits 1.39."""

from __future__ import annotations

import re
from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.placement.api import bodies
from nubo.placement.api.providers import member_of, required
from nubo.placement.queries import TraitQuery, bad, parse_resources
from nubo.placement.service import candidates, resource_classes
from nubo.placement.service.candidates import Found, Group, Request, Result

router = Router()
KINDS = ("resources", "required", "member_of", "in_tree")
NUMBERED = re.compile(r"^(resources|required|member_of|in_tree)([1-9][0-9]*)$")
NAMED = re.compile(r"^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})$")


def _allowed(req: ApiRequest) -> list[str]:
    out = ["resources"]
    for key, version in (("limit", "1.16"), ("required", "1.17"), ("member_of", "1.21"),
                         ("group_policy", "1.25"), ("in_tree", "1.31"),
                         ("root_required", "1.35"), ("same_subtree", "1.36")):
        if req.at_least(version):
            out.append(key)
    return out


def _suffixes(req: ApiRequest, allowed: list[str]) -> dict[str, set[str]]:
    """suffix -> the kinds given for it ("" is the unnumbered group)."""
    pattern = NAMED if req.at_least("1.33") else NUMBERED
    found: dict[str, set[str]] = {}
    for key in req.query:
        if key in allowed:
            if key in KINDS:
                found.setdefault("", set()).add(key)
            continue
        match = pattern.match(key) if req.at_least("1.25") else None
        if match is None:
            raise BadRequest(f"Invalid query string parameters: Additional properties are not "
                             f"allowed ('{key}' was unexpected)", code="placement.query.bad_value")
        if match.group(1) == "in_tree" and not req.at_least("1.31"):
            raise bad(f"Invalid query string parameters: '{key}' needs microversion 1.31.")
        found.setdefault(match.group(2), set()).add(match.group(1))
    return found


async def _group(req: ApiRequest, suffix: str) -> Group:
    text = bodies.one(req, f"resources{suffix}")
    if text is None:
        raise bad(f"All request groups must specify resources. Group '{suffix}' does not.")
    resources = parse_resources(text, param=f"resources{suffix}")
    await resource_classes.check_requested(req.rt, resources)
    group = Group(resources, await required(req, f"required{suffix}"),
                  member_of(req, f"member_of{suffix}"), suffix)
    tree = bodies.one(req, f"in_tree{suffix}")
    if tree is not None:
        group.in_tree = bodies.uuid(tree, f"in_tree{suffix}")
    return group


async def parse(req: ApiRequest) -> Request:
    allowed = _allowed(req)
    suffixes = _suffixes(req, allowed)
    if not suffixes:
        raise bad("At least one resources query parameter is required.")
    groups = [await _group(req, s) for s in sorted(suffixes, key=lambda s: (s != "", s))]
    request = Request(groups, spread=req.at_least("1.29"))
    numbered = [g for g in groups if g.suffix]
    policy = bodies.one(req, "group_policy")
    if len(numbered) > 1 and policy is None:
        raise bad("The \"group_policy\" parameter is required when specifying more than one "
                  "\"resources{N}\" parameter.")
    if policy not in (None, "none", "isolate"):
        raise bad(f"Invalid group_policy {policy!r}: use 'none' or 'isolate'.")
    request.isolate = policy == "isolate"
    limit = bodies.one(req, "limit")
    if limit is not None:
        if not limit.isdigit() or int(limit) < 1:
            raise bad(f"Invalid query string parameters: 'limit' must be a positive integer. "
                      f"Got: {limit}.")
        request.limit = int(limit)
    root = req.query.getlist("root_required")
    request.root_required = await required(req, "root_required") if root else TraitQuery()
    for value in req.query.getlist("same_subtree"):
        names = [s.strip() for s in value.split(",")]
        if any(s not in suffixes or not s for s in names):
            raise bad(f"Real suffixes must be given to same_subtree. Got: {value}.")
        request.same_subtree.append(names)
    return request


@router.get("/allocation_candidates", min_version="1.10")
async def list_allocation_candidates(req: ApiRequest) -> Reply:
    req.authorize("placement:allocation_candidates:list")
    request = await parse(req)
    result = await candidates.find(req.rt, request)
    requested = {rc for g in request.groups for rc in g.resources}
    return bodies.reply(req, {
        "allocation_requests": [_request(req, f) for f in result.requests],
        "provider_summaries": _summaries(req, result, requested)})


def _request(req: ApiRequest, found: Found) -> dict[str, Any]:
    if not req.at_least("1.12"):
        return {"allocations": [{"resource_provider": {"uuid": rp}, "resources": held}
                                for rp, held in found.allocations.items()]}
    out: dict[str, Any] = {"allocations": {rp: {"resources": held}
                                           for rp, held in found.allocations.items()}}
    if req.at_least("1.34"):
        out["mappings"] = found.mappings
    return out


def _summaries(req: ApiRequest, result: Result, requested: set[str]) -> dict[str, Any]:
    used = {rp for f in result.requests for rp in f.allocations}
    out: dict[str, Any] = {}
    for uuid, s in result.providers.items():
        if not req.at_least("1.29") and uuid not in used:
            continue
        summary: dict[str, Any] = {"resources": s.summary(
            None if req.at_least("1.27") else requested)}
        if req.at_least("1.17"):
            summary["traits"] = sorted(s.traits)
        if req.at_least("1.29"):
            summary["parent_provider_uuid"] = s.parent_provider_uuid
            summary["root_provider_uuid"] = s.root_provider_uuid
        out[uuid] = summary
    return out
