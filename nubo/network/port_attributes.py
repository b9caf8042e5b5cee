"""A port's request attributes checked and normalised as Neutron checks them:
``fixed_ips``, ``allowed_address_pairs``, ``extra_dhcp_opts``, ``dns_name`` and the
``binding:*`` attributes; and what ports show of them (``dns_assignment``).

Pure functions; messages are neutron-lib's validators' ("Invalid input for
fixed_ips. Reason: ...") or its exception classes' (``DuplicateAddressPairInRequest``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nubo.core.errors import BadRequest
from nubo.network.errors import bad_request, invalid_attribute
from nubo.network.ipam import IPAddress, Unparsable, to_address, to_network
from nubo.network.macs import mac_value, not_multicast_error, parse_mac

MAX_ADDRESS_PAIRS = 10
VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical",
              "virtio-forwarder", "smart-nic", "vdpa", "accelerator-direct",
              "accelerator-direct-physical", "remote-managed")
BLANK_DHCP_OPTS = ("router", "classless-static-route")
DHCP_OPT_NAME_MAX = 64
DHCP_OPT_VALUE_MAX = 255
FQDN_MAX = 255
_LABEL = re.compile(r"[a-z0-9-]{1,63}")
_V4_MULTICAST = to_network("224.0.0.0/4", "")
_V6_MULTICAST = to_network("ff00::/8", "")


# -- fixed IPs --------------------------------------------------------------------------

@dataclass(frozen=True)
class FixedIp:
    """One entry of a requested ``fixed_ips``: a subnet, an address, or both."""

    subnet_id: str | None = None
    address: IPAddress | None = None


def parse_fixed_ips(data: object) -> list[FixedIp]:
    """``fixed_ips`` of a create or update (neutron-lib's ``validate_fixed_ips``)."""
    if not isinstance(data, list):
        raise invalid_attribute("fixed_ips", f"Invalid data format for fixed IP: '{data}'")
    out: list[FixedIp] = []
    seen: list[object] = []
    for item in data:
        if not isinstance(item, dict):
            raise invalid_attribute("fixed_ips", f"Invalid data format for fixed IP: '{item}'")
        unknown = sorted(set(item) - {"subnet_id", "ip_address"})
        if unknown:
            raise invalid_attribute("fixed_ips", f"Unrecognized attribute(s) "
                                    f"'{', '.join(unknown)}'")
        address = None
        if "ip_address" in item:
            raw = item["ip_address"]
            if raw in seen:
                raise invalid_attribute("fixed_ips", f"Duplicate IP address '{raw}'")
            try:
                address = to_address(raw)
            except Unparsable as err:
                raise invalid_attribute("fixed_ips", err.reason) from None
            seen.append(raw)
        subnet_id = item.get("subnet_id")
        if "subnet_id" in item and not _is_uuid(subnet_id):
            raise invalid_attribute("fixed_ips", f"'{subnet_id}' is not a valid UUID")
        if address is None and subnet_id is None:
            raise bad_request("InvalidInput", "Invalid input for operation: IP allocation "
                              "requires subnet_id or ip_address.")
        out.append(FixedIp(subnet_id, address))
    return out


def _is_uuid(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(
        r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}", value) is not None


# -- allowed address pairs ----------------------------------------------------------------

def parse_address_pairs(data: object, *, limit: int = MAX_ADDRESS_PAIRS
                        ) -> list[dict[str, str]]:
    """``allowed_address_pairs``: ``[{"ip_address": ip-or-cidr, "mac_address"?: mac}]``,
    MACs normalised; a pair without a MAC takes the port's (:func:`with_port_mac`)."""
    if not isinstance(data, list):
        raise BadRequest("Allowed address pairs must be a list.", type="HTTPBadRequest")
    if len(data) > limit:
        raise bad_request("AllowedAddressPairExhausted", "The number of allowed address "
                          f"pair exceeds the maximum {limit}.")
    out: list[dict[str, str]] = []
    for pair in data:
        if not isinstance(pair, dict):
            raise invalid_attribute("allowed_address_pairs", f"'{pair}' is not a dictionary")
        entry = _address_pair(pair)
        if entry in out:
            raise bad_request("DuplicateAddressPairInRequest", "Request contains duplicate "
                              f"address pair: mac_address {entry.get('mac_address')} "
                              f"ip_address {entry['ip_address']}.")
        out.append(entry)
    return out


def _address_pair(pair: Mapping[str, Any]) -> dict[str, str]:
    entry: dict[str, str] = {}
    if "mac_address" in pair:
        mac = parse_mac(pair["mac_address"], "allowed_address_pairs")
        if int(mac[:2], 16) & 1:
            raise not_multicast_error(mac)
        entry["mac_address"] = mac
    if "ip_address" not in pair:
        raise bad_request("AllowedAddressPairsMissingIP",
                          "AllowedAddressPair must contain ip_address")
    unknown = sorted(set(pair) - {"mac_address", "ip_address"})
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'",
                         type="HTTPBadRequest")
    entry["ip_address"] = _pair_address(pair["ip_address"])
    return dict(sorted(entry.items()))


def _pair_address(raw: object) -> str:
    """An address pair's IP or CIDR, canonical; never multicast (0.0.0.0/0 is fine)."""
    try:
        if isinstance(raw, str) and "/" in raw:
            network = to_network(raw, f"'{raw}' is not a valid IP subnet")
            address = to_address(raw.partition("/")[0])
            mcast = _V4_MULTICAST if network.version == 4 else _V6_MULTICAST
            if str(network) != "0.0.0.0/0" and network.overlaps(mcast):
                raise BadRequest(f"Subnet {raw} overlaps with multicast range {mcast}, "
                                 "which is not supported.", type="HTTPBadRequest")
            return f"{address}/{network.prefixlen}"
        address = to_address(raw)
    except Unparsable as err:
        raise BadRequest(err.reason, type="HTTPBadRequest") from None
    if address.is_multicast:
        raise BadRequest(f"IP {raw} is a multicast address, which is not supported.",
                         type="HTTPBadRequest")
    return str(address)


def with_port_mac(pairs: Sequence[Mapping[str, str]], mac: str) -> list[dict[str, str]]:
    """The pairs as stored and shown: every pair with a MAC, the port's by default."""
    return [{"ip_address": p["ip_address"], "mac_address": p.get("mac_address") or mac}
            for p in pairs]


# -- extra DHCP options --------------------------------------------------------------------

def parse_dhcp_opts(data: object) -> list[dict[str, Any]]:
    """``extra_dhcp_opts``: ``[{"opt_name", "opt_value", "ip_version"}]``; a null value
    (an update's way to remove an option) is kept as None."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise invalid_attribute("extra_dhcp_opts", f"'{data}' is not a list")
    out: list[dict[str, Any]] = []
    for opt in data:
        if not isinstance(opt, dict):
            raise invalid_attribute("extra_dhcp_opts", f"'{opt}' is not a dictionary")
        unknown = sorted(set(opt) - {"opt_name", "opt_value", "ip_version"})
        if unknown or "opt_name" not in opt or "opt_value" not in opt:
            raise invalid_attribute("extra_dhcp_opts", f"Validation of dictionary's keys "
                                    f"failed. Expected keys: {{'opt_name', 'opt_value'}} "
                                    f"Provided keys: {set(opt)}")
        out.append(_dhcp_opt(opt))
    return out


def _dhcp_opt(opt: Mapping[str, Any]) -> dict[str, Any]:
    name, value = opt["opt_name"], opt["opt_value"]
    if not isinstance(name, str) or not name.strip() or "\n" in name \
            or len(name) > DHCP_OPT_NAME_MAX:
        raise invalid_attribute("extra_dhcp_opts", f"'{name}' is not a valid option name")
    blank_ok = name in BLANK_DHCP_OPTS
    if value is not None and (not isinstance(value, str) or len(value) > DHCP_OPT_VALUE_MAX
                              or "\n" in value or (not blank_ok and not value.strip())):
        raise invalid_attribute("extra_dhcp_opts", f"'{value}' is not a valid option value")
    version = opt.get("ip_version", 4)
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if version not in (4, 6) or isinstance(version, bool):
        raise invalid_attribute("extra_dhcp_opts", f"{version} is not in [4, 6]")
    return {"opt_name": name, "opt_value": value, "ip_version": version}


def merge_dhcp_opts(current: Sequence[Mapping[str, Any]],
                    changes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An update's options applied to the port's: same (name, version) replaced, a
    null value removes the option (except the options that may be blank)."""
    out = [dict(o) for o in current]
    for change in changes:
        key = (change["opt_name"], change["ip_version"])
        out = [o for o in out if (o["opt_name"], o["ip_version"]) != key]
        if change["opt_value"] is not None or change["opt_name"] in BLANK_DHCP_OPTS:
            out.append(dict(change))
    return out


def created_dhcp_opts(opts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The options a create stores: those with a value (or allowed blank)."""
    return merge_dhcp_opts([], opts)


# -- DNS --------------------------------------------------------------------------------

def parse_dns_name(data: object, dns_domain: str) -> str:
    """``dns_name`` (lowercased) as neutron-lib's ``validate_dns_name`` checks it."""
    if data is None or data == "":
        return ""
    if not isinstance(data, str):
        raise invalid_attribute("dns_name", f"'{data}' is not a valid string")
    name = data.lower()
    reason = _dns_format_reason(name)
    if reason is None and not name.endswith("."):
        if len(name) + len(f".{fqdn_domain(dns_domain)}") > FQDN_MAX:
            reason = "the FQDN it forms with the dns_domain exceeds 255 characters"
    if reason is not None:
        raise invalid_attribute("dns_name", f"'{data}' not a valid PQDN or FQDN. "
                                f"Reason: {reason}")
    return name


def _dns_format_reason(name: str) -> str | None:
    trimmed = name[:-1] if name.endswith(".") else name
    if len(trimmed) > FQDN_MAX:
        return f"'{trimmed}' exceeds the {FQDN_MAX} character FQDN limit"
    labels = trimmed.split(".")
    for label in labels:
        if not label:
            return "Encountered an empty component"
        if label.startswith("-") or label.endswith("-"):
            return f"Name '{label}' must not start or end with a hyphen"
        if not _LABEL.fullmatch(label):
            return (f"Name '{label}' must be 1-63 characters long, each of which can "
                    "only be alphanumeric or a hyphen")
    if len(labels) > 1 and labels[-1].isdigit():
        return f"TLD '{labels[-1]}' must not be all numeric"
    return None


def fqdn_domain(dns_domain: str) -> str:
    """The configured domain with its trailing dot (``openstacklocal.``)."""
    return dns_domain if not dns_domain or dns_domain.endswith(".") else f"{dns_domain}."


def dns_assignment(dns_name: str, addresses: Sequence[str], dns_domain: str
                   ) -> list[dict[str, str]]:
    """Per fixed IP, the host name and FQDN DHCP gives it: the port's ``dns_name``,
    else ``host-<address with dashes>``."""
    domain = fqdn_domain(dns_domain)
    out = []
    for address in addresses:
        if dns_name:
            hostname = dns_name
            fqdn = dns_name if dns_name.endswith(".") else f"{dns_name}.{domain}"
        else:
            hostname = "host-" + address.replace(".", "-").replace(":", "-")
            fqdn = f"{hostname}.{domain}" if domain else hostname
        out.append({"ip_address": address, "hostname": hostname, "fqdn": fqdn})
    return out


# -- bindings ---------------------------------------------------------------------------

def parse_vnic_type(data: object) -> str:
    if data not in VNIC_TYPES:
        raise invalid_attribute("binding:vnic_type", f"{data} is not in {list(VNIC_TYPES)}")
    return str(data)


def parse_profile(data: object) -> dict[str, Any]:
    """``binding:profile``: a dictionary (None is empty)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise invalid_attribute("binding:profile", f"'{data}' is not a dictionary")
    return dict(data)


def parse_host(data: object) -> str:
    if data is None:
        return ""
    if not isinstance(data, str) or len(data) > 255:
        raise invalid_attribute("binding:host_id", f"'{data}' is not a valid string")
    return data


def parse_optional_mac(data: object) -> str | None:
    """A requested ``mac_address``; None (update only) asks for a new random one."""
    if data is None:
        return None
    if mac_value(data) is None:
        raise invalid_attribute("mac_address", f"'{data}' is not a valid MAC address")
    return parse_mac(data)


def binding(host: str, vnic_type: str) -> tuple[str, dict[str, Any]]:
    """``binding:vif_type`` and ``binding:vif_details`` of a port bound to ``host``:
    what the Linux bridge mechanism driver answers (it plugs ``normal`` ports only)."""
    if not host:
        return "unbound", {}
    if vnic_type != "normal":
        return "binding_failed", {}
    return "bridge", {"port_filter": True, "connectivity": "l2"}
