"""A server's network info: what compute keeps of its ports (Nova's VIF model, as
plain JSON in ``instance_info_caches``), built from the networking service's views
of the ports, their networks and floating IPs, and what the API shows of it.

One entry (a VIF) per port, in the order the ports were attached::

    {"id": port id, "address": MAC, "network": {"id", "label", "mtu"},
     "fixed_ips": [{"address", "version", "subnet_id", "floating_ips": [address…]}],
     "active": the port is ACTIVE, "preserve_on_delete": the user gave the port
     (unbound, not deleted, when the server goes), "tag": device tag or None,
     "vnic_type", "devname": "tap" + the port id's first 11 characters}

Pure functions: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Vif = dict[str, Any]


def ip_version(address: str) -> int:
    return ipaddress.ip_address(address).version


def vif_of(port: Mapping[str, Any], network: Mapping[str, Any] | None,
           floating_ips: Iterable[Mapping[str, Any]] = (), *,
           preserve_on_delete: bool = False, tag: str | None = None) -> Vif:
    """The VIF of one port (a Neutron port view), its network and the floating IPs
    associated with it."""
    by_fixed: dict[str, list[str]] = {}
    for fip in floating_ips:
        if fip.get("port_id") == port["id"] and fip.get("fixed_ip_address"):
            by_fixed.setdefault(str(fip["fixed_ip_address"]), []).append(
                str(fip["floating_ip_address"]))
    fixed = [{"address": ip["ip_address"], "version": ip_version(ip["ip_address"]),
              "subnet_id": ip.get("subnet_id"),
              "floating_ips": sorted(by_fixed.get(ip["ip_address"], []))}
             for ip in port.get("fixed_ips") or []]
    net = network or {}
    return {
        "id": port["id"], "address": port.get("mac_address"),
        "network": {"id": port.get("network_id"), "label": net.get("name", ""),
                    "mtu": net.get("mtu")},
        "fixed_ips": fixed, "active": port.get("status") == "ACTIVE",
        "preserve_on_delete": preserve_on_delete, "tag": tag,
        "vnic_type": port.get("binding:vnic_type", "normal"),
        "devname": f"tap{port['id'][:11]}",
    }


def assemble(ports: Sequence[Mapping[str, Any]], networks: Mapping[str, Mapping[str, Any]],
             floating_ips: Sequence[Mapping[str, Any]],
             records: Sequence[Mapping[str, Any]]) -> list[Vif]:
    """The VIFs of a server's ``ports`` (Neutron views), in the order of compute's
    ``records`` of them (``port_id``, ``preserve_on_delete``, ``tag``; ports it has
    no record of come last)."""
    order = {r["port_id"]: i for i, r in enumerate(records)}
    known = {r["port_id"]: r for r in records}
    out = []
    for port in sorted(ports, key=lambda p: (order.get(p["id"], len(order)),
                                             str(p.get("created_at") or ""))):
        record = known.get(port["id"], {})
        out.append(vif_of(port, networks.get(port.get("network_id") or ""), floating_ips,
                          preserve_on_delete=bool(record.get("preserve_on_delete")),
                          tag=record.get("tag")))
    return out


def port_ids(info: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(v["id"]) for v in info]


def inactive(info: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ports not yet reported up: the ``network-vif-plugged`` events to wait for."""
    return [str(v["id"]) for v in info if v.get("active") is False]


def addresses(info: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The server view's ``addresses``: per network label, the fixed addresses then
    the floating ones of each port, with their type and MAC."""
    out: dict[str, list[dict[str, Any]]] = {}
    for vif in info:
        label = str((vif.get("network") or {}).get("label") or "")
        mac = vif.get("address")
        fixed = vif.get("fixed_ips") or []
        entries = out.setdefault(label, [])
        for ip in fixed:
            entries.append(_address(ip["address"], "fixed", mac))
        for ip in fixed:
            for floating in ip.get("floating_ips") or []:
                entries.append(_address(floating, "floating", mac))
    return out


def _address(addr: str, kind: str, mac: Any) -> dict[str, Any]:
    return {"version": ip_version(addr), "addr": addr, "OS-EXT-IPS:type": kind,
            "OS-EXT-IPS-MAC:mac_addr": mac}


def ips(info: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``GET /servers/{id}/ips``: per network label, version and address only."""
    return {label: [{"version": a["version"], "addr": a["addr"]} for a in found]
            for label, found in addresses(info).items()}
