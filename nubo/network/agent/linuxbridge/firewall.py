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
overlapping addresses of different networks never share connections.

When rules stop allowing something (a rule removed, a group taken off a port, a
remote group's member gone), established connections must not outlive them. Each
direction of the host's rules has a generation (``Stamps``); the rule that lets a
connection through writes its direction's generation into the connection's ct mark
(the opener's egress in the high 16 bits, the acceptor's ingress in the low ones),
and established traffic passes on the fast path only while its mark holds the
current generations. A change that revokes something in a direction (``revoked``)
starts a new generation there, so each established connection meets the rules once
more: what they still allow is stamped again and flows on, the rest is dropped in
both directions. Packets from the side that opened the connection are matched as
they are; packets of the other side are matched on the connection's original tuple
(``ct original ...``, the ``-ct`` copies of the group chains), so a connection whose
accepting side talks first is judged the same. Nothing is deleted from the
connection table: deleting entries let the next packet of either side open the
connection again as new (the kernel picks up TCP midstream), and a guest's reply in
flight would re-open, as its own egress, the connection its ingress just lost.
"""

from __future__ import annotations

import ipaddress
import time
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


INGRESS_STAMP, EGRESS_STAMP = 0x0000FFFF, 0xFFFF0000     # the fields of the ct mark
STAMP_SHIFT = {"ingress": 0, "egress": 16}
LAST_GENERATION = 0xFFFF


@dataclass(frozen=True)
class Stamps:
    """The generations of the host's ingress and egress rules (1..65535) that
    connections carry in their ct mark."""

    ingress: int
    egress: int

    @classmethod
    def fresh(cls) -> Stamps:
        """From the clock: a restarted driver does not take up the generation an
        earlier run's revoked connections still carry."""
        first = int(time.time()) % LAST_GENERATION + 1
        return cls(first, first)

    def after(self, revoked: Iterable[tuple[str, str]]) -> Stamps:
        """A new generation in each direction something was revoked in."""
        lost = {direction for _, direction in revoked}
        return Stamps(*(_next(g) if d in lost else g
                        for d, g in (("ingress", self.ingress), ("egress", self.egress))))

    def mask(self, direction: str) -> int:
        return INGRESS_STAMP if direction == "ingress" else EGRESS_STAMP

    def value(self, direction: str) -> int:
        generation = self.ingress if direction == "ingress" else self.egress
        return generation << STAMP_SHIFT[direction]

    def holds(self, direction: str) -> str:
        """The match: the connection's mark holds this direction's generation."""
        return f"ct mark and {self.mask(direction):#010x} == {self.value(direction):#010x}"

    def stamp(self, direction: str) -> str:
        """The statement writing this direction's generation into the mark."""
        keep = 0xFFFFFFFF ^ self.mask(direction)
        return f"ct mark set ct mark and {keep:#010x} or {self.value(direction):#010x}"


def _next(generation: int) -> int:
    return generation % LAST_GENERATION + 1


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


def rule_match(rule: Rule, firewall: Firewall, original: bool = False) -> str | None:
    """A security-group rule as an nft match (None when it can match nothing:
    an empty remote group, or a protocol unknown to nft). ``original``: matched on
    the tracked connection's original tuple instead of the packet, for the packets
    of the side that did not open it; an ICMP type is not in that tuple, so such a
    rule matches nothing there."""
    v6 = rule.ethertype == "IPv6"
    parts = ["meta nfproto " + ("ipv6" if v6 else "ipv4")]
    family = ("ct original " if original else "") + ("ip6" if v6 else "ip")
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
            parts.append(f"{'ct original proto-dst' if original else 'th dport'} {ports}")
        elif proto in ICMP and rule.port_range_min is not None:
            if original:
                return None
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


def _group_chains(group: SecurityGroup, firewall: Firewall, stamps: Stamps) -> list[str]:
    """Per direction the group's rules on the packet, and on the connection's
    original tuple (``-ct``); each lets through with the direction's stamp."""
    lines: list[str] = []
    for direction in ("ingress", "egress"):
        rules = [r for r in group.rules if r.direction == direction]
        stamp = stamps.stamp(direction)
        for suffix, original in (("", False), ("-ct", True)):
            matches = [rule_match(r, firewall, original) for r in rules]
            lines += _chain(f"sg-{group.id}-{direction}{suffix}", None,
                            [f"{m} {stamp} accept" for m in matches if m is not None])
    return lines


def port_chain(s: Secured, direction: str, groups: dict[str, SecurityGroup],
               stamps: Stamps) -> list[str]:
    """The port's chain for what it receives (ingress) or sends (egress). When its
    groups are stateful, established traffic passes while its stamps are current;
    the other side's packets of a connection otherwise go to the ``-r`` chain,
    which matches the opener's rules on the original tuple."""
    port = s.port
    mine = [groups[g] for g in port.security_group_ids if g in groups]
    stateful = not mine or any(g.stateful for g in mine)
    other = "egress" if direction == "ingress" else "ingress"
    prefix = "i" if direction == "ingress" else "o"
    # DHCP and neighbour discovery always pass, whichever side of a tracked
    # connection they are (a renewal's answer is its request's reply)
    if direction == "ingress":
        always = ["udp sport 67 udp dport 68 accept", "udp sport 547 udp dport 546 accept",
                  f"icmpv6 type {{ {', '.join(INGRESS_ND)} }} accept"]
    else:
        always = ["udp sport 68 udp dport 67 accept", "udp sport 546 udp dport 547 accept",
                  f"icmpv6 type {{ {', '.join(EGRESS_ND)} }} accept"]
    if not stateful:
        rules, replies = always, []
    else:
        rules = ["ct state invalid drop", "ct state related accept",
                 f"ct state established ct direction original {stamps.holds(direction)} accept",
                 f"ct state established ct direction reply {stamps.holds(other)} accept",
                 *always, f"ct direction reply goto {prefix}-{s.mark}-r"]
        replies = _chain(f"{prefix}-{s.mark}-r", None,
                         [*(f"jump sg-{g.id}-{other}-ct" for g in mine), "drop"])
    rules += [f"jump sg-{g.id}-{direction}" for g in mine]
    rules.append("drop")
    return _chain(f"{prefix}-{s.mark}", None, rules) + replies


def inet_table(owner: str, secured: Sequence[Secured], firewall: Firewall,
               networks: Iterable[str], stamps: Stamps) -> str:
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
        lines += _group_chains(group, firewall, stamps)
    for s in secured:
        lines += port_chain(s, "egress", groups, stamps) + \
            port_chain(s, "ingress", groups, stamps)
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
    """The (port, direction) pairs that lost something they allowed: the direction
    needs a new generation (``Stamps.after``), or established traffic would outlive
    its rule. Ports no longer filtered, or gone, lose nothing here."""
    return sorted(key for key, allowed in before.items()
                  if key in after and allowed - after[key])


def render(owner: str, ports: Sequence[Secured], firewall: Firewall | None,
           stamps: Stamps) -> str:
    """``nft -f`` input replacing the host's two tables."""
    secured = sorted((s for s in ports if filtered(s.port)), key=lambda s: s.mark)
    name = table(owner)
    networks = {s.port.network_id for s in ports}
    return "\n".join([
        f"table bridge {name} {{}}", f"delete table bridge {name}",
        f"table inet {name} {{}}", f"delete table inet {name}",
        bridge_table(owner, secured),
        inet_table(owner, secured, firewall or Firewall(), networks, stamps), ""])
