"""Many ports at once on one /24: every address is handed out once, and when the
pools are exhausted the answer is Neutron's 409 IpAddressGenerationFailure."""

from __future__ import annotations

import ipaddress
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error
from tests.functional.network.test_ports import in_pools, lan

POOL = 253  # a /24 without its network, broadcast and gateway addresses


def test_concurrent_creates_until_exhausted(admin_neutron: Neutron, cloud: Cloud) -> None:
    net, subnet = lan(admin_neutron, "10.250.0.0/24")
    # ports of several projects, so that the quota rows of one project do not queue
    # every request: the addresses are what the requests race for
    projects = [uuid.uuid4().hex for _ in range(10)]

    def create(i: int) -> requests.Response:
        return admin_neutron.post("/ports", {"port": {
            "network_id": net["id"], "project_id": projects[i % len(projects)],
            "security_groups": [], "name": f"c-{i}"}})

    with ThreadPoolExecutor(max_workers=50) as pool:
        first = list(pool.map(create, range(200)))
    assert [r.status_code for r in first] == [201] * 200, [r.text for r in first
                                                          if r.status_code != 201][:3]
    made = [r.json()["port"] for r in first]
    addresses = [p["fixed_ips"][0]["ip_address"] for p in made]
    assert len(set(addresses)) == 200
    assert all(in_pools(a, subnet) for a in addresses)

    with ThreadPoolExecutor(max_workers=30) as pool:
        rest = list(pool.map(create, range(200, 260)))
    more = [r.json()["port"] for r in rest if r.status_code == 201]
    refused = [r for r in rest if r.status_code != 201]
    assert len(more) == POOL - 200 and len(refused) == 260 - POOL
    for r in refused:
        message = error(r, 409, "IpAddressGenerationFailure")
        assert message == f"No more IP addresses available on network {net['id']}."
    everything = addresses + [p["fixed_ips"][0]["ip_address"] for p in more]
    pool_addresses = {str(ipaddress.ip_address("10.250.0.2") + i) for i in range(POOL)}
    assert sorted(everything) == sorted(pool_addresses)
    held = cloud.sql("SELECT ip_address FROM network_ip_allocations WHERE subnet_id = :s",
                     s=subnet["id"])
    assert sorted(r[0] for r in held) == sorted(pool_addresses)

    ports: list[dict[str, Any]] = made + more
    with ThreadPoolExecutor(max_workers=30) as pool:
        gone = list(pool.map(lambda p: admin_neutron.delete(f"/ports/{p['id']}"), ports))
    assert [r.status_code for r in gone] == [204] * len(ports)
    assert cloud.sql("SELECT count(*) FROM network_ip_allocations WHERE subnet_id = :s",
                     s=subnet["id"]) == [(0,)]


def test_addresses_another_process_takes_or_frees_are_seen(admin_neutron: Neutron,
                                                           cloud: Cloud) -> None:
    """The process keeps what it knows a subnet holds between allocations; what
    another process (of a cloud with several API workers) allocated or freed in the
    meantime is found on the way: taken ones are skipped, a freed one is handed out
    before the pools count as exhausted."""
    net, subnet = lan(admin_neutron, "10.250.1.0/28")     # pool .2 to .14: 13 addresses
    pool = {str(ipaddress.ip_address("10.250.1.2") + i) for i in range(13)}

    def create() -> requests.Response:
        return admin_neutron.post("/ports", {"port": {"network_id": net["id"],
                                                      "security_groups": []}})

    def address(r: requests.Response) -> str:
        assert r.status_code == 201, r.text
        return str(r.json()["port"]["fixed_ips"][0]["ip_address"])

    first, other = address(create()), create().json()["port"]
    # "another process" gives the second port every free address but one
    left = sorted(pool - {first, other["fixed_ips"][0]["ip_address"]})
    spare, theirs = left[0], left[1:]
    for ip in theirs:
        cloud.sql_write("INSERT INTO network_ip_allocations (subnet_id, ip_address, port_id, "
                        "network_id) VALUES (:s, :ip, :p, :n)",
                        s=subnet["id"], ip=ip, p=other["id"], n=net["id"])
    assert address(create()) == spare
    # it frees one of them again: not lost to this process's knowledge
    freed = theirs[-1]
    cloud.sql_write("DELETE FROM network_ip_allocations WHERE subnet_id = :s AND "
                    "ip_address = :ip", s=subnet["id"], ip=freed)
    assert address(create()) == freed
    error(create(), 409, "IpAddressGenerationFailure")
