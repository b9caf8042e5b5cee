"""A host's firewall as nftables tables, rendered from its ports and security
groups. Pure: the text ``nft -f`` loads in one transaction that replaces both
tables (``bridge nubo-<owner>`` and ``inet nubo-<owner>``).

Why two families: the bridge family sees which tap a frame comes from or goes to
but has no connection tracking here (no ``nf_conntrack_bridge``); the inet family
has conntrack and, through ``br_netfilter`` (switched on per bridge), sees bridged
packets, but only the bridge as their device. So the bridge table marks each
packet with the ports it comes from (low 12 bits) and goes to (next 12 bits),
under the cloud's tag (top 8 bits), and does the stateless part, anti-spoofing;
the inet table's forward chains dispatch on the marks to each port's stateful
chains: egress (the sending port's groups' egress rules) first, then ingress
(the receiving port's ingress rules, default deny). Established and related
traffic, DHCP to and from the port and the IPv6 neighbour discovery it needs
always pass. Each network's bridged traffic has a conntrack zone of its own, so
overlapping addresses of different networks never share connections. When a port's
rules stop allowing something (a rule removed, a group taken off the port, a remote
group's member gone), its tracked connections in that direction are deleted
(``revoked``, ``conntrack_filters``): traffic its rules still allow is picked up again
as new, the rest is dropped.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nubo.network.agent.linuxbridge import names
from nubo.network.agent.state import Firewall, Port, Rule, SecurityGroup

EGRESS_BITS, INGRESS_SHIFT = 0xFFF, 12
PROTOCOLS = {"icmp": 1, "igmp": 2, "tcp": 6, "egp": 8, "udp": 17, "ipv6-encap": 41,
             "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
             "icmpv6": 58, "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ospf": 89,
             "pgm": 113, "sctp": 132, "udplite": 136, "vrrp": 112, "dccp": 33}
PORTED = {6, 17, 33, 132, 136}
ICMP = {1, 58}
EGRESS_ND = ("nd-router-solicit", "nd-neighbor-solicit", "nd-neighbor-advert",
             "mld-listener-report", "mld2-listener-report")
INGRESS_ND = ("nd-router-advert", "nd-neighbor-solicit", "nd-neighbor-advert",
              "mld-listener-query", "nd-redirect")


@dataclass(frozen=True)
class Secured:
    """A port the firewall filters, with its number in the marks."""

    port: Port
    mark: int


def table(owner: str) -> str:
    return f"nubo-{owner}"


def owner_tag(owner: str) -> int:
    """The cloud's byte in the marks (never 0)."""
    return (zlib.crc32(owner.encode()) % 255) + 1


def zone(network_id: str) -> int:
    return zlib.crc32(network_id.encode()) % 65000 + 1


def filtered(port: Port) -> bool:
    """Ports of the network's own devices (DHCP, routers) are trusted, as in Neutron."""
    return port.port_security_enabled and not port.device_owner.startswith("network:")


def egress_mark(tag: int, mark: int) -> int:
    return (tag << 24) | mark


def ingress_mark(tag: int, mark: int) -> int:
    return (tag << 24) | (mark << INGRESS_SHIFT)


def _set(items: Iterable[str]) -> str:
    found = list(dict.fromkeys(items))
    return found[0] if len(found) == 1 else "{ " + ", ".join(found) + " }"


def _version(cidr: str) -> int:
    return ipaddress.ip_network(cidr, strict=False).version


# ---------------------------------------------------------------- bridge table

def _allowed(port: Port) -> dict[str, tuple[list[str], list[str]]]:
    """Per MAC the IPv4 and IPv6 sources the port may use: its fixed IPs (with its
    own MAC) and its address pairs (with theirs)."""
    out: dict[str, tuple[list[str], list[str]]] = {port.mac_address.lower(): ([], [])}
    pairs = [(port.mac_address, ip.ip_address) for ip in port.fixed_ips]
    pairs += [(p.mac_address or port.mac_address, p.ip_address)
              for p in port.allowed_address_pairs]
    for mac, address in pairs:
        v4, v6 = out.setdefault(mac.lower(), ([], []))
        (v4 if _version(address) == 4 else v6).append(address)
    return out


def spoofing_rules(port: Port) -> list[str]:
    """What a port may send (its chain in the bridge table, after its mark is set)."""
    allowed = _allowed(port)
    macs = _set(allowed)
    rules = ["ether type ip udp sport 67 udp dport 68 drop",           # no DHCP servers
             "ether type ip6 udp sport 547 udp dport 546 drop",
             "ether type ip6 icmpv6 type nd-router-advert drop",       # no routers
             f"ether saddr {macs} ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 "
             "udp sport 68 udp dport 67 accept"]
    for mac, (v4, v6) in allowed.items():
        rules.append(f"ether saddr {mac} arp saddr ether {mac} "
                     f"arp saddr ip {_set([*v4, '0.0.0.0'])} accept")
        if v4:
            rules.append(f"ether saddr {mac} ip saddr {_set(v4)} accept")
        rules.append(f"ether saddr {mac} ip6 saddr {_set([*v6, 'fe80::/64', '::'])} accept")
    rules.append("drop")
    return rules


def bridge_table(owner: str, secured: Sequence[Secured]) -> str:
    tag = owner_tag(owner)
    lines = [f"table bridge {table(owner)} {{"]
    froms = ", ".join(f'"{names.tap(s.port.id)}" : jump from-{s.mark}' for s in secured)
    tos = ", ".join(f'"{names.tap(s.port.id)}" : jump to-{s.mark}' for s in secured)
    lines += _chain("prerouting", "type filter hook prerouting priority -200; policy accept;",
                    [f"iifname vmap {{ {froms} }}"] if secured else [])
    lines += _chain("forward", "type filter hook forward priority -200; policy accept;",
                    [f"oifname vmap {{ {tos} }}"] if secured else [])
    for s in secured:
        lines += _chain(f"from-{s.mark}", None, [
            f"meta mark set {egress_mark(tag, s.mark):#010x}", *spoofing_rules(s.port)])
        lines += _chain(f"to-{s.mark}", None, [
            f"meta mark set meta mark and {EGRESS_BITS:#010x} or "
            f"{ingress_mark(tag, s.mark):#010x}"])
    return "\n".join([*lines, "}"])


def _chain(name: str, base: str | None, rules: Sequence[str]) -> list[str]:
    head = [f"\tchain {name} {{"] + ([f"\t\t{base}"] if base else [])
    return [*head, *(f"\t\t{r}" for r in rules), "\t}"]


# ------------------------------------------------------------------ inet table

def _protocol(rule: Rule) -> int | None:
    proto = (rule.protocol or "").lower()
    if proto in ("", "any", "0"):
        return None
    if proto.isdigit():
        return int(proto)
    number = PROTOCOLS.get(proto)
    if number == 1 and rule.ethertype == "IPv6":
        return 58                      # Neutron takes "icmp" on IPv6 as ICMPv6
    return number


def rule_match(rule: Rule, firewall: Firewall) -> str | None:
    """A security-group rule as an nft match (None when it can match nothing:
    an empty remote group, or a protocol unknown to nft)."""
    v6 = rule.ethertype == "IPv6"
    parts = ["meta nfproto " + ("ipv6" if v6 else "ipv4")]
    family = "ip6" if v6 else "ip"
    side = "saddr" if rule.direction == "ingress" else "daddr"
    if rule.remote_ip_prefix:
        if _version(rule.remote_ip_prefix) != (6 if v6 else 4):
            return None
        parts.append(f"{family} {side} {ipaddress.ip_network(rule.remote_ip_prefix, False)}")
    remote = None
    if rule.remote_group_id:
        remote = f"g-{rule.remote_group_id}", firewall.members.get(rule.remote_group_id, ())
    elif rule.remote_address_group_id:
        remote = (f"a-{rule.remote_address_group_id}",
                  firewall.address_groups.get(rule.remote_address_group_id, ()))
    if remote is not None:
        if not [a for a in remote[1] if _version(a) == (6 if v6 else 4)]:
            return None
        parts.append(f"{family} {side} @{remote[0]}-{6 if v6 else 4}")
    proto = _protocol(rule)
    if (rule.protocol or "").lower() not in ("", "any", "0") and proto is None:
        return None
    if proto is not None:
        parts.append(f"meta l4proto {proto}")
        if proto in PORTED and rule.port_range_min is not None:
            high = rule.port_range_max if rule.port_range_max is not None \
                else rule.port_range_min
            ports = (str(rule.port_range_min) if high == rule.port_range_min
                     else f"{rule.port_range_min}-{high}")
            parts.append(f"th dport {ports}")
        elif proto in ICMP and rule.port_range_min is not None:
            kind = "icmpv6" if proto == 58 else "icmp"
            parts.append(f"{kind} type {rule.port_range_min}")
            if rule.port_range_max is not None:
                parts.append(f"{kind} code {rule.port_range_max}")
    return " ".join(parts)


def _sets(firewall: Firewall) -> list[str]:
    lines: list[str] = []
    used = {r.remote_group_id for g in firewall.groups for r in g.rules if r.remote_group_id}
    named = [(f"g-{gid}", firewall.members.get(gid, ())) for gid in sorted(used)]
    named += [(f"a-{aid}", cidrs) for aid, cidrs in sorted(firewall.address_groups.items())]
    for name, addresses in named:
        for version, kind in ((4, "ipv4_addr"), (6, "ipv6_addr")):
            found = sorted({str(ipaddress.ip_network(a, strict=False)) for a in addresses
                            if _version(a) == version})
            elements = f"\n\t\telements = {{ {', '.join(found)} }}" if found else ""
            lines += [f"\tset {name}-{version} {{",
                      f"\t\ttype {kind}; flags interval; auto-merge;{elements}", "\t}"]
    return lines


def _group_chains(group: SecurityGroup, firewall: Firewall) -> list[str]:
    lines: list[str] = []
    for direction in ("ingress", "egress"):
        matches = [rule_match(r, firewall) for r in group.rules if r.direction == direction]
        lines += _chain(f"sg-{group.id}-{direction}", None,
                        [f"{m} accept" for m in matches if m is not None])
    return lines


def port_chain(s: Secured, direction: str, groups: dict[str, SecurityGroup]) -> list[str]:
    port = s.port
    mine = [groups[g] for g in port.security_group_ids if g in groups]
    stateful = not mine or any(g.stateful for g in mine)
    rules = ["ct state invalid drop", "ct state established,related accept"] \
        if stateful else []
    if direction == "ingress":
        rules += ["udp sport 67 udp dport 68 accept", "udp sport 547 udp dport 546 accept",
                  f"icmpv6 type {{ {', '.join(INGRESS_ND)} }} accept"]
    else:
        rules += ["udp sport 68 udp dport 67 accept", "udp sport 546 udp dport 547 accept",
                  f"icmpv6 type {{ {', '.join(EGRESS_ND)} }} accept"]
    rules += [f"jump sg-{g.id}-{direction}" for g in mine]
    rules.append("drop")
    prefix = "i" if direction == "ingress" else "o"
    return _chain(f"{prefix}-{s.mark}", None, rules)


def inet_table(owner: str, secured: Sequence[Secured], firewall: Firewall,
               networks: Iterable[str]) -> str:
    tag = owner_tag(owner)
    groups = {g.id: g for g in firewall.groups}
    lines = [f"table inet {table(owner)} {{", *_sets(firewall)]
    bridges = sorted({(names.bridge(n), zone(n)) for n in networks})
    zones = ", ".join(f'"{b}" : {z}' for b, z in bridges)
    lines += _chain("zones", "type filter hook prerouting priority raw; policy accept;",
                    [f"ct zone set iifname map {{ {zones} }}"] if bridges else [])
    outs = ", ".join(f"{egress_mark(tag, s.mark):#010x} : jump o-{s.mark}" for s in secured)
    ins = ", ".join(f"{ingress_mark(tag, s.mark):#010x} : jump i-{s.mark}" for s in secured)
    lines += _chain("egress", "type filter hook forward priority filter; policy accept;",
                    [f"meta mark and {0xFF000FFF:#010x} vmap {{ {outs} }}"] if secured else [])
    lines += _chain("ingress", "type filter hook forward priority 10; policy accept;",
                    [f"meta mark and {0xFFFFF000:#010x} vmap {{ {ins} }}"] if secured else [])
    for group in firewall.groups:
        lines += _group_chains(group, firewall)
    for s in secured:
        lines += port_chain(s, "egress", groups) + port_chain(s, "ingress", groups)
    return "\n".join([*lines, "}"])


# ------------------------------------------------------------- revocation

Allowance = tuple[str, tuple[str, ...]]
"""One thing a port's rules let through: the rule's match and the addresses of the
remote group or address group it names (empty when it names none)."""


def allowances(ports: Iterable[Port], firewall: Firewall | None
               ) -> dict[tuple[str, str], frozenset[Allowance]]:
    """(port id, "ingress"/"egress") -> what the stateful groups of the filtered
    ``ports`` allow in that direction."""
    fw = firewall or Firewall()
    groups = {g.id: g for g in fw.groups}
    out: dict[tuple[str, str], frozenset[Allowance]] = {}
    for port in ports:
        if not filtered(port):
            continue
        mine = [groups[g] for g in port.security_group_ids if g in groups]
        if mine and not any(g.stateful for g in mine):
            continue                    # stateless: nothing is remembered to revoke
        for direction in ("ingress", "egress"):
            found: set[Allowance] = set()
            for rule in (r for g in mine for r in g.rules if r.direction == direction):
                match = rule_match(rule, fw)
                if match is None:
                    continue
                remote: tuple[str, ...] = ()
                if rule.remote_group_id:
                    remote = tuple(sorted(fw.members.get(rule.remote_group_id, ())))
                elif rule.remote_address_group_id:
                    remote = tuple(sorted(fw.address_groups.get(rule.remote_address_group_id,
                                                                ())))
                found.add((match, remote))
            out[port.id, direction] = frozenset(found)
    return out


def revoked(before: dict[tuple[str, str], frozenset[Allowance]],
            after: dict[tuple[str, str], frozenset[Allowance]]) -> list[tuple[str, str]]:
    """The (port, direction) pairs that lost something they allowed: their tracked
    connections must go, or established traffic would outlive its rule (Neutron
    deletes conntrack entries for the same reason). Ports no longer filtered, or
    gone, lose nothing here."""
    return sorted(key for key, allowed in before.items()
                  if key in after and allowed - after[key])


def conntrack_filters(port: Port, direction: str) -> list[list[str]]:
    """``conntrack -D`` arguments that delete the tracked connections of ``port`` in
    ``direction`` (ingress: those opened towards its addresses; egress: those it
    opened), in its network's zone."""
    side = "--dst" if direction == "ingress" else "--src"
    addresses = [ip.ip_address for ip in port.fixed_ips]
    addresses += [p.ip_address for p in port.allowed_address_pairs]
    out = []
    for address in dict.fromkeys(addresses):
        net = ipaddress.ip_network(address, strict=False)
        args = ["-w", str(zone(port.network_id)),
                "-f", "ipv6" if net.version == 6 else "ipv4", side, str(net.network_address)]
        if net.num_addresses > 1:
            args += ["--mask-dst" if direction == "ingress" else "--mask-src",
                     str(net.netmask)]
        out.append(args)
    return out


def render(owner: str, ports: Sequence[Secured], firewall: Firewall | None) -> str:
    """``nft -f`` input replacing the host's two tables."""
    secured = sorted((s for s in ports if filtered(s.port)), key=lambda s: s.mark)
    name = table(owner)
    networks = {s.port.network_id for s in ports}
    return "\n".join([
        f"table bridge {name} {{}}", f"delete table bridge {name}",
        f"table inet {name} {{}}", f"delete table inet {name}",
        bridge_table(owner, secured),
        inet_table(owner, secured, firewall or Firewall(), networks), ""])
