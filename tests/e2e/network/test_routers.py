"""Routers: a qrouter- namespace per router, qr- legs holding the subnets'
gateway addresses, a qg- leg on the public bridge; SNAT of the inside subnets to
the gateway address, floating IPs as 1:1 NAT (reachable from a host on the
public network, from the cloud's host itself and, hairpinned, from inside), port
forwardings, static routes; and nothing left when the router goes."""

from __future__ import annotations

from typing import Any

from tests.e2e.network.conftest import HOST1, Net
from tests.e2e.network.netlab import Listener, connect, in_ns, sh, wait_for


def status(conn: Any, fip_id: str) -> str:
    return str(conn.network.get_ip(fip_id).status)


def test_router_snat_floating_ips_forwardings_and_routes(net: Net) -> None:
    conn = net.conn()
    public = net.public()
    ext = net.external_host("ext")
    ext_ip = ext.run("ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout.split()[3][:-3]
    listeners = [Listener(ext.ns, 7000)]
    network = conn.network.create_network(name="nb-rt", port_security_enabled=False)
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4,
                                        cidr="10.250.30.0/24")
    router = conn.network.create_router(name="nb-rt",
                                        external_gateway_info={"network_id": public.id})
    namespace = f"qrouter-{router.id}"
    made: list[Any] = []
    try:
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        gateway_ip = conn.network.get_router(router.id).external_gateway_info[
            "external_fixed_ips"][0]["ip_address"]
        pa = conn.network.create_port(network_id=network.id, binding_host_id=net.host)
        pb = conn.network.create_port(network_id=network.id, binding_host_id=HOST1)
        ga = net.lab.guest("ra", pa.to_dict())
        gb = net.lab.guest("rb", pb.to_dict(), host_ns=net.host1_ns)
        for g in (ga, gb):
            assert "router=10.250.30.1" in g.dhcp(net.dhcp_script)
        # the agent applies a router's legs one after another: wait for both
        wait_for("the router's legs", lambda: all(a in in_ns(
            namespace, "ip", "-4", "-o", "addr", check=False).stdout
            for a in ("10.250.30.1/24", f"{gateway_ip}/24")))
        assert ga.ping("10.250.30.1") and ga.ping(ext_ip)
        assert connect(ga.ns, ext_ip, 7000) == gateway_ip          # SNAT
        # a floating IP: 1:1 both ways
        fip = conn.network.create_ip(floating_network_id=public.id, port_id=pb.id)
        made.append(fip)
        wait_for("floating IP ACTIVE", lambda: status(conn, fip.id) == "ACTIVE")
        listeners.append(Listener(gb.ns, 7001))
        assert ext.ping(fip.floating_ip_address)
        assert connect(ext.ns, fip.floating_ip_address, 7001) == ext_ip
        assert connect(gb.ns, ext_ip, 7000) == fip.floating_ip_address
        assert connect(ga.ns, fip.floating_ip_address, 7001) == "10.250.30.1"   # hairpin
        assert sh("ping", "-c1", "-W2", fip.floating_ip_address).returncode == 0  # the host
        # a port forwarding on another floating IP
        fip2 = conn.network.create_ip(floating_network_id=public.id)
        made.append(fip2)
        conn.network.create_port_forwarding(
            floatingip_id=fip2.id, internal_port_id=pa.id,
            internal_ip_address=pa.fixed_ips[0]["ip_address"], internal_port=7002,
            external_port=17002, protocol="tcp")
        listeners.append(Listener(ga.ns, 7002))
        assert wait_for("the forwarding", lambda: connect(
            ext.ns, fip2.floating_ip_address, 17002, timeout=1)) == ext_ip
        # a static route
        conn.network.add_extra_routes_to_router(router, body={"router": {"routes": [
            {"destination": "10.250.99.0/24", "nexthop": "10.250.30.254"}]}})
        wait_for("the static route", lambda: "10.250.99.0/24 via 10.250.30.254" in in_ns(
            namespace, "ip", "route").stdout)
        # the floating IP taken away: unreachable again
        conn.network.update_ip(fip, port_id=None)
        wait_for("floating IP DOWN", lambda: status(conn, fip.id) == "DOWN")
        wait_for("the floating IP unreachable", lambda: not ext.ping(fip.floating_ip_address))
        assert connect(gb.ns, ext_ip, 7000) == gateway_ip
    finally:
        for listener in listeners:
            listener.stop()
        for f in made:
            for pf in conn.network.port_forwardings(f):
                conn.network.delete_port_forwarding(pf, f)
            conn.network.delete_ip(f)
        conn.network.update_router(router, routes=[])
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.network.delete_router(router)
        for p in conn.network.ports(network_id=network.id):
            if p.device_owner != "network:dhcp":
                conn.network.delete_port(p)
        conn.network.delete_network(network)
    wait_for("the router's namespace removed",
             lambda: namespace not in sh("ip", "netns", "list").stdout)
