"""DHCP: dnsmasq in a qdhcp- namespace per network, on a network:dhcp port the
agent makes through the API; leases carry the port's address and host name, MTU
(option 26), router, DNS servers, lease time and classless static routes (with
the metadata route through the DHCP port while the subnet has no router); new
ports reach dnsmasq by SIGHUP; unknown MACs get nothing; no DHCP subnet left, no
DHCP server and no DHCP port."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from tests.e2e.network.conftest import HOST1, Net
from tests.e2e.network.netlab import in_ns, sh, wait_for


def dhcp_port(conn: Any, network_id: str) -> Any:
    found = list(conn.network.ports(network_id=network_id, device_owner="network:dhcp"))
    return found[0] if len(found) == 1 else None


def dnsmasq_pid(net: Net, network_id: str) -> int | None:
    path = net.cloud.state_dir / "linuxbridge" / "dhcp" / network_id / "pid"
    try:
        pid = int(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def lease_fields(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    key = ""
    for word in line.split()[1:]:
        if "=" in word:
            key, _, value = word.partition("=")
            out[key] = value
        elif key:
            out[key] += " " + word
    return out


def test_leases_carry_address_mtu_routes_and_dns(net: Net) -> None:
    conn = net.conn()
    network = conn.network.create_network(name="nb-dhcp", port_security_enabled=False)
    namespace = f"qdhcp-{network.id}"
    try:
        subnet = conn.network.create_subnet(
            network_id=network.id, ip_version=4, cidr="10.250.10.0/24",
            dns_nameservers=["10.250.10.53"],
            host_routes=[{"destination": "10.250.99.0/24", "nexthop": "10.250.10.254"}])
        server = wait_for("the DHCP port", lambda: dhcp_port(conn, network.id))
        assert server.binding_host_id == net.host and server.device_id.startswith("dhcp")
        server_ip = server.fixed_ips[0]["ip_address"]
        wait_for("DHCP port ACTIVE",
                 lambda: conn.network.get_port(server.id).status == "ACTIVE")
        pid = wait_for("dnsmasq", lambda: dnsmasq_pid(net, network.id))
        assert namespace in in_ns(None, "ip", "netns", "list").stdout
        port = conn.network.create_port(network_id=network.id, binding_host_id=net.host)
        guest = net.lab.guest("dg1", port.to_dict())
        lease = lease_fields(guest.dhcp(net.dhcp_script))
        ip = port.fixed_ips[0]["ip_address"]
        assert lease["ip"] == ip
        assert lease["mtu"] == "1450"
        assert lease["router"] == subnet.gateway_ip
        assert lease["dns"] == "10.250.10.53"
        assert lease["lease"] == "86400"
        assert lease["domain"] == "openstacklocal"
        assert lease["hostname"] == "host-" + ip.replace(".", "-")
        assert lease["staticroutes"].split() == [
            "10.250.99.0/24", "10.250.10.254", "169.254.169.254/32", server_ip,
            "0.0.0.0/0", subnet.gateway_ip]
        assert guest.run("cat", "/sys/class/net/eth0/mtu").stdout.strip() == "1450"
        # a port made later, on the other host: dnsmasq re-reads its hosts (SIGHUP)
        port2 = conn.network.create_port(network_id=network.id, binding_host_id=HOST1)
        guest2 = net.lab.guest("dg2", port2.to_dict(), host_ns=net.host1_ns)
        lease2 = lease_fields(guest2.dhcp(net.dhcp_script))
        assert lease2["ip"] == port2.fixed_ips[0]["ip_address"]
        assert dnsmasq_pid(net, network.id) == pid
        assert guest2.ping(ip)
        # a port with DHCP options of its own
        port3 = conn.network.create_port(
            network_id=network.id, binding_host_id=net.host,
            extra_dhcp_opts=[{"opt_name": "ntp-server", "opt_value": "10.250.10.123"}])
        guest3 = net.lab.guest("dg4", port3.to_dict())
        lease3 = lease_fields(guest3.dhcp(net.dhcp_script))
        assert lease3["ip"] == port3.fixed_ips[0]["ip_address"]
        assert lease3["ntpsrv"] == "10.250.10.123" and lease["ntpsrv"] == ""
        # a MAC that is no port's gets no lease: its DISCOVER reaches dnsmasq (the
        # tap put on the network's bridge by hand), which answers nothing
        stranger_mac = "02:00:0a:fa:0a:63"
        stranger = net.lab.guest("dg3", {**port2.to_dict(), "id": secrets.token_hex(6),
                                         "mac_address": stranger_mac})
        sh("ip", "link", "set", stranger.tap, "master", f"brq{network.id[:11]}", "up")
        out = stranger.run("busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "2", "-T",
                           "1", "-s", str(net.dhcp_script), check=False, timeout=30)
        assert "LEASE" not in out.stdout
        log = net.cloud.state_dir / "linuxbridge" / "dhcp" / network.id / "dnsmasq.log"
        heard = [ln for ln in log.read_text().splitlines() if stranger_mac in ln]
        assert any("DHCPDISCOVER" in ln for ln in heard), heard
        assert not any("DHCPOFFER" in ln for ln in heard), heard
        sh("ip", "link", "del", stranger.tap)
        # an address given back and handed to a new port (another MAC) is leased to
        # it at once: the old port's lease was released (and dnsmasq, whose hosts
        # had a port with options of its own, was restarted, not sent a SIGHUP that
        # would kill it)
        reused = port3.fixed_ips[0]["ip_address"]
        conn.network.delete_port(port3)
        port4 = conn.network.create_port(
            network_id=network.id, binding_host_id=net.host,
            fixed_ips=[{"subnet_id": subnet.id, "ip_address": reused}])
        assert port4.mac_address != port3.mac_address
        guest4 = net.lab.guest("dg5", port4.to_dict())
        assert lease_fields(guest4.dhcp(net.dhcp_script))["ip"] == reused
        for p in (port, port2, port4):
            conn.network.delete_port(p)
        conn.network.delete_subnet(subnet)
        wait_for("the DHCP port deleted", lambda: not list(
            conn.network.ports(network_id=network.id, device_owner="network:dhcp")))
        wait_for("the namespace removed",
                 lambda: namespace not in in_ns(None, "ip", "netns", "list").stdout)
        assert dnsmasq_pid(net, network.id) is None
    finally:
        for p in conn.network.ports(network_id=network.id):
            if p.device_owner != "network:dhcp":
                conn.network.delete_port(p)
        conn.network.delete_network(network)
    wait_for("DHCP namespace gone",
             lambda: namespace not in in_ns(None, "ip", "netns", "list").stdout)
