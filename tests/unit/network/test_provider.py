"""Provider networks: configured ranges, the type drivers' checks and messages, MTUs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from nubo.core.errors import BadRequest, ConfigError, NuboError
from nubo.network.provider import (
    ProviderConfig,
    Segment,
    network_mtu,
    parse_flat_networks,
    parse_vlan_ranges,
    parse_vni_ranges,
    requested_segments,
    segment_mtu,
    validate_segment,
)

CONFIG = ProviderConfig(
    vni_ranges=((1, 1000),),
    vlan_ranges={"physnet1": ((100, 200),), "physnet2": ((1, 4094),)},
    flat_networks=frozenset({"physnet1", "ext"}),
)


@dataclass
class Options:
    """The ``[network]`` settings as the operator's file gives them."""

    global_physnet_mtu: int = 1500
    physical_network_mtus: dict[str, int] = field(default_factory=dict)
    tenant_network_types: list[str] = field(default_factory=lambda: ["vxlan"])
    vxlan_vni_ranges: list[str] = field(default_factory=lambda: ["1:1000"])
    network_vlan_ranges: list[str] = field(default_factory=lambda: ["physnet1:100:200",
                                                                    "physnet2"])
    flat_networks: list[str] = field(default_factory=lambda: ["physnet1", "*"])


def refused(segment: Segment, config: ProviderConfig = CONFIG) -> tuple[str, str]:
    with pytest.raises(NuboError) as caught:
        validate_segment(segment, config)
    assert caught.value.status == 400
    return str(caught.value.details["type"]), caught.value.message


# -- configuration ---------------------------------------------------------------------

def test_config_from_settings() -> None:
    config = ProviderConfig.from_settings(Options(physical_network_mtus={"physnet1": 9000}))
    assert config.vni_ranges == ((1, 1000),)
    assert config.vlan_ranges == {"physnet1": ((100, 200),), "physnet2": ((1, 4094),)}
    assert config.flat_networks is None
    assert config.tenant_network_types == ("vxlan",)
    assert config.physical_network_mtus == {"physnet1": 9000}


def test_config_refuses_unknown_project_type() -> None:
    with pytest.raises(ConfigError) as caught:
        ProviderConfig.from_settings(Options(tenant_network_types=["geneve"]))
    assert caught.value.message == "No type driver for project network_type: geneve"


def test_vni_ranges() -> None:
    assert parse_vni_ranges(["1:1000", " 2000 : 2999 ", "16777215:16777215"]) == (
        (1, 1000), (2000, 2999), (16777215, 16777215))
    assert parse_vni_ranges([]) == ()


@pytest.mark.parametrize(("entry", "message"), [
    ("1:x", "Invalid network tunnel range: '1:x' - invalid literal for int() with base 10: "
            "'x'."),
    ("0:10", "Invalid network tunnel range: '0:10' - 0 is not a valid vxlan identifier."),
    ("1:16777216", "Invalid network tunnel range: '1:16777216' - 16777216 is not a valid "
                   "vxlan identifier."),
    ("10:1", "Invalid network tunnel range: '10:1' - End of tunnel range is less than "
             "start of tunnel range."),
])
def test_bad_vni_ranges(entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_vni_ranges([entry])
    assert caught.value.message == message


def test_vlan_ranges() -> None:
    assert parse_vlan_ranges(["physnet1:100:200", "physnet1:300:301", "physnet2"]) == {
        "physnet1": ((100, 200), (300, 301)), "physnet2": ((1, 4094),)}
    # a bare name means every VLAN, whatever ranges come before or after it
    assert parse_vlan_ranges(["p:5:6", "p", "p:7:8"]) == {"p": ((1, 4094),)}


@pytest.mark.parametrize(("entry", "message"), [
    ("physnet1:100", "Invalid network VLAN range: 'physnet1:100' - 'Need exactly two values "
                     "for VLAN range'."),
    (":1:2", "Empty physical network name."),
    ("physnet1:a:5", "Invalid network VLAN range: 'physnet1:a:5' - 'a is not a valid VLAN "
                     "tag'."),
    ("physnet1:0:5", "Invalid network VLAN range: '0:5' - '0 is not a valid VLAN tag'."),
    ("physnet1:1:4095", "Invalid network VLAN range: '1:4095' - '4095 is not a valid VLAN "
                        "tag'."),
    ("physnet1:20:10", "Invalid network VLAN range: '20:10' - 'End of VLAN range is less "
                       "than start of VLAN range'."),
])
def test_bad_vlan_ranges(entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_vlan_ranges([entry])
    assert caught.value.message == message


def test_flat_networks() -> None:
    assert parse_flat_networks(["physnet1", "*"]) is None
    assert parse_flat_networks(["physnet1", " ext "]) == frozenset({"physnet1", "ext"})
    assert parse_flat_networks([]) == frozenset()


# -- a request's segments --------------------------------------------------------------

def test_no_provider_attributes() -> None:
    assert requested_segments({"name": "net"}) is None


@pytest.mark.parametrize(("body", "segment"), [
    ({"provider:network_type": "vlan", "provider:physical_network": "physnet1",
      "provider:segmentation_id": "150"}, Segment("vlan", "physnet1", 150)),
    ({"provider:network_type": "vxlan"}, Segment("vxlan")),
    ({"provider:network_type": "flat", "provider:physical_network": "ext"},
     Segment("flat", "ext")),
])
def test_provider_attributes(body: dict[str, Any], segment: Segment) -> None:
    assert requested_segments(body) == [segment]


@pytest.mark.parametrize(("body", "kind", "message"), [
    ({"provider:physical_network": "physnet1"}, "InvalidInput",
     "Invalid input for operation: network_type required."),
    ({"provider:network_type": "vlan", "provider:segmentation_id": "abc"}, "InvalidInput",
     "Invalid input for operation: 'abc' is not an integer."),
    ({"provider:network_type": "vlan", "provider:segmentation_id": None}, "InvalidInput",
     "Invalid input for operation: 'None' is not an integer."),
    ({"provider:network_type": None}, "HTTPBadRequest",
     "Invalid input for provider:network_type. Reason: 'None' is not a valid string."),
    ({"provider:network_type": "flat", "provider:physical_network": "p" * 65},
     "HTTPBadRequest", f"Invalid input for provider:physical_network. Reason: '{'p' * 65}' "
     "exceeds maximum length of 64."),
    ({"provider:network_type": "vxlan", "segments": [{"provider:network_type": "vxlan"}]},
     "SegmentsSetInConjunctionWithProviders",
     "Invalid input for operation: Segments and provider values cannot both be set."),
])
def test_bad_provider_attributes(body: dict[str, Any], kind: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        requested_segments(body)
    assert (caught.value.details["type"], caught.value.message) == (kind, message)


def test_segments_list() -> None:
    body = {"segments": [
        {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
         "provider:segmentation_id": 101},
        {"provider:network_type": "vxlan", "provider:segmentation_id": 0},
        {"provider:network_type": "vxlan"},
    ]}
    assert requested_segments(body) == [Segment("vlan", "physnet1", 101), Segment("vxlan"),
                                        Segment("vxlan")]


@pytest.mark.parametrize(("segments", "message"), [
    ([{"provider:network_type": "vlan", "provider:physical_network": "physnet1",
       "provider:segmentation_id": 101}] * 2,
     "Invalid input for operation: Duplicate segment entry in request."),
    ([{"provider:network_type": "vxlan", "mtu": 1400}], "Unrecognized attribute(s) 'mtu'"),
    ([{"provider:physical_network": "physnet1"}],
     "Invalid input for operation: network_type required."),
    ("vxlan", "Invalid input for segments. Reason: 'vxlan' is not a list of segments."),
])
def test_bad_segments_list(segments: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        requested_segments({"segments": segments})
    assert caught.value.message == message


def test_partial_segments() -> None:
    assert Segment("vlan", "physnet1").is_partial
    assert Segment("vxlan").is_partial
    assert not Segment("vlan", "physnet1", 5).is_partial
    assert not Segment("flat", "physnet1").is_partial
    assert not Segment("local").is_partial
    assert Segment("vxlan", None, 5).view() == {
        "provider:network_type": "vxlan", "provider:physical_network": None,
        "provider:segmentation_id": 5}


# -- the type drivers' checks ----------------------------------------------------------

@pytest.mark.parametrize("segment", [
    Segment("flat", "physnet1"), Segment("flat", "ext"), Segment("flat", "ext", 0),
    Segment("vlan"), Segment("vlan", "physnet1"), Segment("vlan", "physnet1", 150),
    Segment("vlan", "physnet1", 4094), Segment("vlan", "physnet2", 1),
    Segment("vxlan"), Segment("vxlan", None, 5000), Segment("vxlan", None, 16777215),
    Segment("local"),
])
def test_valid_segments(segment: Segment) -> None:
    validate_segment(segment, CONFIG)


@pytest.mark.parametrize(("segment", "message"), [
    (Segment("geneve"), "network_type value 'geneve' not supported"),
    (Segment("gre", None, 5), "network_type value 'gre' not supported"),
    (Segment("FLAT", "physnet1"), "network_type value 'FLAT' not supported"),
    (Segment("flat"), "physical_network required for flat provider network"),
    (Segment("flat", "physnet9"), "physical_network 'physnet9' unknown for flat provider "
                                  "network"),
    (Segment("flat", "physnet1", 5), "segmentation_id prohibited for flat provider network"),
    (Segment("vlan", "physnet9", 5), "physical_network 'physnet9' unknown for VLAN provider "
                                     "network"),
    (Segment("vlan", "physnet1", 0), "segmentation_id out of range (1 through 4094)"),
    (Segment("vlan", "physnet1", 4095), "segmentation_id out of range (1 through 4094)"),
    (Segment("vlan", None, 5), "segmentation_id requires physical_network for VLAN provider "
                               "network"),
    (Segment("vxlan", "physnet1"), "provider:physical_network specified for vxlan network"),
    (Segment("vxlan", None, 0), "segmentation_id out of range (1 through 16777215)"),
    (Segment("vxlan", None, 2**24), "segmentation_id out of range (1 through 16777215)"),
    (Segment("local", "physnet1"), "physical_network prohibited for local provider network"),
    (Segment("local", None, 7), "segmentation_id prohibited for local provider network"),
])
def test_invalid_segments(segment: Segment, message: str) -> None:
    assert refused(segment) == ("InvalidInput", f"Invalid input for operation: {message}.")


def test_flat_networks_disabled_or_any() -> None:
    disabled = ProviderConfig(flat_networks=frozenset())
    assert refused(Segment("flat", "physnet1"), disabled)[1] == (
        "Invalid input for operation: Flat provider networks are disabled.")
    validate_segment(Segment("flat", "anything"), ProviderConfig(flat_networks=None))


# -- MTU -------------------------------------------------------------------------------

def test_mtu_of_each_type() -> None:
    config = ProviderConfig(global_physnet_mtu=1500, physical_network_mtus={"jumbo": 9000,
                                                                            "small": 1400})
    assert segment_mtu(Segment("vxlan", None, 5), config) == 1450
    assert segment_mtu(Segment("vlan", "physnet1", 5), config) == 1500
    assert segment_mtu(Segment("flat", "physnet1"), config) == 1500
    assert segment_mtu(Segment("flat", "small"), config) == 1400
    # a physical network's own MTU cannot exceed the global one
    assert segment_mtu(Segment("vlan", "jumbo", 5), config) == 1500
    assert segment_mtu(Segment("local"), config) is None


def test_mtu_with_jumbo_underlay_and_ipv6_overlay() -> None:
    config = ProviderConfig(global_physnet_mtu=9000, physical_network_mtus={"small": 1400})
    assert segment_mtu(Segment("vxlan", None, 5), config) == 8950
    assert segment_mtu(Segment("vlan", "small", 5), config) == 1400
    ipv6 = ProviderConfig(global_physnet_mtu=1500, overlay_ip_version=6)
    assert segment_mtu(Segment("vxlan", None, 5), ipv6) == 1430
    path = ProviderConfig(global_physnet_mtu=9000, path_mtu=1500)
    assert segment_mtu(Segment("vxlan", None, 5), path) == 1450
    assert segment_mtu(Segment("vxlan", None, 5), ProviderConfig(global_physnet_mtu=0)) is None


def test_network_mtu() -> None:
    config = ProviderConfig()
    assert network_mtu([Segment("vxlan", None, 5)], config) == 1450
    assert network_mtu([Segment("vlan", "p", 5), Segment("vxlan", None, 5)], config) == 1450
    assert network_mtu([Segment("local")], config) == 1500
    assert network_mtu([], config) == 1500
    assert network_mtu([Segment("vxlan", None, 5)], config, requested=1400) == 1400
    assert network_mtu([Segment("vxlan", None, 5)], config, requested=0) == 1450


def test_requested_mtu_too_big() -> None:
    with pytest.raises(BadRequest) as caught:
        network_mtu([Segment("vxlan", None, 5)], ProviderConfig(), requested=1500)
    assert caught.value.message == ("Invalid input for operation: Requested MTU is too big, "
                                    "maximum is 1450.")
