"""Ports and port ranges of floating IP port forwardings (nubo.network.port_ranges)."""

from __future__ import annotations

import pytest

from nubo.core.errors import NuboError
from nubo.network import port_ranges as pr
from nubo.network.port_ranges import PortRange, Ports


def message(err: pytest.ExceptionInfo[NuboError]) -> str:
    assert err.value.status == 400
    return err.value.message


def test_single_ports() -> None:
    ports = pr.requested({"internal_port": 22, "external_port": "2222"})
    assert ports == Ports(PortRange(22, 22), PortRange(2222, 2222))
    assert ports.view() == {"internal_port": 22, "external_port": 2222,
                            "internal_port_range": "22:22", "external_port_range": "2222:2222"}


def test_ranges_n_to_n_and_1_to_n() -> None:
    n_n = pr.requested({"internal_port_range": "100:110", "external_port_range": "200:210"})
    assert n_n.view() == {"internal_port_range": "100:110", "external_port_range": "200:210"}
    one_n = pr.requested({"internal_port_range": "80", "external_port_range": "8080:8090"})
    assert one_n.view() == {"internal_port": 80, "internal_port_range": "80:80",
                            "external_port_range": "8080:8090"}
    with pytest.raises(NuboError) as err:
        pr.requested({"internal_port_range": "100:105", "external_port_range": "200:210"})
    assert message(err) == ("Bad port_forwarding request: Invalid ranges of internal and/or "
                            "external ports. The relation between internal and external ports "
                            "must be N-N or 1-N.")


def test_update_keeps_what_it_does_not_name() -> None:
    current = Ports(PortRange(22, 22), PortRange(2222, 2222))
    assert pr.requested({"external_port": 2223}, current) == Ports(PortRange(22, 22),
                                                                   PortRange(2223, 2223))


@pytest.mark.parametrize(("body", "text"), [
    ({"internal_port": 0, "external_port": 1},
     "Invalid input for internal_port. Reason: '0' is too small - must be at least '1'."),
    ({"internal_port": 1, "external_port": 70000},
     "Invalid input for external_port. Reason: '70000' is too large - must be no larger "
     "than '65535'."),
    ({"internal_port": "ssh", "external_port": 1},
     "Invalid input for internal_port. Reason: 'ssh' is not an integer."),
    ({"internal_port_range": "1:2:3", "external_port_range": "1"},
     "Invalid input for internal_port_range. Reason: Port range must be two integers "
     "separated by a colon."),
    ({"internal_port_range": "20:10", "external_port_range": "1:11"},
     "Invalid input for internal_port_range. Reason: First port in a port range must be "
     "lower than the second port."),
    ({"internal_port_range": "1:70000", "external_port_range": "1"},
     "Invalid input for internal_port_range. Reason: Invalid port: 70000, the port must "
     "be in the range [1, 65535]."),
    ({"internal_port_range": "a:b", "external_port_range": "1"},
     "Invalid input for internal_port_range. Reason: Invalid port: a."),
])
def test_bad_ports(body: dict[str, object], text: str) -> None:
    with pytest.raises(NuboError) as err:
        pr.requested(body)
    assert message(err) == text


def test_singles_and_ranges_not_mixed_and_both_sides_needed() -> None:
    with pytest.raises(NuboError):
        pr.requested({"internal_port": 22, "external_port_range": "22:23"})
    with pytest.raises(NuboError):
        pr.requested({"internal_port": 22})


def test_protocol_and_collisions() -> None:
    assert pr.protocol("TCP") == "tcp"
    with pytest.raises(NuboError) as err:
        pr.protocol("http")
    assert message(err) == "Invalid input for protocol. Reason: http is not in valid_values."
    assert PortRange(10, 20).collides(PortRange(20, 30))
    assert not PortRange(10, 20).collides(PortRange(21, 30))
    assert pr.collision("external_port_range", PortRange(1, 2), PortRange(2, 2)).message == (
        "Bad port_forwarding request: There is a port collision with the external_port_range. "
        "The following ranges collide: 1:2 and 2:2.")
