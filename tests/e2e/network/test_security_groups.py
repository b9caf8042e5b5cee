"""Security groups as stateful kernel firewall rules per port: default deny
ingress, the groups' rules (also from a remote group's members), replies of
allowed connections and DHCP always pass; anti-spoofing lets a port send only
from its MAC and addresses plus its allowed address pairs. Established
connections end with the rule that allowed them, and only those."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.network.conftest import HOST1, Net
from tests.e2e.network.netlab import Listener, Ticker, connect, opens, wait_for


def group(conn: Any, name: str, *rules: dict[str, Any]) -> Any:
    made = conn.network.create_security_group(name=name)
    for rule in rules:
        conn.network.create_security_group_rule(security_group_id=made.id, **rule)
    return made


def remove(conn: Any, network: Any, *groups: Any) -> None:
    """The test's ports (not the DHCP port), its network and its groups."""
    for p in conn.network.ports(network_id=network.id):
        if p.device_owner != "network:dhcp":
            conn.network.delete_port(p)
    conn.network.delete_network(network)
    for g in groups:
        conn.network.delete_security_group(g)


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
        remove(conn, network, web, client)
    del subnet


def test_an_established_connection_ends_with_its_rule(net: Net) -> None:
    """Two open connections into a port, each allowed by its own rule; the server
    end talks, the client end stays quiet (it only acknowledges). Taking one rule
    away stops that connection both ways, at once and for good, even though the
    port's egress allows everything (its server's next packet must not open the
    connection again); the other connection carries on. The rule put back, the
    same connection carries on too."""
    conn = net.conn()
    network = conn.network.create_network(name="nb-sg-open")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4,
                                        cidr="10.250.41.0/24")
    client = group(conn, "nb-open-client")
    tcp7000 = {"direction": "ingress", "protocol": "tcp", "port_range_min": 7000,
               "port_range_max": 7000, "remote_ip_prefix": "0.0.0.0/0"}
    server = group(conn, "nb-open-server", tcp7000,
                   {"direction": "ingress", "protocol": "tcp", "port_range_min": 7001,
                    "port_range_max": 7001, "remote_group_id": client.id})
    tickers: list[Ticker] = []
    try:
        pa = conn.network.create_port(network_id=network.id, binding_host_id=net.host,
                                      security_group_ids=[server.id])
        pb = conn.network.create_port(network_id=network.id, binding_host_id=HOST1,
                                      security_group_ids=[client.id])
        ga = net.lab.guest("oa", pa.to_dict())
        gb = net.lab.guest("ob", pb.to_dict(), host_ns=net.host1_ns)
        for g in (ga, gb):
            g.dhcp(net.dhcp_script)
        a_ip = pa.fixed_ips[0]["ip_address"]
        tickers += [Ticker.serve(ga.ns, 7000), Ticker.serve(ga.ns, 7001)]
        by_rule, by_group = Ticker.connect(gb.ns, a_ip, 7000), Ticker.connect(gb.ns, a_ip, 7001)
        tickers += [by_rule, by_group]
        rule = next(r for r in conn.network.security_group_rules(security_group_id=server.id)
                    if r.port_range_min == 7000)
        conn.network.delete_security_group_rule(rule)
        wait_for("7000 closed", lambda: not opens(gb.ns, a_ip, 7000))
        cut = time.monotonic() + 0.5            # what was on the wire has arrived
        time.sleep(3)
        assert by_rule.since(cut) == 0, "the connection outlived its rule"
        assert by_group.since(cut) >= 5, "a connection another rule allows was cut"
        conn.network.create_security_group_rule(security_group_id=server.id, **tcp7000)
        back = time.monotonic()
        wait_for("the same connection carrying on", lambda: by_rule.since(back))
    finally:
        for ticker in tickers:
            ticker.stop()
        remove(conn, network, server, client)
    del subnet
