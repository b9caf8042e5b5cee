"""dnsmasq's configuration for one network, as Neutron's DHCP agent writes it:
pure functions from the network's ``Dhcp`` state to the command line and the
files dnsmasq reads (re-read on SIGHUP: hosts, options, DNS names).

- one ``static`` range per DHCP-enabled subnet, tagged ``subnet-<id>``: only the
  ports of the host file get leases, each its fixed address and host name;
- options per subnet: router, DNS servers (the subnet's, else the DHCP port's
  address, where dnsmasq answers the network's names), MTU (option 26), and
  classless static routes (121, and 249 for older Windows clients) holding the
  subnet's host routes, the other subnets of the network on-link, the metadata
  address through the DHCP port when the subnet has no router (isolated
  metadata) and the default route through the gateway;
- a port's extra DHCP options tagged ``port-<id>`` (its host lines set the tag).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from nubo.network.agent.state import Dhcp, DhcpHost, DhcpSubnet

METADATA_IP = "169.254.169.254"
IPV6_DHCP_MODES = ("dhcpv6-stateful", "dhcpv6-stateless")
# how a host line names its port's options
TAGGED_HOSTS = "set:port-"


@dataclass(frozen=True)
class Options:
    """What the host's settings add to a network's DHCP."""

    lease_seconds: int = 86400
    dns_servers: tuple[str, ...] = ()
    isolated_metadata: bool = True


@dataclass(frozen=True)
class Config:
    argv: tuple[str, ...]
    hosts: str
    opts: str
    addn_hosts: str


def served(subnet: DhcpSubnet) -> bool:
    """Whether dnsmasq hands out addresses on the subnet (IPv4, DHCPv6 modes)."""
    return subnet.ip_version == 4 or subnet.ipv6_address_mode in IPV6_DHCP_MODES


def server_address(dhcp: Dhcp, subnet_id: str) -> str | None:
    """The DHCP port's address on a subnet."""
    for ip in dhcp.port.fixed_ips if dhcp.port else ():
        if ip.subnet_id == subnet_id:
            return ip.ip_address
    return None


def metadata_isolated(dhcp: Dhcp, options: Options) -> bool:
    """Whether the DHCP port serves metadata: some IPv4 subnet has no router."""
    return options.isolated_metadata and any(
        s.ip_version == 4 and not s.routed and server_address(dhcp, s.id)
        for s in dhcp.subnets)


def _range(subnet: DhcpSubnet, lease: int) -> str:
    net = ipaddress.ip_network(subnet.cidr)
    if net.version == 4:
        return f"set:subnet-{subnet.id},{net.network_address},static,{net.netmask},{lease}s"
    return f"set:subnet-{subnet.id},{net.network_address},static,{net.prefixlen},{lease}s"


def argv(dhcp: Dhcp, directory: Path, interface: str, options: Options) -> tuple[str, ...]:
    """dnsmasq's command line (a change of it restarts dnsmasq)."""
    subnets = [s for s in dhcp.subnets if served(s)]
    upstream = ([f"--server={s}" for s in options.dns_servers] if options.dns_servers
                else ["--no-resolv"])
    leases = sum(ipaddress.ip_network(s.cidr).num_addresses if s.ip_version == 4
                 else 2 ** 16 for s in subnets)
    return ("dnsmasq", "--no-hosts", *upstream, "--conf-file=/dev/null",
            f"--pid-file={directory / 'pid'}", f"--dhcp-hostsfile={directory / 'host'}",
            f"--addn-hosts={directory / 'addn_hosts'}", f"--dhcp-optsfile={directory / 'opts'}",
            f"--dhcp-leasefile={directory / 'leases'}", "--dhcp-authoritative",
            f"--log-facility={directory / 'dnsmasq.log'}",
            "--bind-interfaces", f"--interface={interface}", "--except-interface=lo",
            "--user=root", f"--domain={dhcp.dns_domain.rstrip('.')}",
            f"--dhcp-lease-max={min(leases, 2 ** 24)}",
            *(f"--dhcp-range={_range(s, options.lease_seconds)}" for s in subnets))


def sighup_crashes(read: str, hosts: str) -> bool:
    """Whether a SIGHUP would kill dnsmasq: 2.90 crashes re-reading its hosts file
    once a host with a ``set:`` tag has had a lease, whether the new file keeps,
    moves or drops the tags. A change then restarts it instead."""
    return TAGGED_HOSTS in read or TAGGED_HOSTS in hosts


def _ip(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def host_lines(dhcp: Dhcp) -> list[str]:
    """One reservation per port address on a served subnet:
    ``mac,[set:port-<id>,]address,host name`` (the tag only for ports with
    options of their own)."""
    nets = [(ipaddress.ip_network(s.cidr), s) for s in dhcp.subnets if served(s)]
    out = []
    for host in dhcp.hosts:
        tag = f"{TAGGED_HOSTS}{host.port_id}," if host.options else ""
        for address in host.ip_addresses:
            if any(ipaddress.ip_address(address) in net for net, _ in nets):
                out.append(f"{host.mac_address},{tag}{_ip(address)},{host.hostname}")
    return out


def addn_host_lines(dhcp: Dhcp) -> list[str]:
    """The network's names for dnsmasq's DNS: ``address fqdn name``."""
    domain = dhcp.dns_domain.rstrip(".")
    return [f"{address} {host.hostname}.{domain} {host.hostname}"
            for host in dhcp.hosts for address in host.ip_addresses]


def routes(dhcp: Dhcp, subnet: DhcpSubnet, options: Options) -> list[tuple[str, str]]:
    """The classless static routes (destination, next hop) of an IPv4 subnet."""
    out = [(r.destination, r.nexthop) for r in subnet.host_routes]
    out += [(s.cidr, "0.0.0.0") for s in dhcp.subnets
            if s.ip_version == 4 and s.id != subnet.id]
    server = server_address(dhcp, subnet.id)
    if options.isolated_metadata and not subnet.routed and server:
        out.append((f"{METADATA_IP}/32", server))
    if subnet.gateway_ip and not any(d == "0.0.0.0/0" for d, _ in out):
        out.append(("0.0.0.0/0", subnet.gateway_ip))
    return out


def _subnet_opts(dhcp: Dhcp, subnet: DhcpSubnet, options: Options) -> list[str]:
    tag = f"tag:subnet-{subnet.id}"
    server = server_address(dhcp, subnet.id)
    dns = list(subnet.dns_nameservers) or ([server] if server else [])
    if subnet.ip_version == 6:
        return [f"{tag},option6:dns-server,{','.join(_ip(d) for d in dns)}"] if dns else []
    out = [f"{tag},option:dns-server,{','.join(dns)}"] if dns else []
    out.append(f"{tag},option:router,{subnet.gateway_ip}" if subnet.gateway_ip
               else f"{tag},option:router")
    out.append(f"{tag},option:mtu,{dhcp.mtu}")
    found = routes(dhcp, subnet, options)
    if found:
        flat = ",".join(f"{d},{n}" for d, n in found)
        out += [f"{tag},option:classless-static-route,{flat}", f"{tag},249,{flat}"]
    return out


def _port_opts(host: DhcpHost) -> list[str]:
    out = []
    for o in host.options:
        name = o.name if o.name.isdigit() else ("option6:" if o.ip_version == 6
                                                 else "option:") + o.name
        out.append(f"tag:port-{host.port_id},{name},{o.value}")
    return out


def render(dhcp: Dhcp, directory: Path, interface: str, options: Options) -> Config:
    opts = [line for s in dhcp.subnets if served(s) for line in _subnet_opts(dhcp, s, options)]
    opts += [line for h in dhcp.hosts for line in _port_opts(h)]
    return Config(argv=argv(dhcp, directory, interface, options),
                  hosts="".join(f"{ln}\n" for ln in host_lines(dhcp)),
                  opts="".join(f"{ln}\n" for ln in opts),
                  addn_hosts="".join(f"{ln}\n" for ln in addn_host_lines(dhcp)))


@dataclass(frozen=True)
class Lease:
    """An IPv4 lease in dnsmasq's lease file."""

    ip: str
    mac: str
    client_id: str          # "*" when the client sent none


def leases_of(text: str) -> list[Lease]:
    """The IPv4 leases of a lease file (``expiry mac address name client-id``); the
    DHCPv6 ones after the ``duid`` line have no MAC and are not read."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] == "duid" or ":" in fields[2]:
            continue
        out.append(Lease(fields[2], fields[1].lower(), fields[4] if len(fields) > 4 else "*"))
    return out


def stale_leases(text: str, dhcp: Dhcp) -> list[Lease]:
    """Leases no port holds any more (the port went, or its address or MAC changed).
    dnsmasq keeps a lease until it expires and will not give its address to another
    MAC meanwhile, so an address handed to a new port must be released first (as
    Neutron's DHCP agent does)."""
    held = {(host.mac_address.lower(), address) for host in dhcp.hosts
            for address in host.ip_addresses}
    return [lease for lease in leases_of(text) if (lease.mac, lease.ip) not in held]


def without(text: str, leases: list[Lease]) -> str:
    """The lease file without ``leases`` (for a dnsmasq about to start)."""
    gone = {(lease.mac, lease.ip) for lease in leases}
    kept = [line for line in text.splitlines()
            if not ((f := line.split()) and len(f) >= 3 and (f[1].lower(), f[2]) in gone)]
    return "".join(line + "\n" for line in kept)
