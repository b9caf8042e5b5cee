"""Provider networks and segments as Neutron's ML2 type drivers see them.

Pure logic: the operator's ranges parsed once (``ProviderConfig``), a request's
``provider:*`` attributes or ``segments`` read into ``Segment``s and checked as the
flat, vlan, vxlan and local type drivers check them (other types, geneve and gre
among them, are not supported), the MTU a network gets from its segments, and the
choice of a free segmentation id. The database holds a unique constraint on what is
allocated; a caller that loses a race picks again.

Departures from Neutron: a VXLAN ``segmentation_id`` outside 1-16777215 is refused
(Neutron lets the type driver store any integer), and the ``%(key)s prohibited``
message of tunnel types reads as a sentence (Neutron renders it as a tuple).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol

from nubo.core.errors import BadRequest, ConfigError

MIN_VLAN, MAX_VLAN = 1, 4094
MIN_VNI, MAX_VNI = 1, 2**24 - 1
VXLAN_ENCAP_OVERHEAD = 30
IP_HEADER_LENGTH: Final[Mapping[int, int]] = {4: 20, 6: 40}
NETWORK_TYPE, PHYSICAL_NETWORK, SEGMENTATION_ID = (
    "provider:network_type", "provider:physical_network", "provider:segmentation_id")
PROVIDER_ATTRIBUTES: Final = (NETWORK_TYPE, PHYSICAL_NETWORK, SEGMENTATION_ID)
NETWORK_TYPE_MAX_LEN, PHYSICAL_NETWORK_MAX_LEN = 32, 64

IdRange = tuple[int, int]


class NetworkType(StrEnum):
    FLAT = "flat"
    VLAN = "vlan"
    VXLAN = "vxlan"
    LOCAL = "local"


class NetworkOptions(Protocol):
    """The ``[network]`` settings this module reads (``NetworkSettings`` has them)."""

    @property
    def global_physnet_mtu(self) -> int: ...
    @property
    def physical_network_mtus(self) -> Mapping[str, int]: ...
    @property
    def tenant_network_types(self) -> Sequence[str]: ...
    @property
    def vxlan_vni_ranges(self) -> Sequence[str]: ...
    @property
    def network_vlan_ranges(self) -> Sequence[str]: ...
    @property
    def flat_networks(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class ProviderConfig:
    """The operator's ranges and MTUs, parsed and checked."""

    vni_ranges: tuple[IdRange, ...] = ()
    # physical network -> VLAN ranges for project networks (a bare name: all of 1-4094)
    vlan_ranges: Mapping[str, tuple[IdRange, ...]] = field(default_factory=dict)
    # the physical networks flat networks may use; None: any name
    flat_networks: frozenset[str] | None = None
    tenant_network_types: tuple[str, ...] = (NetworkType.VXLAN,)
    global_physnet_mtu: int = 1500
    physical_network_mtus: Mapping[str, int] = field(default_factory=dict)
    path_mtu: int = 0
    overlay_ip_version: int = 4

    @classmethod
    def from_settings(cls, options: NetworkOptions) -> ProviderConfig:
        for kind in options.tenant_network_types:
            if kind not in set(NetworkType):
                raise ConfigError(f"No type driver for project network_type: {kind}")
        return cls(
            vni_ranges=parse_vni_ranges(options.vxlan_vni_ranges),
            vlan_ranges=parse_vlan_ranges(options.network_vlan_ranges),
            flat_networks=parse_flat_networks(options.flat_networks),
            tenant_network_types=tuple(options.tenant_network_types),
            global_physnet_mtu=options.global_physnet_mtu,
            physical_network_mtus={k: int(v) for k, v in options.physical_network_mtus.items()})


@dataclass(frozen=True)
class Segment:
    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None

    @property
    def is_partial(self) -> bool:
        """Whether the segmentation id is still to be chosen."""
        return (self.network_type in (NetworkType.VLAN, NetworkType.VXLAN)
                and self.segmentation_id is None)

    def view(self) -> dict[str, Any]:
        return {NETWORK_TYPE: self.network_type, PHYSICAL_NETWORK: self.physical_network,
                SEGMENTATION_ID: self.segmentation_id}


@dataclass(frozen=True)
class Allocated:
    """What other networks hold: the ids a new segment may not take."""

    vxlan: Set[int] = frozenset()
    vlan: Set[tuple[str, int]] = frozenset()
    flat: Set[str] = frozenset()


# -- configuration ------------------------------------------------------------------

def parse_vni_ranges(entries: Iterable[str]) -> tuple[IdRange, ...]:
    """``["1:1000", "2000:2999"]``, as ``[ml2_type_vxlan] vni_ranges`` reads."""
    ranges = []
    for raw in entries:
        entry = raw.strip()
        try:
            low, high = (int(part.strip()) for part in entry.split(":"))
        except ValueError as err:
            raise _tunnel_range_error(entry, str(err)) from None
        for ident in (low, high):
            if not MIN_VNI <= ident <= MAX_VNI:
                raise _tunnel_range_error(f"{low}:{high}",
                                          f"{ident} is not a valid vxlan identifier")
        if high < low:
            raise _tunnel_range_error(f"{low}:{high}",
                                      "End of tunnel range is less than start of tunnel range")
        ranges.append((low, high))
    return tuple(ranges)


def _tunnel_range_error(tunnel_range: str, error: str) -> ConfigError:
    return ConfigError(f"Invalid network tunnel range: '{tunnel_range}' - {error}.")


def parse_vlan_ranges(entries: Iterable[str]) -> dict[str, tuple[IdRange, ...]]:
    """``["physnet1:100:200", "physnet2"]``: a bare name gives all of 1-4094."""
    networks: dict[str, list[IdRange]] = {}
    for raw in entries:
        name, vlan_range = parse_vlan_range(raw)
        if vlan_range is None:
            networks[name] = [(MIN_VLAN, MAX_VLAN)]
        elif networks.get(name) != [(MIN_VLAN, MAX_VLAN)]:
            networks.setdefault(name, []).append(vlan_range)
    return {name: tuple(ranges) for name, ranges in networks.items()}


def parse_vlan_range(raw: str) -> tuple[str, IdRange | None]:
    entry = raw.strip()
    if ":" not in entry:
        return entry, None
    if entry.count(":") != 2:
        raise _vlan_range_error(entry, "Need exactly two values for VLAN range")
    name, low_text, high_text = entry.split(":")
    if not name:
        raise ConfigError("Empty physical network name.")
    bounds = []
    for text in (low_text, high_text):
        try:
            bounds.append(int(text))
        except ValueError:
            raise _vlan_range_error(entry, f"{text} is not a valid VLAN tag") from None
    low, high = bounds
    for tag in (low, high):
        if not MIN_VLAN <= tag <= MAX_VLAN:
            raise _vlan_range_error(f"{low}:{high}", f"{tag} is not a valid VLAN tag")
    if high < low:
        raise _vlan_range_error(f"{low}:{high}",
                                "End of VLAN range is less than start of VLAN range")
    return name, (low, high)


def _vlan_range_error(vlan_range: str, error: str) -> ConfigError:
    return ConfigError(f"Invalid network VLAN range: '{vlan_range}' - '{error}'.")


def parse_flat_networks(entries: Iterable[str]) -> frozenset[str] | None:
    """``["*"]``: any name (None); ``[]``: flat networks disabled."""
    names = frozenset(name.strip() for name in entries if name.strip())
    return None if "*" in names else names


# -- a request's segments -----------------------------------------------------------

def requested_segments(body: Mapping[str, Any]) -> list[Segment] | None:
    """The segments a network create asks for (``provider:*`` or ``segments``), or
    None when it names none and the project network types decide."""
    has_provider = any(attr in body for attr in PROVIDER_ATTRIBUTES)
    if has_provider:
        if body.get("segments") is not None:
            raise invalid_input("Segments and provider values cannot both be set",
                                "SegmentsSetInConjunctionWithProviders")
        return [provider_segment(body)]
    if body.get("segments") is None:
        return None
    segments = [_listed_segment(item) for item in _segment_list(body["segments"])]
    full = [s for s in segments if not s.is_partial]
    if len(set(full)) != len(full):
        raise invalid_input("Duplicate segment entry in request",
                            "SegmentsContainDuplicateEntry")
    return segments


def provider_segment(body: Mapping[str, Any]) -> Segment:
    """The segment of ``provider:*`` attributes, each checked as Neutron's API does."""
    kind = _string(body, NETWORK_TYPE, NETWORK_TYPE_MAX_LEN)
    physnet = _string(body, PHYSICAL_NETWORK, PHYSICAL_NETWORK_MAX_LEN)
    seg_id = _integer(body[SEGMENTATION_ID]) if SEGMENTATION_ID in body else None
    if kind is None:
        raise invalid_input("network_type required")
    return Segment(kind, physnet, seg_id)


def _segment_list(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRequest(f"Invalid input for segments. Reason: '{value}' is not a list of "
                         "segments.", type="HTTPBadRequest")
    return value


def _listed_segment(item: Mapping[str, Any]) -> Segment:
    unknown = sorted(set(item) - set(PROVIDER_ATTRIBUTES))
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'",
                         type="HTTPBadRequest")
    kind, physnet, seg_id = (item.get(attr) for attr in PROVIDER_ATTRIBUTES)
    if kind is None:
        raise invalid_input("network_type required")
    if not isinstance(kind, str):
        raise invalid_input(f"network_type value '{kind}' not supported")
    if physnet is not None and not isinstance(physnet, str):
        raise BadRequest(f"Invalid input for {PHYSICAL_NETWORK}. Reason: '{physnet}' is "
                         "not a valid string.", type="HTTPBadRequest")
    return Segment(kind, physnet, _integer(seg_id) if seg_id else None)


def _string(body: Mapping[str, Any], attr: str, max_len: int) -> str | None:
    if attr not in body:
        return None
    value = body[attr]
    if not isinstance(value, str):
        reason = f"'{value}' is not a valid string"
    elif len(value) > max_len:
        reason = f"'{value}' exceeds maximum length of {max_len}"
    else:
        return value
    raise BadRequest(f"Invalid input for {attr}. Reason: {reason}.", type="HTTPBadRequest")


def _integer(value: Any) -> int:
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return int(value)
        except ValueError:
            pass
    raise invalid_input(f"'{value}' is not an integer")


def invalid_input(reason: str, kind: str = "InvalidInput") -> BadRequest:
    return BadRequest(f"Invalid input for operation: {reason}.", type=kind)


# -- the type drivers' checks -------------------------------------------------------

def validate_segment(segment: Segment, config: ProviderConfig) -> None:
    """What the segment's type driver refuses, with its message."""
    check = _CHECKS.get(segment.network_type)
    if check is None:
        raise invalid_input(f"network_type value '{segment.network_type}' not supported")
    check(segment, config)


def _check_flat(segment: Segment, config: ProviderConfig) -> None:
    physnet = segment.physical_network
    if not physnet:
        raise invalid_input("physical_network required for flat provider network")
    if config.flat_networks is not None and not config.flat_networks:
        raise invalid_input("Flat provider networks are disabled")
    if config.flat_networks and physnet not in config.flat_networks:
        raise invalid_input(f"physical_network '{physnet}' unknown for flat provider network")
    if segment.segmentation_id:
        raise invalid_input("segmentation_id prohibited for flat provider network")


def _check_vlan(segment: Segment, config: ProviderConfig) -> None:
    physnet, seg_id = segment.physical_network, segment.segmentation_id
    if physnet:
        if physnet not in config.vlan_ranges:
            raise invalid_input(f"physical_network '{physnet}' unknown for VLAN provider "
                                "network")
        if seg_id is not None and not MIN_VLAN <= seg_id <= MAX_VLAN:
            raise invalid_input(f"segmentation_id out of range ({MIN_VLAN} through "
                                f"{MAX_VLAN})")
    elif seg_id is not None:
        raise invalid_input("segmentation_id requires physical_network for VLAN provider "
                            "network")


def _check_vxlan(segment: Segment, config: ProviderConfig) -> None:
    if segment.physical_network:
        raise invalid_input(f"provider:physical_network specified for {segment.network_type} "
                            "network")
    seg_id = segment.segmentation_id
    if seg_id is not None and not MIN_VNI <= seg_id <= MAX_VNI:
        raise invalid_input(f"segmentation_id out of range ({MIN_VNI} through {MAX_VNI})")


def _check_local(segment: Segment, config: ProviderConfig) -> None:
    for key, value in (("physical_network", segment.physical_network),
                       ("segmentation_id", segment.segmentation_id)):
        if value:
            raise invalid_input(f"{key} prohibited for local provider network")


_CHECKS: Mapping[str, Callable[[Segment, ProviderConfig], None]] = {
    NetworkType.FLAT: _check_flat, NetworkType.VLAN: _check_vlan,
    NetworkType.VXLAN: _check_vxlan, NetworkType.LOCAL: _check_local}


# -- MTU ------------------------------------------------------------------------------

def segment_mtu(segment: Segment, config: ProviderConfig) -> int | None:
    """The largest MTU a segment carries; None where it has no meaning (local)."""
    if segment.network_type in (NetworkType.FLAT, NetworkType.VLAN):
        candidates = [config.global_physnet_mtu,
                      config.physical_network_mtus.get(segment.physical_network or "", 0)]
        return min((m for m in candidates if m > 0), default=None)
    if segment.network_type == NetworkType.VXLAN:
        base = min((m for m in (config.global_physnet_mtu, config.path_mtu) if m > 0),
                   default=None)
        if base is None:
            return None
        return base - IP_HEADER_LENGTH[config.overlay_ip_version] - VXLAN_ENCAP_OVERHEAD
    return None


def network_mtu(segments: Iterable[Segment], config: ProviderConfig,
                requested: int | None = None) -> int:
    """A network's MTU: the requested one if its segments carry it, else the largest
    they all carry (``global_physnet_mtu`` when none says)."""
    mtus = [mtu for segment in segments if (mtu := segment_mtu(segment, config))]
    largest = min(mtus) if mtus else config.global_physnet_mtu
    if requested and largest and largest < requested:
        raise invalid_input(f"Requested MTU is too big, maximum is {largest}")
    return requested or largest
