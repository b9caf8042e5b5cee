"""What libvirt reports against what the database says: a guest stopped behind
nubo's back, and an agent killed and started again (healthy guests untouched, a
vanished guest's server in ERROR, a domain nobody wants destroyed)."""

from __future__ import annotations

import re
import subprocess
import uuid as uuidlib
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.e2e.compute.conftest import domain, domain_state, poll, virsh

WAIT = 180


@pytest.fixture(scope="module")
def pair(lv_cloud: Cloud, conn: Any, zero_image: Any) -> list[Any]:
    """Two servers without networks."""
    made = [lv_cloud.cli_json("server", "create", "--image", zero_image.id, "--flavor",
                              "m1.nano", "--nic", "none", "--wait", f"nb-lv-rec-{n}")
            for n in (1, 2)]
    servers = [conn.compute.get_server(m["id"]) for m in made]
    yield servers
    for server in servers:
        conn.compute.delete_server(server, ignore_missing=True)
    for server in servers:
        conn.compute.wait_for_delete(server, wait=WAIT)


def qemu_pid(server: Any) -> int:
    return int(open(f"/run/libvirt/qemu/{domain(server.id)}.pid").read().strip())


def test_a_guest_stopped_behind_nubos_back_shows_shutoff(conn: Any, pair: list[Any]) -> None:
    server = pair[0]
    virsh("destroy", domain(server.id))
    stopped = conn.compute.wait_for_server(server, status="SHUTOFF", wait=60, interval=0.5)
    assert stopped.power_state == 4
    conn.compute.start_server(server)
    conn.compute.wait_for_server(server, status="ACTIVE", wait=WAIT, interval=0.5)
    assert domain_state(server.id) == "running"


def _orphan(lv_cloud: Cloud, model: Any) -> str:
    """A domain of this cloud's host that no server wants (its own blank disk)."""
    orphan = str(uuidlib.uuid4())
    disk = lv_cloud.state_dir / f"nb-orphan-{orphan}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    xml = virsh("dumpxml", "--inactive", domain(model.id))
    xml = xml.replace(model.id, orphan)
    xml = re.sub(r"<source file='[^']*/disk'/>", f"<source file='{disk}'/>", xml)
    (lv_cloud.state_dir / "instances" / model.compute_host / orphan).mkdir()
    path = lv_cloud.state_dir / "nb-orphan.xml"
    path.write_text(xml)
    virsh("define", str(path))
    virsh("start", domain(orphan))
    return orphan


def test_restart_keeps_healthy_guests_and_settles_the_rest(
        lv_cloud: Cloud, conn: Any, pair: list[Any]) -> None:
    healthy, vanished = pair
    pid = qemu_pid(healthy)
    orphan = _orphan(lv_cloud, healthy)
    lv_cloud.stop(9)
    virsh("destroy", domain(vanished.id))
    virsh("undefine", domain(vanished.id))
    lv_cloud.start()

    assert poll(lambda: domain_state(orphan) is None, timeout=WAIT, what="orphan destroyed")
    assert not (lv_cloud.state_dir / "instances" / healthy.compute_host / orphan).exists()
    gone = conn.compute.wait_for_server(vanished, status="ERROR", wait=WAIT, interval=0.5)
    assert "missing from hypervisor" in gone.fault["message"]
    assert domain_state(healthy.id) == "running"
    assert qemu_pid(healthy) == pid                     # the same QEMU: not restarted
    assert conn.compute.get_server(healthy).status == "ACTIVE"
