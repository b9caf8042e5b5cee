"""What the driver applied that the kernel cannot tell back, kept per host in
``<state_dir>/linuxbridge/<host>.json``: the ports plugged (their state, for the
firewall rules made from them, and the firewall mark each has), and the networks
(their bridge and segment device, and the digest applied when the bridge is not
the driver's own, as a mapped bridge is).

Kernel objects carry their own tags (``names.Tag``); these records never make an
object exist: the inventory looks at the kernel first.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nubo.network.agent.driver import DriverError
from nubo.network.agent.state import (
    AddressPair,
    Firewall,
    FixedIp,
    Port,
    Rule,
    SecurityGroup,
    as_dict,
    digest_of,
)

MAX_MARK = 0xFFF


def port_from_dict(d: dict[str, Any]) -> Port:
    return Port(**{**d, "fixed_ips": tuple(FixedIp(**f) for f in d["fixed_ips"]),
                   "allowed_address_pairs": tuple(AddressPair(**a)
                                                  for a in d["allowed_address_pairs"]),
                   "security_group_ids": tuple(d["security_group_ids"])})


def firewall_from_dict(d: dict[str, Any]) -> Firewall:
    return Firewall(
        groups=tuple(SecurityGroup(g["id"], g["stateful"], tuple(Rule(**r) for r in g["rules"]))
                     for g in d["groups"]),
        members={k: tuple(v) for k, v in d["members"].items()},
        address_groups={k: tuple(v) for k, v in d["address_groups"].items()})


@dataclass
class PortRecord:
    port: Port
    digest: str
    # the port's number in the firewall's packet marks (1..4095)
    mark: int


@dataclass
class NetworkRecord:
    digest: str
    bridge: str
    # the segment device on the bridge (vxlan-N, eth1.100, eth1), None for none
    uplink: str | None
    # whether the driver made the bridge (False: a mapped bridge it only uses)
    own_bridge: bool = True


@dataclass
class Records:
    path: Path
    ports: dict[str, PortRecord] = field(default_factory=dict)
    networks: dict[str, NetworkRecord] = field(default_factory=dict)
    # the security groups last synced, and their digest
    firewall: Firewall | None = None

    @property
    def firewall_digest(self) -> str | None:
        return digest_of(self.firewall) if self.firewall is not None else None

    @classmethod
    def load(cls, path: Path) -> Records:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(path)
        firewall = raw.get("firewall")
        return cls(path,
                   ports={k: PortRecord(port_from_dict(v["port"]), v["digest"], v["mark"])
                          for k, v in raw.get("ports", {}).items()},
                   networks={k: NetworkRecord(**v) for k, v in raw.get("networks", {}).items()},
                   firewall=firewall_from_dict(firewall) if firewall else None)

    def save(self) -> None:
        data = {"ports": {k: {"port": as_dict(r.port), "digest": r.digest, "mark": r.mark}
                          for k, r in self.ports.items()},
                "networks": {k: {"digest": r.digest, "bridge": r.bridge, "uplink": r.uplink,
                                 "own_bridge": r.own_bridge}
                             for k, r in self.networks.items()},
                "firewall": as_dict(self.firewall) if self.firewall is not None else None}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def free_mark(self) -> int:
        used = {r.mark for r in self.ports.values()}
        for mark in range(1, MAX_MARK + 1):
            if mark not in used:
                return mark
        raise DriverError(f"more than {MAX_MARK} ports on one host")
