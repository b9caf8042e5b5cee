"""The metadata proxy at 169.254.169.254: on a network without a router through
the DHCP port (the DHCP route says so), once a router is attached through the
router; the instance is the one whose port holds the source address, and the
answers are its OpenStack and EC2 layouts; the one thing a guest posts is its password."""

from __future__ import annotations

import base64
import io
import json
import sys
from typing import Any

from tests.e2e.network.conftest import HOST1, Net
from tests.e2e.network.netlab import http_get, in_ns, wait_for

MD = "http://169.254.169.254"
USER_DATA = b"#!/bin/sh\necho user data ran\n"
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGbQ0fV6mGmxwBlkRxBTqEhDZuvv0N9rjf7L0nVPD+zQ "
       "nb@test")


def server(conn: Any, network_id: str) -> Any:
    image = conn.image.create_image(name="nb-md", disk_format="raw", container_format="bare",
                                    data=io.BytesIO(b"\0" * 4096))
    conn.image.wait_for_status(image, "active", wait=30)
    conn.compute.create_keypair(name="nb-md-key", public_key=KEY)
    made = conn.compute.create_server(
        name="nb-md-vm", image_id=image.id, flavor_id="1", networks=[{"uuid": network_id}],
        key_name="nb-md-key", user_data=base64.b64encode(USER_DATA).decode(),
        metadata={"role": "e2e"}, availability_zone=f"nova:{HOST1}")
    return conn.compute.wait_for_server(made, wait=60), image


def test_metadata_through_the_dhcp_port_then_the_router(net: Net) -> None:
    conn = net.conn()
    network = conn.network.create_network(name="nb-md")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4,
                                        cidr="10.250.50.0/24")
    vm, image = server(conn, network.id)
    router = None
    try:
        port = next(iter(conn.network.ports(device_id=vm.id)))
        assert port.binding_host_id == HOST1
        guest = net.lab.guest("md", port.to_dict(), host_ns=net.host1_ns)
        lease = guest.dhcp(net.dhcp_script)
        assert "169.254.169.254/32" in lease                # isolated: via the DHCP port
        status, body = http_get(guest.ns, f"{MD}/openstack")
        assert status == 200 and "2013-10-17" in body.split() and "latest" in body.split()
        status, body = http_get(guest.ns, f"{MD}/openstack/latest/meta_data.json")
        meta = json.loads(body)
        assert status == 200 and meta["uuid"] == vm.id and meta["name"] == "nb-md-vm"
        assert meta["public_keys"] == {"nb-md-key": KEY} and meta["meta"] == {"role": "e2e"}
        assert http_get(guest.ns, f"{MD}/openstack/2013-10-17/user_data") == \
            (200, USER_DATA.decode())
        status, body = http_get(guest.ns, f"{MD}/openstack/latest/network_data.json")
        assert json.loads(body)["links"][0]["vif_id"] == port.id
        for doc in ("vendor_data.json", "vendor_data2.json"):
            assert http_get(guest.ns, f"{MD}/openstack/latest/{doc}") == (200, "{}")
        ip = port.fixed_ips[0]["ip_address"]
        assert http_get(guest.ns, f"{MD}/latest/meta-data/local-ipv4") == (200, ip)
        assert http_get(guest.ns, f"{MD}/2009-04-04/meta-data/public-keys/") == \
            (200, "0=nb-md-key")
        assert http_get(guest.ns, f"{MD}/latest/meta-data/public-keys/0/openssh-key") == \
            (200, KEY)
        assert http_get(guest.ns, f"{MD}/latest/user-data") == (200, USER_DATA.decode())
        assert http_get(guest.ns, f"{MD}/latest/meta-data/no-such")[0] == 404
        # the guest posts its (encrypted) password once; the API shows and clears it
        password = base64.b64encode(b"\x01" * 700).decode()       # 936 characters
        assert http_get(guest.ns, f"{MD}/openstack/latest/password") == (200, "")
        assert conn.compute.get_server_password(vm) == ""
        assert http_get(guest.ns, f"{MD}/openstack/latest/password", post=password)[0] == 200
        assert http_get(guest.ns, f"{MD}/openstack/latest/password") == (200, password)
        assert conn.compute.get_server_password(vm) == password
        assert http_get(guest.ns, f"{MD}/openstack/latest/password", post="again")[0] == 409
        assert http_get(guest.ns, f"{MD}/openstack/latest/meta_data.json", post="x")[0] == 405
        assert http_get(guest.ns, f"{MD}/openstack/latest/password", post="x" * 1021)[0] == 400
        conn.compute.clear_server_password(vm)
        assert conn.compute.get_server_password(vm) == ""
        assert http_get(guest.ns, f"{MD}/openstack/latest/password", post="new")[0] == 200
        assert conn.compute.get_server_password(vm) == "new"
        # another source address on the network is no instance
        guest.run("ip", "addr", "add", "10.250.50.222/24", "dev", "eth0")
        conn.network.update_port(port, allowed_address_pairs=[{"ip_address": "10.250.50.222"}])
        wait_for("a foreign source gets 404", lambda: _from(guest.ns, "10.250.50.222") == 404)
        assert _from(guest.ns, ip) == 200
        # a router on the subnet: metadata goes through it, the DHCP route is gone
        router = conn.network.create_router(name="nb-md")
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        guest.run("ip", "route", "del", "169.254.169.254/32", check=False)
        lease = wait_for("a lease without the metadata route", lambda: (
            lambda text: text if "169.254.169.254" not in text else None)(
            guest.dhcp(net.dhcp_script)))
        assert "router=10.250.50.1" in lease
        status, body = http_get(guest.ns, f"{MD}/openstack/latest/meta_data.json")
        assert status == 200 and json.loads(body)["uuid"] == vm.id
    finally:
        conn.compute.delete_server(vm)
        conn.compute.wait_for_delete(vm, wait=60)
        if router is not None:
            conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
            conn.network.delete_router(router)
        for p in conn.network.ports(network_id=network.id):
            if p.device_owner != "network:dhcp":
                conn.network.delete_port(p)
        conn.network.delete_network(network)
        conn.compute.delete_keypair("nb-md-key")
        conn.image.delete_image(image)


FROM = """
import socket, sys
s = socket.create_connection(("169.254.169.254", 80), timeout=5,
                             source_address=(sys.argv[1], 0))
s.sendall(b"GET /latest/meta-data/instance-id HTTP/1.0\\r\\n\\r\\n")
print(s.recv(100).split()[1].decode())
"""


def _from(ns: str, source: str) -> int:
    """The status of a metadata request from ``source`` inside ``ns``."""
    out = in_ns(ns, sys.executable, "-c", FROM, source, check=False, timeout=20)
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else 0
