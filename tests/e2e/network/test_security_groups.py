"""Security groups as stateful kernel firewall rules per port: default deny
ingress, the groups' rules (also from a remote group's members), replies of
allowed connections and DHCP always pass; anti-spoofing lets a port send only
from its MAC and addresses plus its allowed address pairs."""

from __future__ import annotations

from typing import Any

from tests.e2e.network.conftest import HOST1, Net
from tests.e2e.network.netlab import Listener, connect, wait_for


def group(conn: Any, name: str, *rules: dict[str, Any]) -> Any:
    made = conn.network.create_security_group(name=name)
    for rule in rules:
        conn.network.create_security_group_rule(security_group_id=made.id, **rule)
    return made


def test_groups_filter_ingress_and_spoofing_is_dropped(net: Net) -> None:
    conn = net.conn()
    network = conn.network.create_network(name="nb-sg")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4,
                                        cidr="10.250.40.0/24")
    client = group(conn, "nb-client")
    tcp7000 = {"direction": "ingress", "protocol": "tcp", "port_range_min": 7000,
               "port_range_max": 7000, "remote_ip_prefix": "0.0.0.0/0"}
    web = group(conn, "nb-web", tcp7000, {"direction": "ingress", "protocol": "icmp"})
    listeners: list[Listener] = []
    try:
        pa = conn.network.create_port(network_id=network.id, binding_host_id=net.host,
                                      security_group_ids=[web.id])
        pb = conn.network.create_port(network_id=network.id, binding_host_id=HOST1,
                                      security_group_ids=[client.id])
        pc = conn.network.create_port(network_id=network.id, binding_host_id=net.host,
                                      port_security_enabled=False)
        ga = net.lab.guest("sa", pa.to_dict())
        gb = net.lab.guest("sb", pb.to_dict(), host_ns=net.host1_ns)
        gc = net.lab.guest("sc", pc.to_dict())
        for g in (ga, gb, gc):          # DHCP replies pass whatever the groups
            g.dhcp(net.dhcp_script)
        a_ip, b_ip = pa.fixed_ips[0]["ip_address"], pb.fixed_ips[0]["ip_address"]
        listeners += [Listener(ga.ns, 7000), Listener(ga.ns, 7001), Listener(gb.ns, 7000)]
        # allowed port open (its replies pass b's default-deny ingress), other closed
        assert connect(gb.ns, a_ip, 7000) == b_ip
        assert connect(gb.ns, a_ip, 7001) is None
        assert gb.ping(a_ip)
        assert not ga.ping(b_ip) and connect(ga.ns, b_ip, 7000) is None
        assert connect(gc.ns, b_ip, 7000) is None       # b's ingress, also from c
        assert connect(ga.ns, pc.fixed_ips[0]["ip_address"], 7000, timeout=1) is None \
            and ga.ping(pc.fixed_ips[0]["ip_address"])  # no port security: all open
        # a rule from a remote group's members
        from_clients = conn.network.create_security_group_rule(
            security_group_id=web.id, direction="ingress", protocol="tcp",
            port_range_min=7001, port_range_max=7001, remote_group_id=client.id)
        wait_for("7001 open to clients", lambda: connect(gb.ns, a_ip, 7001, timeout=1))
        assert connect(gc.ns, a_ip, 7001, timeout=1) is None      # c is no client
        # a rule removed closes new connections, added back opens them
        rule = next(r for r in conn.network.security_group_rules(security_group_id=web.id)
                    if r.port_range_min == 7000)
        conn.network.delete_security_group_rule(rule)
        wait_for("7000 closed", lambda: connect(gb.ns, a_ip, 7000, timeout=1) is None)
        conn.network.create_security_group_rule(security_group_id=web.id, **tcp7000)
        wait_for("7000 open again", lambda: connect(gb.ns, a_ip, 7000, timeout=1))
        # spoofing: another address, then another MAC
        gb.address("10.250.40.99/24")
        assert gb.ping(a_ip)
        assert not gb.run("ping", "-c1", "-W1", "-I", "10.250.40.99", a_ip,
                          check=False).returncode == 0
        conn.network.update_port(pb, allowed_address_pairs=[{"ip_address": "10.250.40.99"}])
        wait_for("the address pair may send", lambda: gb.run(
            "ping", "-c1", "-W1", "-I", "10.250.40.99", a_ip, check=False).returncode == 0)
        gb.run("ip", "link", "set", "eth0", "address", "fa:16:3e:de:ad:01")
        assert not gb.ping(a_ip)
        conn.network.delete_security_group_rule(from_clients)
    finally:
        for listener in listeners:
            listener.stop()
        for p in conn.network.ports(network_id=network.id):
            if p.device_owner != "network:dhcp":
                conn.network.delete_port(p)
        conn.network.delete_network(network)
        for g in (web, client):
            conn.network.delete_security_group(g)
    del subnet
