"""The host firewall's nftables rendering from ports and security groups."""

from __future__ import annotations

from dataclasses import replace

from nubo.network.agent.linuxbridge import firewall as fw
from nubo.network.agent.state import (
    AddressPair,
    Firewall,
    FixedIp,
    Port,
    Rule,
    SecurityGroup,
)

NET = "6e0a3f52-94c1-4f0e-8b2a-3f1c2d4e5f60"
PORT = Port("0b1c2d3e-4f50-4a6b-9c7d-8e9fa0b1c2d3", NET, "fa:16:3e:00:00:05",
            (FixedIp("s", "10.0.0.5", "10.0.0.0/24"),), True, 1450, "compute:nova", "vm",
            True, (), ("web",))


def rule(direction: str = "ingress", protocol: str | None = "tcp", low: int | None = 22,
         high: int | None = 22, prefix: str | None = None, group: str | None = None,
         ethertype: str = "IPv4") -> Rule:
    return Rule("r", direction, ethertype, protocol, low, high, prefix, group, None)


EMPTY = Firewall()


def test_rules_as_nft_matches() -> None:
    assert fw.rule_match(rule(), EMPTY) == "meta nfproto ipv4 meta l4proto 6 th dport 22"
    assert fw.rule_match(rule(low=1000, high=2000, prefix="10.1.0.9/16"), EMPTY) == \
        "meta nfproto ipv4 ip saddr 10.1.0.0/16 meta l4proto 6 th dport 1000-2000"
    assert fw.rule_match(rule("egress", "udp", 53, 53, prefix="192.0.2.0/24"), EMPTY) == \
        "meta nfproto ipv4 ip daddr 192.0.2.0/24 meta l4proto 17 th dport 53"
    assert fw.rule_match(rule(protocol="icmp", low=8, high=0), EMPTY) == \
        "meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0"
    assert fw.rule_match(rule(protocol="icmp", low=None, high=None, ethertype="IPv6"),
                         EMPTY) == "meta nfproto ipv6 meta l4proto 58"
    assert fw.rule_match(rule(protocol=None, low=None, high=None), EMPTY) == \
        "meta nfproto ipv4"
    assert fw.rule_match(rule(protocol="112", low=None, high=None), EMPTY) == \
        "meta nfproto ipv4 meta l4proto 112"
    assert fw.rule_match(rule(protocol="no-such"), EMPTY) is None


def test_remote_groups_match_their_members_by_family() -> None:
    members = Firewall(members={"g1": ("10.0.0.6", "fd00::6"), "g2": ("fd00::7",)})
    assert fw.rule_match(rule(group="g1"), members) == \
        "meta nfproto ipv4 ip saddr @g-g1-4 meta l4proto 6 th dport 22"
    assert fw.rule_match(rule(group="g2"), members) is None     # no IPv4 member
    assert fw.rule_match(rule(group="g2", ethertype="IPv6"), members) == \
        "meta nfproto ipv6 ip6 saddr @g-g2-6 meta l4proto 6 th dport 22"


def test_ports_default_deny_ingress_with_dhcp_and_established_allowed() -> None:
    groups = {"web": SecurityGroup("web", True, (rule(),))}
    chain = "\n".join(fw.port_chain(fw.Secured(PORT, 3), "ingress", groups))
    assert "chain i-3 {" in chain
    lines = [ln.strip() for ln in chain.splitlines()]
    assert lines[1:4] == ["ct state invalid drop", "ct state established,related accept",
                          "udp sport 67 udp dport 68 accept"]
    assert "jump sg-web-ingress" in lines and lines[-2] == "drop"
    stateless = {"web": SecurityGroup("web", False, ())}
    assert "ct state established,related accept" not in "\n".join(
        fw.port_chain(fw.Secured(PORT, 3), "ingress", stateless))


def test_anti_spoofing_allows_own_mac_and_addresses_and_pairs_only() -> None:
    port = replace(PORT, allowed_address_pairs=(
        AddressPair("10.0.0.100/32", "fa:16:3e:00:00:05"),
        AddressPair("10.0.0.200", "fa:16:3e:00:00:99")))
    rules = fw.spoofing_rules(port)
    assert "ether saddr fa:16:3e:00:00:05 ip saddr { 10.0.0.5, 10.0.0.100/32 } accept" in rules
    assert "ether saddr fa:16:3e:00:00:99 ip saddr 10.0.0.200 accept" in rules
    assert ("ether saddr fa:16:3e:00:00:05 arp saddr ether fa:16:3e:00:00:05 "
            "arp saddr ip { 10.0.0.5, 10.0.0.100/32, 0.0.0.0 } accept") in rules
    assert rules[0] == "ether type ip udp sport 67 udp dport 68 drop"    # no DHCP servers
    assert rules[-1] == "drop"


def test_marks_carry_the_cloud_tag_and_both_ports() -> None:
    tag = fw.owner_tag("ab12cd34")
    assert 1 <= tag <= 255
    assert fw.egress_mark(tag, 5) == (tag << 24) | 5
    assert fw.ingress_mark(tag, 5) == (tag << 24) | (5 << 12)
    table = fw.bridge_table("ab12cd34", [fw.Secured(PORT, 5)])
    assert '"tap0b1c2d3e-4f" : jump from-5' in table
    assert f"meta mark set {fw.ingress_mark(tag, 5):#010x}" not in table
    assert f"or {fw.ingress_mark(tag, 5):#010x}" in table


def test_trusted_and_unsecured_ports_are_not_filtered_but_get_zones() -> None:
    dhcp = replace(PORT, id="dhcpport", device_owner="network:dhcp")
    open_port = replace(PORT, id="openport", port_security_enabled=False)
    text = fw.render("ab12cd34", [fw.Secured(dhcp, 1), fw.Secured(open_port, 2)], None)
    assert "jump from-" not in text and "chain i-" not in text
    assert f'ct zone set iifname map {{ "brq6e0a3f52-94" : {fw.zone(NET)} }}' in text
    assert text.startswith("table bridge nubo-ab12cd34 {}\ndelete table bridge nubo-ab12cd34\n")


def test_revocation_names_what_a_port_no_longer_allows() -> None:
    ssh, web = rule(), replace(rule(low=80, high=80), id="r2")
    out = replace(rule("egress", None, None, None), id="r3")
    peer = replace(rule(protocol=None, low=None, high=None, group="web"), id="r4")
    before = Firewall(groups=(SecurityGroup("web", True, (ssh, web, out, peer)),),
                      members={"web": ("10.0.0.5", "10.0.0.6")})
    allowed = fw.allowances([PORT], before)
    assert set(allowed) == {(PORT.id, "ingress"), (PORT.id, "egress")}
    # nothing changed, or something added: nothing revoked
    assert fw.revoked(allowed, fw.allowances([PORT], before)) == []
    more = replace(before, groups=(SecurityGroup("web", True, (ssh, web, out, peer,
                                                               replace(ssh, id="r5",
                                                                       port_range_min=23,
                                                                       port_range_max=23))),))
    assert fw.revoked(allowed, fw.allowances([PORT], more)) == []
    # an ingress rule deleted: the port's ingress connections go, not its egress ones
    fewer = replace(before, groups=(SecurityGroup("web", True, (web, out, peer)),))
    assert fw.revoked(allowed, fw.allowances([PORT], fewer)) == [(PORT.id, "ingress")]
    # the egress rule deleted
    no_out = replace(before, groups=(SecurityGroup("web", True, (ssh, web, peer)),))
    assert fw.revoked(allowed, fw.allowances([PORT], no_out)) == [(PORT.id, "egress")]
    # a remote group's member gone
    left = replace(before, members={"web": ("10.0.0.5",)})
    assert fw.revoked(allowed, fw.allowances([PORT], left)) == [(PORT.id, "ingress")]
    # the group taken off the port: both directions
    bare = replace(PORT, security_group_ids=())
    assert fw.revoked(allowed, fw.allowances([bare], before)) == \
        [(PORT.id, "egress"), (PORT.id, "ingress")]
    # port security switched off, or the port gone: nothing is filtered, nothing to cut
    assert fw.revoked(allowed, fw.allowances([replace(PORT, port_security_enabled=False)],
                                             before)) == []
    assert fw.revoked(allowed, fw.allowances([], before)) == []
    # a stateless group keeps no connections
    stateless = replace(before, groups=(SecurityGroup("web", False, (web,)),))
    assert fw.allowances([PORT], stateless) == {}


def test_conntrack_filters_name_the_ports_addresses_in_its_zone() -> None:
    port = replace(PORT, fixed_ips=(FixedIp("s", "10.0.0.5", "10.0.0.0/24"),
                                    FixedIp("s6", "fd00::5", "fd00::/64")),
                   allowed_address_pairs=(AddressPair("10.9.0.0/16", "fa:16:3e:00:00:09"),))
    zone = str(fw.zone(NET))
    assert fw.conntrack_filters(port, "ingress") == [
        ["-w", zone, "-f", "ipv4", "--dst", "10.0.0.5"],
        ["-w", zone, "-f", "ipv6", "--dst", "fd00::5"],
        ["-w", zone, "-f", "ipv4", "--dst", "10.9.0.0", "--mask-dst", "255.255.0.0"]]
    assert fw.conntrack_filters(port, "egress")[1] == \
        ["-w", zone, "-f", "ipv6", "--src", "fd00::5"]
