"""Interface changes of one server run in the order they were asked for, however
long the hypervisor takes to plug: a detach asked for while its attach is still
plugging waits for it, so the user's port ends out of the guest, unbound and kept
(not plugged into the guest after its detach, nor deleted as compute's own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cloud import Cloud
from tests.functional.compute.networks import Tenant, neutron_of, ports_of
from tests.functional.compute.nova import Nova
from tests.functional.compute.servers import poll
from tests.functional.compute.test_interfaces import plugged
from tests.functional.compute.tuned import admin_of, new_user, tiny_image, tuned_cloud

SLOW_PLUGGING = '{"attach_interface": 1.5}'


@pytest.fixture(scope="module")
def slow() -> Iterator[Cloud]:
    with tuned_cloud("sqlite", {"NUBO_COMPUTE__FAKE_DELAYS": SLOW_PLUGGING}) as cloud:
        yield cloud


def events_done(nova: Nova, server_id: str, action: str) -> bool:
    listed = nova.get(f"/servers/{server_id}/os-instance-actions", version="2.84").json()
    (found,) = [a for a in listed["instanceActions"] if a["action"] == action]
    shown = nova.get(f"/servers/{server_id}/os-instance-actions/{found['request_id']}",
                     version="2.84").json()["instanceAction"]
    return bool(shown["events"]) and all(e["finish_time"] for e in shown["events"])


def test_a_detach_waits_for_the_attach_it_undoes(slow: Cloud) -> None:
    admin, member = admin_of(slow), new_user(slow)
    tenant, admin_neutron = Tenant(member, neutron_of(slow, member)), neutron_of(slow, admin)
    net = tenant.network("10.56.0.0/24")
    server = tenant.boot(tiny_image(slow), [{"uuid": net["id"]}])
    sid = server["id"]
    (first,) = ports_of(admin_neutron, sid)
    mine = tenant.port(net["id"], name="spare")
    r = member.post(f"/servers/{sid}/os-interface",
                    {"interfaceAttachment": {"port_id": mine["id"]}}, version="2.70")
    assert r.status_code == 200, r.text
    r = member.delete(f"/servers/{sid}/os-interface/{mine['id']}")
    assert r.status_code == 202, r.text
    poll(lambda: events_done(member, sid, "attach_interface") and
         events_done(member, sid, "detach_interface"), what="both changes finished")
    assert plugged(slow, admin, sid) == [first["id"]]
    kept = admin_neutron.get(f"/ports/{mine['id']}")
    assert kept.status_code == 200, kept.text
    port = kept.json()["port"]
    assert (port["device_id"], port["device_owner"], port["binding:host_id"]) == ("", "", "")
    assert [p["id"] for p in ports_of(admin_neutron, sid)] == [first["id"]]


def test_each_attach_finishes_its_own_event(slow: Cloud) -> None:
    """Two attaches in a row: each one's event is finished under its own action (the
    request that asked for it), not the second's under the latest attach."""
    member = new_user(slow)
    tenant = Tenant(member, neutron_of(slow, member))
    net = tenant.network("10.57.0.0/24")
    sid = tenant.boot(tiny_image(slow), [{"uuid": net["id"]}])["id"]
    ports = [tenant.port(net["id"], name=f"extra-{i}") for i in (1, 2)]
    for port in ports:
        r = member.post(f"/servers/{sid}/os-interface",
                        {"interfaceAttachment": {"port_id": port["id"]}}, version="2.70")
        assert r.status_code == 200, r.text

    def attaches() -> list[dict[str, object]] | None:
        listed = member.get(f"/servers/{sid}/os-instance-actions", version="2.84").json()
        shown = [member.get(f"/servers/{sid}/os-instance-actions/{a['request_id']}",
                            version="2.84").json()["instanceAction"]
                 for a in listed["instanceActions"] if a["action"] == "attach_interface"]
        done = len(shown) == 2 and all(
            e["finish_time"] for a in shown for e in a["events"])
        return shown if done else None

    for action in poll(attaches, what="both attaches finished"):
        events = action["events"]
        assert isinstance(events, list)
        assert [e["result"] for e in events if e["event"] == "compute_attach_interface"
                ] == ["Success"], events
