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
STAMPS = fw.Stamps(7, 9)


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


def test_rules_on_the_connections_original_tuple() -> None:
    assert fw.rule_match(rule(low=1000, high=2000, prefix="10.1.0.9/16"), EMPTY, True) == \
        "meta nfproto ipv4 ct original ip saddr 10.1.0.0/16 meta l4proto 6 " \
        "ct original proto-dst 1000-2000"
    assert fw.rule_match(rule("egress", "udp", 53, 53, prefix="fd00::/8", ethertype="IPv6"),
                         EMPTY, True) == \
        "meta nfproto ipv6 ct original ip6 daddr fd00::/8 meta l4proto 17 " \
        "ct original proto-dst 53"
    members = Firewall(members={"g1": ("10.0.0.6",)})
    assert fw.rule_match(rule(group="g1"), members, True) == \
        "meta nfproto ipv4 ct original ip saddr @g-g1-4 meta l4proto 6 ct original proto-dst 22"
    # an ICMP type is not in the tuple: the rule cannot vouch for such replies
    assert fw.rule_match(rule(protocol="icmp", low=8, high=0), EMPTY, True) is None
    assert fw.rule_match(rule(protocol="icmp", low=None, high=None), EMPTY, True) == \
        "meta nfproto ipv4 meta l4proto 1"


def test_generations_stamp_each_direction_in_its_half_of_the_ct_mark() -> None:
    assert STAMPS.holds("ingress") == "ct mark and 0x0000ffff == 0x00000007"
    assert STAMPS.holds("egress") == "ct mark and 0xffff0000 == 0x00090000"
    assert STAMPS.stamp("ingress") == "ct mark set ct mark and 0xffff0000 or 0x00000007"
    assert STAMPS.stamp("egress") == "ct mark set ct mark and 0x0000ffff or 0x00090000"
    # a revocation starts a new generation in its direction only; they wrap past 0
    assert STAMPS.after([]) == STAMPS
    assert STAMPS.after([("p1", "ingress"), ("p2", "ingress")]) == fw.Stamps(8, 9)
    assert STAMPS.after([("p1", "egress")]) == fw.Stamps(7, 10)
    assert fw.Stamps(0xFFFF, 1).after([("p", "ingress")]) == fw.Stamps(1, 1)
    fresh = fw.Stamps.fresh()
    assert 1 <= fresh.ingress <= 0xFFFF and fresh.ingress == fresh.egress


def test_group_chains_stamp_what_they_let_through() -> None:
    group = SecurityGroup("web", True, (rule(), replace(rule("egress", None, None, None),
                                                        id="r2")))
    text = "\n".join(fw._group_chains(group, EMPTY, STAMPS))
    assert "chain sg-web-ingress {\n\t\tmeta nfproto ipv4 meta l4proto 6 th dport 22 " \
        "ct mark set ct mark and 0xffff0000 or 0x00000007 accept" in text
    assert "chain sg-web-ingress-ct {\n\t\tmeta nfproto ipv4 meta l4proto 6 " \
        "ct original proto-dst 22 ct mark set ct mark and 0xffff0000 or 0x00000007 accept" \
        in text
    assert "chain sg-web-egress-ct {\n\t\tmeta nfproto ipv4 " \
        "ct mark set ct mark and 0x0000ffff or 0x00090000 accept" in text


def test_remote_groups_match_their_members_by_family() -> None:
    members = Firewall(members={"g1": ("10.0.0.6", "fd00::6"), "g2": ("fd00::7",)})
    assert fw.rule_match(rule(group="g1"), members) == \
        "meta nfproto ipv4 ip saddr @g-g1-4 meta l4proto 6 th dport 22"
    assert fw.rule_match(rule(group="g2"), members) is None     # no IPv4 member
    assert fw.rule_match(rule(group="g2", ethertype="IPv6"), members) == \
        "meta nfproto ipv6 ip6 saddr @g-g2-6 meta l4proto 6 th dport 22"


def test_ports_default_deny_ingress_with_dhcp_and_established_allowed() -> None:
    groups = {"web": SecurityGroup("web", True, (rule(),))}
    chain = "\n".join(fw.port_chain(fw.Secured(PORT, 3), "ingress", groups, STAMPS))
    lines = [ln.strip() for ln in chain.splitlines()]
    # established traffic passes while its stamps are current: the acceptor's ingress
    # for what the opener sends, the opener's egress for the replies to it
    assert lines[:6] == [
        "chain i-3 {", "ct state invalid drop", "ct state related accept",
        "ct state established ct direction original ct mark and 0x0000ffff == 0x00000007 "
        "accept",
        "ct state established ct direction reply ct mark and 0xffff0000 == 0x00090000 "
        "accept",
        "udp sport 67 udp dport 68 accept"]
    # DHCP passes before replies are judged by the opener's rules: a renewal's answer
    # is its request's reply, and the port may have no egress rule at all
    assert lines.index("udp sport 67 udp dport 68 accept") < \
        lines.index("ct direction reply goto i-3-r") < lines.index("jump sg-web-ingress")
    assert lines.index("jump sg-web-ingress") < lines.index("drop") < lines.index("}")
    # replies of a connection the port opened: its egress rules on the original tuple
    assert lines[lines.index("chain i-3-r {"):] == [
        "chain i-3-r {", "jump sg-web-egress-ct", "drop", "}"]
    out = [ln.strip() for ln in fw.port_chain(fw.Secured(PORT, 3), "egress", groups, STAMPS)]
    assert "ct state established ct direction original ct mark and 0xffff0000 == " \
        "0x00090000 accept" in out and "jump sg-web-ingress-ct" in out
    stateless = {"web": SecurityGroup("web", False, ())}
    text = "\n".join(fw.port_chain(fw.Secured(PORT, 3), "ingress", stateless, STAMPS))
    assert "ct state" not in text and "i-3-r" not in text


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
    text = fw.render("ab12cd34", [fw.Secured(dhcp, 1), fw.Secured(open_port, 2)], None,
                     STAMPS)
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
