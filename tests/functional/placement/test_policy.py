"""Every placement route refuses a project member (placement is an admin/service API)."""

from __future__ import annotations

import re
from typing import Any

from nubo.placement.api import service_app
from tests.functional.placement.conftest import Placement, error, new


def routes() -> list[tuple[str, str]]:
    out = []
    for router in service_app().routers:
        for ep in router.endpoints:
            if not ep.public:
                out.append((ep.method, ep.path))
    return out


def test_every_route_refuses_a_member(placement: Placement, member_factory: Any) -> None:
    member = member_factory("member")
    checked = 0
    for method, path in routes():
        concrete = re.sub(r"\{(uuid|consumer_uuid)\}", new(), path)
        concrete = re.sub(r"\{(rc|name)\}", "CUSTOM_POLICY", concrete)
        params = {"project_id": new()} if path == "/usages" else None
        r = placement.call(method, concrete, {}, token=member.token, params=params)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert error(r)["title"] == "Forbidden"
        checked += 1
    assert checked >= 30
