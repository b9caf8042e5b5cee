"""The Linux bridge driver's records survive a write and a read."""

from __future__ import annotations

from pathlib import Path

from nubo.network.agent.linuxbridge.records import NetworkRecord, PortRecord, Records
from nubo.network.agent.state import (
    AddressPair,
    Firewall,
    FixedIp,
    Port,
    Rule,
    SecurityGroup,
    digest_of,
)

PORT = Port("p1", "n1", "fa:16:3e:00:00:05", (FixedIp("s", "10.0.0.5", "10.0.0.0/24"),), True,
            1450, "compute:nova", "vm", True, (AddressPair("10.0.0.9", "fa:16:3e:00:00:09"),),
            ("g1",))
FIREWALL = Firewall((SecurityGroup("g1", True, (Rule("r", "ingress", "IPv4", "tcp", 22, 22,
                                                     None, "g1", None),)),),
                    {"g1": ("10.0.0.5",)}, {"ag": ("192.0.2.0/24",)})


def test_records_round_trip(tmp_path: Path) -> None:
    records = Records(tmp_path / "host.json")
    records.ports["p1"] = PortRecord(PORT, digest_of(PORT), records.free_mark())
    records.networks["n1"] = NetworkRecord("d", "brqn1", "vxlan-7")
    records.firewall = FIREWALL
    records.save()
    again = Records.load(tmp_path / "host.json")
    assert again.ports["p1"].port == PORT and again.ports["p1"].mark == 1
    assert again.networks["n1"] == NetworkRecord("d", "brqn1", "vxlan-7", True)
    assert again.firewall == FIREWALL
    assert again.firewall_digest == digest_of(FIREWALL)
    assert again.free_mark() == 2
    assert Records.load(tmp_path / "none.json").ports == {}
