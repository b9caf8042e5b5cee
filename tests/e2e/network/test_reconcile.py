"""Clean up and reconcile: on restart the agents put back what is missing, remove
what is orphaned (only objects carrying this cloud's tag) and leave healthy
objects as they are."""

from __future__ import annotations

import os
import signal
import uuid
from typing import Any

from tests.e2e.network.conftest import HOST1, Net
from tests.e2e.network.netlab import in_ns, links, sh, wait_for
from tests.e2e.network.test_dhcp import dnsmasq_pid


def test_restart_repairs_removes_orphans_and_keeps_the_healthy(net: Net) -> None:
    conn = net.conn()
    network = conn.network.create_network(name="nb-rec", port_security_enabled=False)
    other = conn.network.create_network(name="nb-rec-2", port_security_enabled=False)
    bridge, bridge2 = "brq" + network.id[:11], "brq" + other.id[:11]
    vxlan2 = f"vxlan-{other.provider_segmentation_id}"
    routers: list[Any] = []
    orphan = net.lab.name("orph")
    foreign = net.lab.name("forn")
    try:
        subnet = conn.network.create_subnet(network_id=network.id, ip_version=4,
                                            cidr="10.250.20.0/24")
        conn.network.create_subnet(network_id=other.id, ip_version=4, cidr="10.250.21.0/24")
        port = conn.network.create_port(network_id=network.id, binding_host_id=net.host)
        port2 = conn.network.create_port(network_id=other.id, binding_host_id=net.host)
        port3 = conn.network.create_port(network_id=network.id, binding_host_id=HOST1)
        guest = net.lab.guest("rg1", port.to_dict())
        net.lab.guest("rg2", port2.to_dict())
        far = net.lab.guest("rg3", port3.to_dict(), host_ns=net.host1_ns)
        for p in (port, port2, port3):
            wait_for("ports ACTIVE", lambda p=p: conn.network.get_port(p.id).status == "ACTIVE")
        for g in (guest, far):
            g.dhcp(net.dhcp_script)
        far_ip = port3.fixed_ips[0]["ip_address"]
        assert guest.ping(far_ip)
        dns1 = wait_for("dnsmasq", lambda: dnsmasq_pid(net, network.id))
        dns2 = wait_for("dnsmasq", lambda: dnsmasq_pid(net, other.id))
        router = conn.network.create_router(name="nb-rec")
        routers.append(router)
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        qrouter, qdhcp2 = f"qrouter-{router.id}", f"qdhcp-{other.id}"
        wait_for("the router's metadata proxy", lambda: ":9697 " in listening(qrouter))
        wait_for("isolated metadata on the other network",
                 lambda: "169.254.169.254:80 " in listening(qdhcp2))
        router_ns = os.stat(f"/run/netns/{qrouter}").st_ino
        before = links()
        # an orphan of this cloud, one of another cloud, and damage
        for name, owner in ((orphan, net.owner), (foreign, "0ther0wn")):
            sh("ip", "link", "add", name, "type", "bridge")
            net.lab.devices.append((None, name))
            sh("ip", "link", "set", name, "alias", f"nubo:{owner}:net:{name}-gone:-")
        sh("ip", "link", "del", vxlan2)
        stray_seg = net.lab.name("oseg")
        sh("ip", "link", "add", stray_seg, "type", "bridge")
        net.lab.devices.append((None, stray_seg))
        sh("ip", "link", "set", stray_seg, "alias", f"nubo:{net.owner}:seg:{uuid.uuid4()}:-")
        os.kill(dns2, signal.SIGKILL)
        in_ns(qrouter, "nft", "delete", "table", "ip", "nubo")
        gone = str(uuid.uuid4())
        stray = f"qdhcp-{gone}"
        sh("ip", "netns", "add", stray)
        net.lab.namespaces.append(stray)
        in_ns(stray, "ip", "link", "set", "lo", "alias", f"nubo:{net.owner}:dhcp:{gone}:-")
        net.cloud.stop(signal.SIGKILL)
        # the agents are gone: guests still talk, over VXLAN, and renew their leases
        assert guest.ping(far_ip, count=2)
        assert f"ip={far_ip}" in far.dhcp(net.dhcp_script)
        net.cloud.start()
        wait_for("the orphan bridge and segment device removed",
                 lambda: orphan not in links() and stray_seg not in links())
        wait_for("the lost VXLAN device made again",
                 lambda: links().get(vxlan2, {}).get("master") == bridge2)
        after = links()
        assert foreign in after                     # another cloud's: left alone
        assert after[bridge]["ifindex"] == before[bridge]["ifindex"]
        assert after[guest.tap]["master"] == bridge
        assert after[bridge2]["ifindex"] == before[bridge2]["ifindex"]
        assert conn.network.get_port(port.id).status == "ACTIVE"
        assert dnsmasq_pid(net, network.id) == dns1     # healthy: not restarted
        assert wait_for("dnsmasq back", lambda: dnsmasq_pid(net, other.id)) != dns2
        wait_for("the orphan DHCP namespace removed",
                 lambda: stray not in sh("ip", "netns", "list").stdout)
        wait_for("the router's NAT table back", lambda: in_ns(
            qrouter, "nft", "list", "table", "ip", "nubo", check=False).returncode == 0)
        assert os.stat(f"/run/netns/{qrouter}").st_ino == router_ns
        assert ":9697 " in listening(qrouter)       # the proxy listens again
        assert "169.254.169.254:80 " in listening(qdhcp2)
    finally:
        for r in routers:
            conn.network.remove_interface_from_router(r, subnet_id=subnet.id)
            conn.network.delete_router(r)
        for n in (network, other):
            for p in conn.network.ports(network_id=n.id):
                if p.device_owner != "network:dhcp":
                    conn.network.delete_port(p)
            conn.network.delete_network(n)
    wait_for("bridges gone", lambda: bridge not in links() and bridge2 not in links())


def listening(ns: str) -> str:
    """The TCP listeners in a namespace (``ss -ltn``), with a space after each."""
    return " ".join(line.split()[3] + " " for line in
                    in_ns(ns, "ss", "-ltnH", check=False).stdout.splitlines() if line)
