"""Which port changes compute hears of, and with which event (Neutron's Nova
notifier rules)."""

from __future__ import annotations

import pytest

from nubo.network.notifier import is_compute_port, status_event
from nubo.network.service.dhcp_state import hostname

SERVER = "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1b2c3d"


def port(owner: str = "compute:nova", device: str = SERVER) -> dict[str, str]:
    return {"id": "p1", "device_owner": owner, "device_id": device}


@pytest.mark.parametrize(("owner", "device", "expected"), [
    ("compute:nova", SERVER, True),
    ("compute:az-2", SERVER, True),
    ("compute:nova", "", False),
    ("compute:nova", "not-a-uuid", False),
    ("network:dhcp", SERVER, False),
    ("", SERVER, False),
])
def test_only_compute_ports_with_a_server(owner: str, device: str, expected: bool) -> None:
    assert is_compute_port(port(owner, device)) is expected


@pytest.mark.parametrize(("old", "new", "name", "status"), [
    ("DOWN", "ACTIVE", "network-vif-plugged", "completed"),
    ("BUILD", "ACTIVE", "network-vif-plugged", "completed"),
    ("DOWN", "ERROR", "network-vif-plugged", "failed"),
    ("ACTIVE", "DOWN", "network-vif-unplugged", "completed"),
])
def test_status_changes_that_compute_hears(old: str, new: str, name: str, status: str) -> None:
    assert status_event(port(), old, new) == {
        "name": name, "server_uuid": SERVER, "status": status, "tag": "p1"}


@pytest.mark.parametrize(("old", "new"), [
    ("ACTIVE", "ERROR"), ("ERROR", "ACTIVE"), ("ERROR", "DOWN"), ("DOWN", "DOWN")])
def test_other_status_changes_are_silent(old: str, new: str) -> None:
    assert status_event(port(), old, new) is None


def test_ports_of_no_server_are_silent() -> None:
    assert status_event(port("network:router_interface"), "DOWN", "ACTIVE") is None


def test_dhcp_host_names() -> None:
    assert hostname("", ["10.0.0.5"]) == "host-10-0-0-5"
    assert hostname("", ["2001:db8::5"]) == "host-2001-db8--5"
    assert hostname("web-1", ["10.0.0.5"]) == "web-1"
