"""Network agents and availability zones through the API, openstacksdk and the CLI.

The agents are registered as the network agents register themselves, through
``register_agent`` and ``heartbeat`` on the cloud's database; one's heartbeat is
then made old, as if it had stopped beating ``agent_down_time`` ago.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import update

from nubo.core.db.base import utcnow
from nubo.core.db.engine import Database
from nubo.network import tables as t
from nubo.network.service import agents
from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique

T = TypeVar("T")


def _on_db(cloud: Cloud, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(rt)`` with a runtime whose database is the cloud's."""

    async def run() -> T:
        db = Database(cloud.database_url)
        try:
            return await work(SimpleNamespace(db=db))
        finally:
            await db.close()

    return asyncio.run(run())


def _register(cloud: Cloud, host: str, agent_type: str, zone: str | None) -> str:
    binary = {"DHCP agent": "neutron-dhcp-agent", "L3 agent": "neutron-l3-agent"}.get(
        agent_type, "neutron-linuxbridge-agent")

    async def work(rt: Any) -> str:
        return await agents.register_agent(
            rt, host=host, agent_type=agent_type, binary=binary, topic="N/A",
            configurations={"networks": 0}, availability_zone=zone)

    return _on_db(cloud, work)


def _stop_beating(cloud: Cloud, agent_id: str) -> None:
    async def work(rt: Any) -> None:
        async with rt.db.transaction() as tx:
            await tx.execute(update(t.agents).where(t.agents.c.id == agent_id).values(
                heartbeat_timestamp=utcnow() - dt.timedelta(minutes=10)))

    _on_db(cloud, work)


def _beat(cloud: Cloud, agent_id: str) -> bool:
    async def work(rt: Any) -> bool:
        return await agents.heartbeat(rt, agent_id, {"networks": 3})

    return _on_db(cloud, work)


def test_agents_api(cloud: Cloud, admin_neutron: Neutron, admin_conn: Any,
                    make_user: Any) -> None:
    host = unique("host")
    dhcp = _register(cloud, host, "DHCP agent", unique("az"))
    bridge = _register(cloud, host, "Linux bridge agent", None)
    assert _register(cloud, host, "DHCP agent", None) == dhcp    # once per (type, host)
    _stop_beating(cloud, bridge)
    listed = admin_neutron.get("/agents", params={"host": host}).json()["agents"]
    by_type = {a["agent_type"]: a for a in listed}
    assert set(by_type) == {"DHCP agent", "Linux bridge agent"}
    assert by_type["DHCP agent"]["alive"] is True
    assert by_type["Linux bridge agent"]["alive"] is False
    shown = admin_neutron.get(f"/agents/{dhcp}").json()["agent"]
    assert shown["binary"] == "neutron-dhcp-agent" and shown["admin_state_up"] is True
    assert shown["configurations"] == {"networks": 0} and shown["description"] is None
    assert len(shown["heartbeat_timestamp"]) == 19            # 2017-09-12 19:40:38
    alive = admin_neutron.get("/agents", params={"host": host, "alive": "true"}).json()
    assert [a["id"] for a in alive["agents"]] == [dhcp]
    dead = admin_neutron.get("/agents", params={"host": host, "alive": "false"}).json()
    assert [a["id"] for a in dead["agents"]] == [bridge]
    # a heartbeat brings it back, with what it reports
    assert _beat(cloud, bridge) is True
    back = admin_neutron.get(f"/agents/{bridge}").json()["agent"]
    assert back["alive"] is True and back["configurations"] == {"networks": 3}
    # the SDK and the CLI
    seen = {a.id for a in admin_conn.network.agents(host=host)}
    assert seen == {dhcp, bridge}
    updated = admin_conn.network.update_agent(dhcp, is_admin_state_up=False,
                                              description="draining")
    assert (updated.is_admin_state_up, updated.description) == (False, "draining")
    rows = cloud.cli_json("network", "agent", "list", "--host", host)
    assert {r["ID"] for r in rows} == {dhcp, bridge}
    error(admin_neutron.put(f"/agents/{dhcp}", {"agent": {"host": "elsewhere"}}), 400)
    error(admin_neutron.put(f"/agents/{dhcp}", {"agent": {"colour": "red"}}), 400)
    error(admin_neutron.put(f"/agents/{dhcp}", {"agent": {"admin_state_up": "maybe"}}),
          400)
    assert admin_neutron.get(f"/agents/{dhcp}").json()["agent"]["host"] == host
    # members see no agents at all
    user = make_user()
    assert user.get("/agents", params={"host": host}).json()["agents"] == []
    error(user.get(f"/agents/{dhcp}"), 404, "AgentNotFound")
    error(user.put(f"/agents/{dhcp}", {"agent": {"admin_state_up": True}}), 404)
    error(user.delete(f"/agents/{dhcp}"), 404)
    # deleted: gone, its heartbeats say so, and it registers anew
    assert admin_neutron.delete(f"/agents/{bridge}").status_code == 204
    error(admin_neutron.get(f"/agents/{bridge}"), 404, "AgentNotFound")
    error(admin_neutron.delete(f"/agents/{bridge}"), 404, "AgentNotFound")
    assert _beat(cloud, bridge) is False
    assert _register(cloud, host, "Linux bridge agent", None) != bridge
    admin_neutron.delete(f"/agents/{dhcp}")


def test_availability_zones(cloud: Cloud, admin_neutron: Neutron, make_user: Any) -> None:
    host, zone = unique("host"), unique("az")
    dhcp = _register(cloud, host, "DHCP agent", zone)
    l3 = _register(cloud, host, "L3 agent", zone)
    user = make_user()
    try:
        zones = user.get("/availability_zones").json()["availability_zones"]
        assert {"name": zone, "resource": "network", "state": "available"} in zones
        assert {"name": zone, "resource": "router", "state": "available"} in zones
        only = user.get("/availability_zones", params={"resource": "router",
                                                       "name": zone}).json()
        assert only["availability_zones"] == [
            {"name": zone, "resource": "router", "state": "available"}]
        # a zone whose only agent is disabled, or silent, is unavailable
        admin_neutron.put(f"/agents/{dhcp}", {"agent": {"admin_state_up": False}})
        _stop_beating(cloud, l3)
        states = {(z["resource"], z["state"]) for z in user.get(
            "/availability_zones", params={"name": zone}).json()["availability_zones"]}
        assert states == {("network", "unavailable"), ("router", "unavailable")}
        listed = user.conn.network.availability_zones()
        assert zone in {z.name for z in listed}
        rows = cloud.cli_json("availability", "zone", "list", "--network")
        assert zone in {r["Zone Name"] for r in rows}
        error(user.get("/availability_zones", params={"colour": "red"}), 400)
    finally:
        for agent_id in (dhcp, l3):
            admin_neutron.delete(f"/agents/{agent_id}")
