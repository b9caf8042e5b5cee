"""Devices of one host: reading them (``ip -j -d link``) and the few changes the
driver makes to them — bridges, VXLAN and VLAN devices, veth pairs, a device put
on a bridge — each one idempotent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nubo.network.agent.driver import DriverError
from nubo.network.agent.linuxbridge.names import Tag
from nubo.network.agent.linuxbridge.shell import Shell

VXLAN_PORT = 4789
FLOOD_MAC = "00:00:00:00:00:00"


@dataclass(frozen=True)
class Link:
    name: str
    kind: str            # bridge, vxlan, vlan, veth, tun, "" for a plain device
    master: str | None
    mtu: int
    up: bool
    mac: str
    tag: Tag | None
    # vxlan: vni and local address; vlan: vid; otherwise empty
    data: dict[str, Any]

    def tagged(self, owner: str, kind: str | None = None) -> bool:
        return self.tag is not None and self.tag.owner == owner and (
            kind is None or self.tag.kind == kind)


def _link(raw: dict[str, Any]) -> Link:
    info = raw.get("linkinfo") or {}
    return Link(name=raw["ifname"], kind=str(info.get("info_kind") or ""),
                master=raw.get("master"), mtu=int(raw.get("mtu") or 0),
                up="UP" in (raw.get("flags") or []), mac=str(raw.get("address") or ""),
                tag=Tag.parse(raw.get("ifalias")), data=dict(info.get("info_data") or {}))


class Links:
    def __init__(self, shell: Shell) -> None:
        self.sh = shell

    async def all(self, ns: str | None = None) -> dict[str, Link]:
        return {r["ifname"]: _link(r)
                for r in await self.sh.json("ip", "-j", "-d", "link", "show", ns=ns)}

    async def get(self, name: str, ns: str | None = None) -> Link | None:
        raw = await self.sh.run("ip", "-j", "-d", "link", "show", "dev", name, ns=ns,
                                check=False)
        if not raw.strip().startswith("["):
            return None
        found = json.loads(raw)
        return _link(found[0]) if found else None

    async def set_tag(self, name: str, tag: Tag, ns: str | None = None) -> None:
        await self.sh.ip("link", "set", "dev", name, "alias", tag.render(), ns=ns)

    async def delete(self, name: str, ns: str | None = None) -> None:
        if await self.get(name, ns) is not None:
            await self.sh.ip("link", "del", "dev", name, ns=ns, check=False)

    async def ensure_bridge(self, name: str, mtu: int) -> Link | None:
        """The bridge, made when absent (forwarding at once, no STP), up."""
        found = await self.get(name)
        if found is None:
            await self.sh.ip("link", "add", "name", name, "type", "bridge",
                             "forward_delay", "0", "stp_state", "0")
        elif found.kind != "bridge":
            raise DriverError(f"{name} exists and is not a bridge")
        # bridged traffic through the inet hooks (conntrack, the firewall), on this
        # bridge only: the host's global br_netfilter switches stay as they are
        await self.sh.ip("link", "set", "dev", name, "type", "bridge", "nf_call_iptables", "1",
                         "nf_call_ip6tables", "1")
        await self.sh.ip("link", "set", "dev", name, "mtu", str(mtu), "up")
        return found

    async def ensure_vxlan(self, name: str, vni: int, local_ip: str, mtu: int) -> None:
        """The VXLAN device of ``vni`` from ``local_ip`` (made again when its VNI or
        local address differ); flooding to peers is ``set_flooding``'s."""
        found = await self.get(name)
        if found is not None and (found.kind != "vxlan" or found.data.get("id") != vni
                                  or found.data.get("local") != local_ip):
            await self.delete(name)
            found = None
        if found is None:
            await self.sh.ip("link", "add", name, "type", "vxlan", "id", str(vni),
                             "local", local_ip, "dstport", str(VXLAN_PORT))
        await self.sh.ip("link", "set", "dev", name, "mtu", str(mtu))

    async def set_flooding(self, name: str, peers: tuple[str, ...]) -> None:
        """Broadcast and unknown unicast of the VXLAN device go to each peer (head-end
        replication: one all-zero forwarding entry per peer), and only to them."""
        entries = await self.sh.json("bridge", "-j", "fdb", "show", "dev", name)
        have = {e.get("dst") for e in entries if e.get("mac") == FLOOD_MAC and e.get("dst")}
        for peer in sorted(set(peers) - have):
            await self.sh.run("bridge", "fdb", "append", FLOOD_MAC, "dev", name, "dst", peer)
        for peer in sorted(have - set(peers)):
            await self.sh.run("bridge", "fdb", "del", FLOOD_MAC, "dev", name, "dst", str(peer),
                              check=False)

    async def ensure_vlan(self, name: str, interface: str, vid: int, mtu: int) -> None:
        found = await self.get(name)
        if found is not None and (found.kind != "vlan" or found.data.get("id") != vid):
            await self.delete(name)
            found = None
        if found is None:
            try:
                await self.sh.ip("link", "add", "link", interface, "name", name, "type",
                                 "vlan", "id", str(vid))
            except DriverError as e:
                if "Unknown device type" in e.message:
                    raise DriverError(f"cannot make VLAN device {name}: this kernel has no "
                                      "802.1Q VLAN support (CONFIG_VLAN_8021Q)") from e
                raise
        await self.sh.ip("link", "set", "dev", name, "mtu", str(mtu))

    async def attach(self, name: str, bridge: str, mtu: int, *, up: bool = True) -> None:
        """``name`` on ``bridge`` with ``mtu``, up or down."""
        await self.sh.ip("link", "set", "dev", name, "master", bridge, "mtu", str(mtu),
                         "up" if up else "down")

    async def set_addresses(self, device: str, cidrs: set[str], ns: str | None) -> None:
        """Exactly ``cidrs`` (``address/prefix``) on ``device``, link-local ones aside."""
        found = await self.sh.json("ip", "-j", "addr", "show", "dev", device, ns=ns)
        have = {f"{a['local']}/{a['prefixlen']}" for d in found for a in d.get("addr_info", [])
                if a.get("scope") != "link"}
        for cidr in sorted(have - cidrs):
            await self.sh.ip("addr", "del", cidr, "dev", device, ns=ns)
        for cidr in sorted(cidrs - have):
            await self.sh.ip("addr", "add", cidr, "dev", device, ns=ns)

    async def ensure_veth(self, outer: str, inner: str, inner_ns: str) -> None:
        """A veth pair, ``outer`` here and ``inner`` in namespace ``inner_ns``: made
        (anew) unless both ends are where they belong."""
        if await self.get(outer) is not None and await self.get(inner, inner_ns) is not None:
            return
        await self.delete(outer)
        await self.delete(inner, inner_ns)
        await self.sh.ip("link", "add", outer, "type", "veth", "peer", "name", inner,
                         "netns", inner_ns)
