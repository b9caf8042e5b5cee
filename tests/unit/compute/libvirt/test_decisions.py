"""The libvirt driver's pure decisions: virt type, power states, disk sizes, the
image cache's verification and format, the config drive's content."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from nubo.compute.agent.libvirt import config_drive, daemons, disks, image_cache, power
from nubo.compute.states import PowerState
from nubo.core.errors import ConfigError

USABLE = daemons.KvmFacts(dev_kvm=True, libvirt_offers_kvm=True, pvm=False)


def test_qemu_is_qemu() -> None:
    assert daemons.choose_virt_type("qemu", USABLE) == ("qemu", None)


def test_kvm_when_usable() -> None:
    assert daemons.choose_virt_type("kvm", USABLE) == ("kvm", None)


@pytest.mark.parametrize(("facts", "why"), [
    (daemons.KvmFacts(False, True, False), "/dev/kvm"),
    (daemons.KvmFacts(True, True, True), "PVM"),
    (daemons.KvmFacts(True, False, False), "no kvm domains"),
])
def test_kvm_falls_back_to_qemu_saying_why(facts: daemons.KvmFacts, why: str) -> None:
    chosen, reason = daemons.choose_virt_type("kvm", facts)
    assert chosen == "qemu"
    assert reason is not None and why in reason


def test_unknown_virt_type_refused() -> None:
    with pytest.raises(ConfigError):
        daemons.choose_virt_type("xen", USABLE)


def test_local_uris_and_their_sockets() -> None:
    assert daemons.socket_of("qemu:///system") == daemons.SYSTEM_SOCKET
    assert str(daemons.socket_of("qemu+unix:///system?socket=/x/sock")) == "/x/sock"
    assert daemons.socket_of("qemu+ssh://host/system") is None


@pytest.mark.parametrize(("state", "saved", "expected"), [
    (1, False, PowerState.RUNNING), (3, False, PowerState.PAUSED),
    (5, False, PowerState.SHUTDOWN), (5, True, PowerState.SUSPENDED),
    (6, False, PowerState.CRASHED), (7, False, PowerState.SUSPENDED),
    (0, False, PowerState.NOSTATE), (4, False, PowerState.RUNNING),
])
def test_power_states(state: int, saved: bool, expected: PowerState) -> None:
    assert power.power_state(state, saved) == expected


def test_root_disk_grows_to_the_flavor_only() -> None:
    assert disks.root_size(1, 1024 * 1024) == disks.GIB
    assert disks.root_size(0, 1024 * 1024) is None
    assert disks.root_size(1, 2 * disks.GIB) is None


def test_image_verification_prefers_the_multihash() -> None:
    data = b"hello"
    found = image_cache.hasher_of({"os_hash_algo": "sha512",
                                   "os_hash_value": hashlib.sha512(data).hexdigest(),
                                   "checksum": "ignored"})
    assert found is not None
    found[0].update(data)
    assert found[0].hexdigest() == found[1]
    md5 = image_cache.hasher_of({"checksum": hashlib.md5(data).hexdigest()})
    assert md5 is not None and md5[0].name == "md5"
    assert image_cache.hasher_of({}) is None


def test_formats_kept_or_converted() -> None:
    assert image_cache.target_format("qcow2") is None
    assert image_cache.target_format("raw") is None
    assert image_cache.target_format("aki") is None
    assert image_cache.target_format("vmdk") == "qcow2"


def test_config_drive_tree() -> None:
    inst = {"uuid": "u-1", "display_name": "web", "hostname": "web", "project_id": "p",
            "key_name": "k", "key_data": "ssh-ed25519 AAAA x@y", "metadata": {"a": "b"},
            "user_data": base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
            "network_info": [{"id": "port-1", "address": "fa:16:3e:00:00:01",
                              "network": {"id": "net-1", "mtu": 1450},
                              "fixed_ips": [{"address": "10.0.0.5"}]}]}
    files = config_drive.tree(inst, b"seed")
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert meta["uuid"] == "u-1" and meta["hostname"] == "web"
    assert meta["public_keys"] == {"k": "ssh-ed25519 AAAA x@y"}
    assert meta["meta"] == {"a": "b"}
    assert "openstack/2013-10-17/meta_data.json" in files
    assert files["openstack/latest/user_data"] == b"#!/bin/sh\necho hi\n"
    net = json.loads(files["openstack/latest/network_data.json"])
    assert net["links"][0]["mtu"] == 1450
    assert net["links"][0]["ethernet_mac_address"] == "fa:16:3e:00:00:01"
    assert net["networks"][0]["type"] == "ipv4_dhcp"
    assert "openstack/2013-10-17/network_data.json" not in files


def test_config_drive_without_user_data_has_no_user_data_file() -> None:
    files = config_drive.tree({"uuid": "u"})
    assert not any(k.endswith("user_data") for k in files)
