"""The path a user takes, end to end, as the README describes it: two servers of
the guest image on a private VXLAN network behind a router, booted with the
`openstack` CLI; one gets a floating IP. Both take their address and the MTU by
DHCP and their key and user data from the metadata service; the user ssh-es in
as root through the floating IP, from this machine and from a machine outside
(a namespace on the public network), and on to the other server; the servers
ping each other; the one without a floating IP goes out through the router's
SNAT; the security group's ssh rule taken away stops ssh, an open session too,
and put back restores it. Then nubo is killed (-9) and started again: the guests keep answering
throughout, and afterwards there is still one domain per server and one
dnsmasq per network."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cloud.conftest import BOOT, Site, wait_active
from tests.e2e.compute.conftest import domain, poll, virsh
from tests.e2e.network.netlab import Guest, Listener, in_ns, sh

SUBNET = "10.250.71.0/24"
USER_DATA = "#!/bin/sh\necho \"user data ran on $(hostname)\" > /root/nb-user-data\n"


@dataclass
class World:
    conn: Any                       # the demo user's connection
    a: Any                          # the server with the floating IP
    b: Any
    a_ip: str
    b_ip: str
    fip: str
    gateway_ip: str                 # the router's address on the public network
    ssh_rule: Any
    group: Any
    network: Any
    outside: Guest


def ssh(site: Site, address: str, command: str, *, ns: str | None = None,
        jump: str | None = None, check: bool = True, timeout: int = 10
        ) -> subprocess.CompletedProcess[str]:
    argv = [*(["ip", "netns", "exec", ns] if ns else []),
            *site.ssh_argv(address, jump=jump, connect_timeout=timeout), command]
    # a connection the firewall cuts once made (a rule removed while this ssh was
    # connecting) ends as a failed ssh within 10 s rather than hanging until the
    # subprocess times out
    argv[-2:-2] = ["-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=5"]
    return sh(*argv, check=check, timeout=3 * timeout + 30)


@pytest.fixture(scope="module")
def world(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    cloud = site.cloud
    user = "nubo"                                       # the demo project's user
    conn = cloud.connect(user)
    work = tmp_path_factory.mktemp("whole")
    (work / "user-data").write_text(USER_DATA)
    cloud.cli("keypair", "create", "--public-key", f"{site.key}.pub", "nb-key", cloud=user)
    group = conn.network.create_security_group(name="nb-ssh")
    ssh_rule = conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", ethertype="IPv4", protocol="tcp",
        port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", ethertype="IPv4", protocol="icmp",
        remote_ip_prefix="0.0.0.0/0")
    network = conn.network.create_network(name="nb-private")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4, cidr=SUBNET,
                                        name="nb-private-subnet")
    public = conn.network.find_network("public")
    router = conn.network.create_router(name="nb-router",
                                        external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    servers: list[Any] = []
    fip: Any = None
    outside: Guest | None = None
    try:
        for name in ("nb-a", "nb-b"):
            made = cloud.cli_json("server", "create", "--image", "nubo-guest", "--flavor",
                                  "m1.nano", "--network", network.id, "--key-name", "nb-key",
                                  "--security-group", "nb-ssh", "--user-data",
                                  str(work / "user-data"), name, cloud=user)
            servers.append(made["id"])
        a, b = wait_active(cloud, conn, servers)
        fip = conn.network.create_ip(floating_network_id=public.id)
        cloud.cli("server", "add", "floating", "ip", a.id, fip.floating_ip_address,
                  cloud=user)
        address = {s.id: next(iter(conn.network.ports(device_id=s.id))).fixed_ips[0][
            "ip_address"] for s in (a, b)}
        site.trust_host_keys(conn, a, fip.floating_ip_address)
        site.trust_host_keys(conn, b, address[b.id])
        gateway_ip = conn.network.get_router(router.id).external_gateway_info[
            "external_fixed_ips"][0]["ip_address"]
        outside = site.external("out")
        yield World(conn, a, b, address[a.id], address[b.id], fip.floating_ip_address,
                    gateway_ip, ssh_rule, group, network, outside)
    finally:
        for server in servers:
            conn.compute.delete_server(server, ignore_missing=True)
        for server in servers:
            poll(lambda s=server: conn.compute.find_server(s) is None, timeout=BOOT,
                 what="the servers deleted")
        if fip is not None:
            conn.network.delete_ip(fip)
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.network.delete_router(router)
        conn.network.delete_network(network)
        conn.network.delete_security_group(group)
        cloud.cli("keypair", "delete", "nb-key", cloud=user)
        admin = cloud.connect()
        for port in admin.network.ports(name="nb-out"):
            admin.network.delete_port(port)


def test_ssh_through_the_floating_ip_from_here_and_from_outside(site: Site,
                                                                 world: World) -> None:
    here = poll(lambda: ssh(site, world.fip, "hostname", check=False).stdout.strip(),
                timeout=BOOT, what="ssh into the floating IP")
    assert here == "nb-a"
    assert ssh(site, world.fip, "cat /root/nb-user-data").stdout.strip() == \
        "user data ran on nb-a"
    assert ssh(site, world.fip, "id -u").stdout.strip() == "0"
    assert ssh(site, world.fip, "cat /root/.ssh/authorized_keys").stdout.strip() == \
        site.public_key
    assert ssh(site, world.fip, "hostname", ns=world.outside.ns).stdout.strip() == "nb-a"


def test_both_took_dhcp_with_the_vxlan_mtu(site: Site, world: World) -> None:
    for jump, address in ((None, world.fip), (world.fip, world.b_ip)):
        eth0 = ssh(site, address, "ip -4 addr show dev eth0; cat /sys/class/net/eth0/mtu",
                   jump=jump).stdout
        own = world.a_ip if address == world.fip else world.b_ip
        assert f"inet {own}/24" in eth0 and eth0.split()[-1] == "1450"
    assert ssh(site, world.b_ip, "cat /root/nb-user-data", jump=world.fip).stdout.strip() \
        == "user data ran on nb-b"


def test_the_servers_ping_each_other(site: Site, world: World) -> None:
    assert ssh(site, world.fip, f"ping -c 3 -W 2 {world.b_ip}", check=False).returncode == 0
    assert ssh(site, world.b_ip, f"ping -c 3 -W 2 {world.a_ip}", jump=world.fip,
               check=False).returncode == 0


def test_outbound_traffic_leaves_through_snat(site: Site, world: World) -> None:
    outside_ip = world.outside.run("ip", "-4", "-o", "addr", "show", "dev",
                                   "eth0").stdout.split()[3].split("/")[0]
    listener = Listener(world.outside.ns, 7000)
    try:
        seen_from_b = ssh(site, world.b_ip, f"nc {outside_ip} 7000 </dev/null",
                          jump=world.fip).stdout.strip()
        seen_from_a = ssh(site, world.fip, f"nc {outside_ip} 7000 </dev/null").stdout.strip()
    finally:
        listener.stop()
    assert seen_from_b == world.gateway_ip      # the router's SNAT
    assert seen_from_a == world.fip             # a floating IP is 1:1 both ways


def test_the_security_group_rule_decides_on_ssh(site: Site, world: World) -> None:
    conn = world.conn
    # a session open before the rule goes: the client asks every second whether the
    # server is there, and gives up after three unanswered asks
    argv = site.ssh_argv(world.fip)
    argv[-1:-1] = ["-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3"]
    session = subprocess.Popen([*argv, "cat"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert session.stdin is not None and session.stdout is not None
        session.stdin.write("still here\n")
        session.stdin.flush()
        assert session.stdout.readline() == "still here\n"
        conn.network.delete_security_group_rule(world.ssh_rule)
        poll(lambda: ssh(site, world.fip, "true", check=False, timeout=3).returncode != 0,
             timeout=60, what="ssh refused without the rule")
        # the established session does not outlive the rule (its connection is
        # forgotten, and its next packet meets the rules as a new one)
        poll(lambda: session.poll() is not None, timeout=30,
             what="the open ssh session cut without the rule")
    finally:
        session.kill()
        session.wait()
    time.sleep(2)
    assert ssh(site, world.fip, "true", check=False, timeout=3).returncode != 0
    world.ssh_rule = conn.network.create_security_group_rule(
        security_group_id=world.group.id, direction="ingress", ethertype="IPv4",
        protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    poll(lambda: ssh(site, world.fip, "true", check=False, timeout=3).returncode == 0,
         timeout=60, what="ssh back with the rule")


def dnsmasq_pids(network_id: str) -> list[str]:
    out = sh("pgrep", "-f", f"dnsmasq.*{network_id}", check=False).stdout
    return out.split()


def qemu_pid(server_id: str) -> int:
    return int(Path(f"/run/libvirt/qemu/{domain(server_id)}.pid").read_text().strip())


def test_kill_9_and_restart_keeps_the_guests_answering(site: Site, world: World) -> None:
    domains = {s.id: virsh("domuuid", domain(s.id)) for s in (world.a, world.b)}
    qemus = {s: qemu_pid(s) for s in domains}
    dhcp = dnsmasq_pids(world.network.id)
    assert len(dhcp) == 1
    pings = subprocess.Popen(["ping", "-c", "40", "-i", "0.25", "-W", "1", world.fip],
                             stdout=subprocess.PIPE, text=True)
    site.cloud.stop(9)
    try:
        assert ssh(site, world.fip, "hostname").stdout.strip() == "nb-a"   # nubo is down
    finally:
        site.cloud.start()          # up again whatever happened, for what follows
    out, _ = pings.communicate(timeout=60)
    received = int(out.split(" received")[0].rsplit(" ", 1)[-1])
    assert received >= 38, out                      # nothing but a stray lost
    conn = site.cloud.connect("nubo")
    for server in (world.a, world.b):
        assert conn.compute.get_server(server.id).status == "ACTIVE"
    assert ssh(site, world.fip, "hostname").stdout.strip() == "nb-a"
    assert ssh(site, world.b_ip, "hostname", jump=world.fip).stdout.strip() == "nb-b"
    # nothing duplicated: the same domains, one dnsmasq, one tap per port
    time.sleep(5)                                   # the agents' reconcile has run
    ours = [n for n in virsh("list", "--all", "--name").split() if n.startswith("nubo-")
            and str(site.cloud.state_dir) in virsh("domblklist", n)]
    assert sorted(ours) == sorted(domain(s) for s in domains)
    assert {s: virsh("domuuid", domain(s)) for s in domains} == domains
    assert dnsmasq_pids(world.network.id) == dhcp
    assert {s: qemu_pid(s) for s in domains} == qemus   # the same QEMUs, not restarted
    links = json.loads(in_ns(None, "ip", "-j", "link", "show").stdout)
    for server in (world.a, world.b):
        port = next(iter(conn.network.ports(device_id=server.id)))
        tap = next(d for d in links if d["ifname"] == f"tap{port.id[:11]}")
        assert tap.get("master") == f"brq{world.network.id[:11]}"
