"""Waiting for networking to plug a new server's ports (``network-vif-plugged``), on
clouds of their own: where a host's network agent fails to plug ports the build is
aborted (not rescheduled) with its ports released; where plugging is slower than
``[compute] vif_plugging_timeout`` the build is aborted likewise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import conftest as root
from tests.cloud import Cloud
from tests.functional.compute.networks import Tenant, neutron_of, ports_of
from tests.functional.compute.nova import Nova
from tests.functional.compute.servers import server_body, wait_status
from tests.functional.compute.tuned import admin_of, new_user, tiny_image, tuned_cloud


@pytest.fixture(scope="module", params=root.SELECTED)
def failing(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    """fake-host-2's network agent fails every plug."""
    env = {"NUBO_NETWORK__FAKE_FAILURES": '{"plug_port": ["fake-host-2"]}',
           "NUBO_COMPUTE__FAKE_WAIT_FOR_VIF_PLUGGED": "true"}
    with tuned_cloud(request.param, env) as cloud:
        yield cloud


@pytest.fixture(scope="module", params=root.SELECTED)
def slow(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    """Plugging takes 3 s; compute waits 1 s."""
    env = {"NUBO_NETWORK__FAKE_DELAYS": '{"plug_port": 3}',
           "NUBO_COMPUTE__VIF_PLUGGING_TIMEOUT": "1",
           "NUBO_COMPUTE__FAKE_WAIT_FOR_VIF_PLUGGED": "true"}
    with tuned_cloud(request.param, env) as cloud:
        yield cloud


def _tenant(cloud: Cloud) -> Tenant:
    nova = new_user(cloud)
    return Tenant(nova, neutron_of(cloud, nova))


def _boot_on(admin: Nova, image: str, network_id: str, host: str) -> dict[str, Any]:
    body = server_body(image, networks=[{"uuid": network_id}], host=host)
    r = admin.post("/servers", body, version="2.74")
    assert r.status_code == 202, r.text
    return wait_status(admin, r.json()["server"]["id"], "ACTIVE", "ERROR", timeout=60)


def test_a_failed_plug_aborts_the_build(failing: Cloud) -> None:
    admin, image = admin_of(failing), tiny_image(failing)
    net = _tenant(failing).network("10.71.0.0/24")
    admin_neutron = neutron_of(failing, admin)
    good = _boot_on(admin, image, net["id"], "fake-host-1")
    assert good["status"] == "ACTIVE", good.get("fault")
    (port,) = ports_of(admin_neutron, good["id"])
    assert port["status"] == "ACTIVE"
    bad = _boot_on(admin, image, net["id"], "fake-host-2")
    assert bad["status"] == "ERROR"
    message = bad["fault"]["message"]
    assert "aborted" in message and "Virtual Interface creation failed" in message
    assert ports_of(admin_neutron, bad["id"]) == []
    assert bad["OS-EXT-SRV-ATTR:host"] is None      # not rescheduled: it gave up


def test_plugging_slower_than_the_timeout(slow: Cloud) -> None:
    admin, image = admin_of(slow), tiny_image(slow)
    net = _tenant(slow).network("10.72.0.0/24")
    server = _boot_on(admin, image, net["id"], "fake-host-1")
    assert server["status"] == "ERROR"
    assert "ports not plugged" in server["fault"]["message"]
    assert ports_of(neutron_of(slow, admin), server["id"]) == []
