"""The metadata service's answers: OpenStack and EC2 layouts from an instance."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from nubo.compute import metadata

INSTANCE: dict[str, Any] = {
    "id": 42, "uuid": "9a7e3f2c-0000-4000-8000-000000000001", "display_name": "vm-1",
    "hostname": "vm-1", "launch_index": 0, "availability_zone": "nova",
    "project_id": "p1", "metadata": {"role": "web"}, "key_name": "k1",
    "key_data": "ssh-ed25519 AAAA k1", "user_data": base64.b64encode(b"#!/bin/sh\n").decode(),
    "flavor": {"name": "m1.tiny"}, "reservation_id": "r-abc", "image_ref": "img",
    "extra": {"security_groups": ["default", "web"]},
    "network_info": [{"id": "port-1", "address": "fa:16:3e:00:00:01",
                      "network": {"id": "net-1", "mtu": 1450},
                      "fixed_ips": [{"address": "10.0.0.5", "version": 4,
                                     "floating_ips": ["172.24.4.9"]}]}],
}


def get(path: str, instance: dict[str, Any] = INSTANCE) -> tuple[int, str]:
    reply = metadata.answer(instance, path)
    return reply.status, reply.body.decode()


def test_openstack_versions_files_and_documents() -> None:
    status, body = get("/openstack")
    assert status == 200 and {"2013-10-17", "latest"} <= set(body.split("\n"))
    assert get("/openstack/2013-10-17")[1].split("\n") == [
        "meta_data.json", "password", "user_data", "vendor_data.json"]
    assert "network_data.json" in get("/openstack/latest/")[1]
    meta = json.loads(get("/openstack/latest/meta_data.json")[1])
    assert meta["uuid"] == INSTANCE["uuid"] and meta["public_keys"] == {"k1": "ssh-ed25519 AAAA k1"}
    assert meta["meta"] == {"role": "web"} and meta["hostname"] == "vm-1"
    assert get("/openstack/latest/user_data") == (200, "#!/bin/sh\n")
    net = json.loads(get("/openstack/latest/network_data.json")[1])
    assert net["links"][0]["id"] == "tapport-1" and net["links"][0]["mtu"] == 1450
    assert get("/openstack/latest/vendor_data2.json") == (200, "{}")
    assert get("/openstack/2012-01-01/meta_data.json")[0] == 404
    assert get("/openstack/2013-10-17/network_data.json")[0] == 404


def test_ec2_layout() -> None:
    assert "2009-04-04" in get("/")[1].split("\n")
    assert get("/latest") == (200, "meta-data/\nuser-data")
    listing = get("/latest/meta-data/")[1].split("\n")
    assert {"instance-id", "local-ipv4", "public-keys/", "placement/"} <= set(listing)
    assert get("/2009-04-04/meta-data/instance-id") == (200, "i-0000002a")
    assert get("/latest/meta-data/local-ipv4") == (200, "10.0.0.5")
    assert get("/latest/meta-data/public-ipv4") == (200, "172.24.4.9")
    assert get("/latest/meta-data/placement/availability-zone") == (200, "nova")
    assert get("/latest/meta-data/public-keys") == (200, "0=k1")
    assert get("/latest/meta-data/public-keys/0/openssh-key") == (200, "ssh-ed25519 AAAA k1")
    assert get("/latest/meta-data/security-groups") == (200, "default\nweb")
    assert get("/latest/user-data") == (200, "#!/bin/sh\n")
    assert get("/latest/meta-data/nothing")[0] == 404
    assert get("/1999-01-01/meta-data/")[0] == 404


def test_no_user_data_no_key() -> None:
    bare = {**INSTANCE, "user_data": None, "key_data": None}
    assert get("/latest/user-data", bare)[0] == 404
    assert get("/latest", bare) == (200, "meta-data/")
    assert "public-keys/" not in get("/latest/meta-data/", bare)[1]
    assert "user_data" not in get("/openstack/latest", bare)[1]



def test_password_pieces_and_post_path() -> None:
    password = "p" * 600
    pieces = metadata.password_pieces(password)
    assert list(pieces) == ["password_0", "password_1", "password_2", "password_3"]
    assert [len(v) for v in pieces.values()] == [255, 255, 90, 0]
    assert metadata.password_of(pieces) == password
    assert metadata.password_of({}) == ""
    assert get("/openstack/latest/password") == (200, "")
    assert get("/openstack/latest/password",
               {**INSTANCE, "system_metadata": pieces}) == (200, password)
    assert metadata.password_pieces("")["password_0"] == ""
    with pytest.raises(ValueError):
        metadata.password_pieces("x" * (metadata.MAX_PASSWORD + 1))
    assert metadata.password_post("/openstack/latest/password")
    assert metadata.password_post("/openstack/2013-04-04/password")
    assert not metadata.password_post("/openstack/latest/meta_data.json")
    assert not metadata.password_post("/openstack/1999-01-01/password")
    assert not metadata.password_post("/latest/password")
