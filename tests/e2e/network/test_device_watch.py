"""The Linux bridge driver tells the agent about a port whose tap it wired, also
when the tap came while the agent was looking at the host for something else.

A sync of other objects lists the host's links too; it once took a tap it saw
there for one already reported, so the watch's own news of that tap was dropped
and the port stayed DOWN (its server never got network-vif-plugged). Driven on the
driver itself, in a namespace of its own, to make that order certain."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from nubo.core.config import NetworkSettings
from nubo.network.agent.linuxbridge import names
from nubo.network.agent.linuxbridge.driver import LinuxBridgeDriver
from nubo.network.agent.state import Network, Port, Segment
from tests.e2e.network.netlab import Lab, in_ns, links, scrub_state


def _port(network_id: str) -> Port:
    return Port(id=str(uuid.uuid4()), network_id=network_id, mac_address="fa:16:3e:00:12:34",
                fixed_ips=(), admin_state_up=True, mtu=1450, device_owner="compute:nova",
                device_id=str(uuid.uuid4()), port_security_enabled=False,
                allowed_address_pairs=(), security_group_ids=())


async def _tap_during_another_look(ns: str, state: Path) -> tuple[list[frozenset[str]], Port]:
    driver = LinuxBridgeDriver("nb-watch", NetworkSettings(), state, netns=ns,
                               local_ip="10.250.250.1")
    told: list[frozenset[str]] = []
    driver.listen(told.append)
    await driver.start()
    try:
        network = Network(id=str(uuid.uuid4()), mtu=1450, admin_state_up=True,
                          segments=(Segment("vxlan", None, 4242),))
        await driver.ensure_network(network)
        port = _port(network.id)
        await driver.plug_port(port)                # no tap yet: not wired
        assert not (await driver.inventory()).ports[port.id].wired
        # the tap comes (blocking the loop: the watch reads of it only afterwards)
        in_ns(ns, "ip", "tuntap", "add", "dev", names.tap(port.id), "mode", "tap")
        await driver.inventory()                    # another sync's look at the host
        for _ in range(100):
            if any(port.id in ids for ids in told):
                break
            await asyncio.sleep(0.05)
        return told, port
    finally:
        await driver.stop()


def test_a_tap_seen_first_by_another_sync_is_still_reported(lab: Lab) -> None:
    ns = lab.netns("dw")
    in_ns(ns, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
    in_ns(ns, "ip", "addr", "add", "10.250.250.1/24", "dev", "eth0")
    in_ns(ns, "ip", "link", "set", "eth0", "up")
    with tempfile.TemporaryDirectory(prefix="nubo-e2e-watch-") as tmp:
        try:
            told, port = asyncio.run(_tap_during_another_look(ns, Path(tmp)))
            assert any(port.id in ids for ids in told), f"the agent was told of {told}"
            tap = links(ns)[names.tap(port.id)]
            assert tap["master"] == names.bridge(port.network_id)
        finally:
            scrub_state(Path(tmp))
