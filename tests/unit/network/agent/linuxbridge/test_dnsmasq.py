"""dnsmasq's configuration, rendered from a network's DHCP state."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nubo.network.agent.linuxbridge import dnsmasq
from nubo.network.agent.linuxbridge.dnsmasq import Options
from nubo.network.agent.state import (
    Dhcp,
    DhcpHost,
    DhcpOption,
    DhcpPort,
    DhcpSubnet,
    FixedIp,
    Route,
)

DIR = Path("/state/linuxbridge/dhcp/net-1")
SUBNET = DhcpSubnet("sub-1", "10.0.0.0/24", 4, "10.0.0.1", (), (), None, None)
PORT = DhcpPort("dhcp-port", "fa:16:3e:00:00:02", (FixedIp("sub-1", "10.0.0.2", "10.0.0.0/24"),))
HOST = DhcpHost("port-1", "fa:16:3e:00:00:05", ("10.0.0.5",), "host-10-0-0-5", ())


def dhcp(*subnets: DhcpSubnet, hosts: tuple[DhcpHost, ...] = (HOST,)) -> Dhcp:
    return Dhcp("net-1", 1450, "openstacklocal.", subnets or (SUBNET,), hosts, PORT)


def test_command_line_serves_static_ranges_on_the_dhcp_port_only() -> None:
    argv = dnsmasq.argv(dhcp(), DIR, "ns-dhcp-port", Options(lease_seconds=600))
    assert argv[0] == "dnsmasq"
    assert "--dhcp-range=set:subnet-sub-1,10.0.0.0,static,255.255.255.0,600s" in argv
    assert "--interface=ns-dhcp-port" in argv and "--bind-interfaces" in argv
    assert "--domain=openstacklocal" in argv
    assert f"--dhcp-hostsfile={DIR / 'host'}" in argv
    assert "--no-resolv" in argv
    upstream = dnsmasq.argv(dhcp(), DIR, "x", Options(dns_servers=("192.0.2.53",)))
    assert "--server=192.0.2.53" in upstream and "--no-resolv" not in upstream


def test_hosts_reserve_each_port_address_with_its_name() -> None:
    assert dnsmasq.host_lines(dhcp()) == ["fa:16:3e:00:00:05,10.0.0.5,host-10-0-0-5"]
    tagged = replace(HOST, options=(DhcpOption("ntp-server", "10.0.0.123", 4),))
    assert dnsmasq.host_lines(dhcp(hosts=(tagged,))) == [
        "fa:16:3e:00:00:05,set:port-port-1,10.0.0.5,host-10-0-0-5"]
    outside = replace(HOST, ip_addresses=("192.168.9.9",))
    assert dnsmasq.host_lines(dhcp(hosts=(outside,))) == []


def test_options_give_router_dns_mtu_and_classless_routes() -> None:
    config = dnsmasq.render(dhcp(), DIR, "ns-x", Options())
    lines = config.opts.splitlines()
    assert "tag:subnet-sub-1,option:router,10.0.0.1" in lines
    assert "tag:subnet-sub-1,option:dns-server,10.0.0.2" in lines    # the DHCP port
    assert "tag:subnet-sub-1,option:mtu,1450" in lines
    routes = "169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1"
    assert f"tag:subnet-sub-1,option:classless-static-route,{routes}" in lines
    assert f"tag:subnet-sub-1,249,{routes}" in lines
    assert config.addn_hosts == "10.0.0.5 host-10-0-0-5.openstacklocal host-10-0-0-5\n"


def test_routed_subnets_reach_metadata_through_their_router() -> None:
    routed = replace(SUBNET, routed=True, dns_nameservers=("192.0.2.53",),
                     host_routes=(Route("10.9.0.0/16", "10.0.0.254"),))
    assert dnsmasq.routes(dhcp(routed), routed, Options()) == [
        ("10.9.0.0/16", "10.0.0.254"), ("0.0.0.0/0", "10.0.0.1")]
    assert not dnsmasq.metadata_isolated(dhcp(routed), Options())
    assert dnsmasq.metadata_isolated(dhcp(), Options())
    assert not dnsmasq.metadata_isolated(dhcp(), Options(isolated_metadata=False))
    lines = dnsmasq.render(dhcp(routed), DIR, "x", Options()).opts.splitlines()
    assert "tag:subnet-sub-1,option:dns-server,192.0.2.53" in lines


def test_no_gateway_means_no_router_and_no_default_route() -> None:
    bare = replace(SUBNET, gateway_ip=None)
    lines = dnsmasq.render(dhcp(bare), DIR, "x", Options()).opts.splitlines()
    assert "tag:subnet-sub-1,option:router" in lines
    assert dnsmasq.routes(dhcp(bare), bare, Options()) == [("169.254.169.254/32", "10.0.0.2")]


def test_other_subnets_of_the_network_are_on_link() -> None:
    other = DhcpSubnet("sub-2", "10.1.0.0/24", 4, "10.1.0.1", (), (), None, None, True)
    assert ("10.1.0.0/24", "0.0.0.0") in dnsmasq.routes(dhcp(SUBNET, other), SUBNET, Options())


def test_port_options_by_name_or_number() -> None:
    tagged = replace(HOST, options=(DhcpOption("ntp-server", "10.0.0.123", 4),
                                    DhcpOption("150", "10.0.0.9", 4)))
    lines = dnsmasq.render(dhcp(hosts=(tagged,)), DIR, "x", Options()).opts.splitlines()
    assert "tag:port-port-1,option:ntp-server,10.0.0.123" in lines
    assert "tag:port-port-1,150,10.0.0.9" in lines


def test_ipv6_dhcp_subnets_only_in_dhcpv6_modes() -> None:
    slaac = DhcpSubnet("v6", "fd00::/64", 6, "fd00::1", (), (), "slaac", "slaac")
    stateful = replace(slaac, id="v6s", ipv6_address_mode="dhcpv6-stateful",
                       ipv6_ra_mode="dhcpv6-stateful")
    argv = dnsmasq.argv(dhcp(SUBNET, slaac, stateful), DIR, "x", Options())
    ranges = [a for a in argv if a.startswith("--dhcp-range")]
    assert ranges == ["--dhcp-range=set:subnet-sub-1,10.0.0.0,static,255.255.255.0,86400s",
                      "--dhcp-range=set:subnet-v6s,fd00::,static,64,86400s"]


LEASES = """1795341400 fa:16:3e:00:00:05 10.0.0.5 host-10-0-0-5 01:fa:16:3e:00:00:05
1795341391 FA:16:3E:00:00:09 10.0.0.5 host-10-0-0-5 01:fa:16:3e:00:00:09
1795341383 fa:16:3e:00:00:07 10.0.0.7 * *
duid 00:01:00:01:2c:aa:bb:cc:fa:16:3e:00:00:02
1795341367 1234 fd00::5 host-fd00--5 00:01:00:01:aa
"""


def test_leases_of_ports_that_hold_them_no_more_are_stale() -> None:
    assert dnsmasq.leases_of(LEASES) == [
        dnsmasq.Lease("10.0.0.5", "fa:16:3e:00:00:05", "01:fa:16:3e:00:00:05"),
        dnsmasq.Lease("10.0.0.5", "fa:16:3e:00:00:09", "01:fa:16:3e:00:00:09"),
        dnsmasq.Lease("10.0.0.7", "fa:16:3e:00:00:07", "*")]
    # the port holding 10.0.0.5 now is fa:16:3e:00:00:05: the old MAC's lease and
    # the lease of the port that is gone (10.0.0.7) are stale
    stale = dnsmasq.stale_leases(LEASES, dhcp())
    assert [(lease.mac, lease.ip) for lease in stale] == [
        ("fa:16:3e:00:00:09", "10.0.0.5"), ("fa:16:3e:00:00:07", "10.0.0.7")]
    kept = dnsmasq.without(LEASES, stale)
    assert kept.splitlines() == [LEASES.splitlines()[0], *LEASES.splitlines()[3:]]
    assert dnsmasq.stale_leases(kept, dhcp()) == []
    assert dnsmasq.stale_leases("", dhcp()) == []


def test_a_change_restarts_dnsmasq_while_tags_are_or_were_in_its_hosts() -> None:
    plain = "fa:16:3e:00:00:01,10.0.0.5,host-10-0-0-5\n"
    tagged = "fa:16:3e:00:00:02,set:port-p2,10.0.0.6,host-10-0-0-6\n"
    assert not dnsmasq.sighup_crashes(plain, plain + "fa:16:3e:00:00:03,10.0.0.7,h\n")
    assert dnsmasq.sighup_crashes(plain, plain + tagged)        # a tag comes
    assert dnsmasq.sighup_crashes(plain + tagged, plain)        # the last tag goes
    assert dnsmasq.sighup_crashes(plain + tagged, plain + tagged + plain)
