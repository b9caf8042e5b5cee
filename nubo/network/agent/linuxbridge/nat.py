"""A router's nftables table (``ip nubo`` in its ``qrouter-`` namespace), rendered
from its state: floating IPs as 1:1 DNAT/SNAT between the gateway and the fixed
address, port forwardings as DNAT of a protocol and port, SNAT of the interface
subnets to the gateway address when ``enable_snat``, masquerading of traffic that
inside hosts send to a floating IP of their own router (hairpin), and the
metadata address redirected to the proxy. Pure: the text ``nft -f`` loads, in
one transaction that replaces the table."""

from __future__ import annotations

import ipaddress

from nubo.network.agent.linuxbridge import names
from nubo.network.agent.state import PortForwarding, Router

TABLE = "nubo"
METADATA_IP = "169.254.169.254"
METADATA_PORT = 9697


def gateway_address(router: Router) -> str | None:
    """The router's IPv4 address on the external network (SNAT's source)."""
    for ip in router.gateway.fixed_ips if router.gateway else ():
        if ipaddress.ip_address(ip.ip_address).version == 4:
            return ip.ip_address
    return None


def internal_cidrs(router: Router) -> list[str]:
    return sorted({ip.cidr for leg in router.interfaces for ip in leg.fixed_ips
                   if ipaddress.ip_network(ip.cidr).version == 4})


def _forwarding(pf: PortForwarding) -> list[str]:
    """One DNAT per external port (a range maps port by port)."""
    proto = pf.protocol.lower()
    out = []
    for offset in range(pf.external_port_end - pf.external_port_start + 1):
        internal = min(pf.internal_port_start + offset, pf.internal_port_end)
        out.append(f"ip daddr {pf.floating_ip_address} {proto} dport "
                   f"{pf.external_port_start + offset} dnat to "
                   f"{pf.internal_ip_address}:{internal}")
    return out


def _set(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def rules(router: Router, *, metadata: bool) -> tuple[list[str], list[str], list[str]]:
    """The prerouting, output and postrouting rules."""
    pre: list[str] = []
    if metadata and router.interfaces:
        pre.append(f'iifname "{names.ROUTER_IF}*" ip daddr {METADATA_IP} tcp dport 80 '
                   f"redirect to :{METADATA_PORT}")
    post: list[str] = []
    out: list[str] = []
    gateway = names.router_gateway(router.gateway.id) if router.gateway else None
    for f in router.floating_ips:
        pre.append(f"ip daddr {f.floating_ip_address} dnat to {f.fixed_ip_address}")
        out.append(f"ip daddr {f.floating_ip_address} dnat to {f.fixed_ip_address}")
    for pf in router.port_forwardings:
        pre.extend(_forwarding(pf))
    inside = internal_cidrs(router)
    if inside:
        post.append(f'ct status dnat oifname "{names.ROUTER_IF}*" ip saddr {_set(inside)} '
                    "masquerade")
    if gateway:
        for f in router.floating_ips:
            post.append(f'oifname "{gateway}" ip saddr {f.fixed_ip_address} '
                        f"snat to {f.floating_ip_address}")
        source = gateway_address(router)
        if router.enable_snat and source and inside:
            post.append(f'oifname "{gateway}" ip saddr {_set(inside)} snat to {source}')
    return pre, out, post


def render(router: Router, *, metadata: bool) -> str:
    """``nft -f`` input that replaces the router's table."""
    pre, out, post = rules(router, metadata=metadata)

    def chain(name: str, hook: str, priority: str, body: list[str]) -> str:
        lines = "".join(f"\t\t{r}\n" for r in body)
        return (f"\tchain {name} {{\n\t\ttype nat hook {hook} priority {priority}; "
                f"policy accept;\n{lines}\t}}\n")

    return (f"table ip {TABLE} {{}}\ndelete table ip {TABLE}\n"
            f"table ip {TABLE} {{\n"
            + chain("prerouting", "prerouting", "dstnat", pre)
            + chain("output", "output", "-100", out)
            + chain("postrouting", "postrouting", "srcnat", post)
            + "}\n")
