"""The all-in-one's public network: `nubo up` made the bridge with the gateway
address (the floating-IP range on-link), the guard that forwards nothing between
it and the host's other interfaces, and the shared external network with its
subnet and pool."""

from __future__ import annotations

import json

from tests.e2e.network.conftest import Net
from tests.e2e.network.netlab import in_ns, links, nft_tables, sh


def test_public_bridge_and_network(net: Net) -> None:
    bridge = net.public_bridge
    cidr, hosts = net.public_cidr, list(net.public_cidr.hosts())
    assert links()[bridge]["linkinfo"]["info_kind"] == "bridge"
    addrs = json.loads(sh("ip", "-j", "addr", "show", "dev", bridge).stdout)[0]["addr_info"]
    assert {f"{hosts[0]}/24"} <= {f"{a['local']}/{a['prefixlen']}" for a in addrs}
    assert f"{cidr} dev {bridge}" in sh("ip", "route").stdout
    table = f"nubo-{net.owner}-public"
    assert f"inet {table}" in nft_tables()
    rules = in_ns(None, "nft", "list", "table", "inet", table).stdout
    assert f'iifname "{bridge}" oifname != "{bridge}" drop' in rules
    conn = net.conn()
    public = net.public()
    assert public.is_router_external and public.is_shared
    assert public.provider_network_type == "flat"
    assert public.provider_physical_network == "public"
    subnet = conn.network.get_subnet(public.subnet_ids[0])
    assert subnet.cidr == str(cidr) and subnet.gateway_ip == str(hosts[0])
    assert not subnet.is_dhcp_enabled
    assert subnet.allocation_pools == [{"start": str(hosts[1]), "end": str(hosts[-1])}]
    # a member sees it as an external network
    demo = net.cloud.connect("nubo")
    assert demo.network.find_network("public").id == public.id
