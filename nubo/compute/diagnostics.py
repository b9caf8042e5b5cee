"""A server's diagnostics (``GET /servers/{id}/diagnostics``), as Nova gives them.

A driver reports what its hypervisor knows (``Reading``); ``standard`` makes the
document of microversion 2.48 and later, the same fields for every driver, and
``legacy`` the older one, whose keys were the libvirt driver's own (``cpu0_time``,
``memory``, ``vda_read``, ``tap…_rx`` …). Pure: readings in, documents out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nubo.compute.states import PowerState

# the states and drivers the 2.48 document may name
STATES = {
    PowerState.NOSTATE: "pending", PowerState.RUNNING: "running",
    PowerState.PAUSED: "paused", PowerState.SHUTDOWN: "shutdown",
    PowerState.CRASHED: "crashed", PowerState.SUSPENDED: "suspended",
}


@dataclass
class Nic:
    mac: str | None
    device: str                     # the host side's device, e.g. the tap
    rx_octets: int | None = None
    rx_packets: int | None = None
    rx_errors: int | None = None
    rx_drop: int | None = None
    tx_octets: int | None = None
    tx_packets: int | None = None
    tx_errors: int | None = None
    tx_drop: int | None = None


@dataclass
class Disk:
    device: str                     # the guest's name for it, e.g. vda
    read_bytes: int | None = None
    read_requests: int | None = None
    write_bytes: int | None = None
    write_requests: int | None = None
    errors: int | None = None


@dataclass
class Reading:
    """What one driver read of one guest."""

    state: PowerState
    # Nova's enumeration has no "fake": the fake driver reports itself as libvirt, as
    # Nova's does, with hypervisor "fake"
    driver: str
    hypervisor: str | None
    num_cpus: int
    memory_max_mib: int | None
    memory_used_mib: int | None
    cpu_times_ns: list[int | None] = field(default_factory=list)
    nics: list[Nic] = field(default_factory=list)
    disks: list[Disk] = field(default_factory=list)
    uptime_s: int | None = None
    hypervisor_os: str | None = "linux"

    def to_dict(self) -> dict[str, Any]:
        """For the bus."""
        return {
            "state": int(self.state), "driver": self.driver, "hypervisor": self.hypervisor,
            "hypervisor_os": self.hypervisor_os, "num_cpus": self.num_cpus,
            "memory_max_mib": self.memory_max_mib, "memory_used_mib": self.memory_used_mib,
            "cpu_times_ns": list(self.cpu_times_ns), "uptime_s": self.uptime_s,
            "nics": [vars(n) for n in self.nics], "disks": [vars(d) for d in self.disks],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reading:
        return cls(
            state=PowerState(int(d["state"])), driver=str(d["driver"]),
            hypervisor=d.get("hypervisor"), hypervisor_os=d.get("hypervisor_os"),
            num_cpus=int(d["num_cpus"]), memory_max_mib=d.get("memory_max_mib"),
            memory_used_mib=d.get("memory_used_mib"),
            cpu_times_ns=list(d.get("cpu_times_ns") or []), uptime_s=d.get("uptime_s"),
            nics=[Nic(**n) for n in d.get("nics") or []],
            disks=[Disk(**x) for x in d.get("disks") or []],
        )


def standard(r: Reading, *, config_drive: bool) -> dict[str, Any]:
    """The document of 2.48 and later."""
    return {
        "state": STATES.get(r.state, "pending"),
        "driver": r.driver,
        "hypervisor": r.hypervisor,
        "hypervisor_os": r.hypervisor_os,
        "uptime": r.uptime_s,
        "config_drive": config_drive,
        "num_cpus": r.num_cpus,
        "num_nics": len(r.nics),
        "num_disks": len(r.disks),
        "memory_details": {"maximum": r.memory_max_mib, "used": r.memory_used_mib},
        "cpu_details": [{"id": i, "time": t, "utilisation": None}
                        for i, t in enumerate(r.cpu_times_ns)],
        "nic_details": [{
            "mac_address": n.mac, "rx_octets": n.rx_octets, "rx_errors": n.rx_errors,
            "rx_drop": n.rx_drop, "rx_packets": n.rx_packets, "rx_rate": None,
            "tx_octets": n.tx_octets, "tx_errors": n.tx_errors, "tx_drop": n.tx_drop,
            "tx_packets": n.tx_packets, "tx_rate": None,
        } for n in r.nics],
        "disk_details": [{
            "read_bytes": d.read_bytes, "read_requests": d.read_requests,
            "write_bytes": d.write_bytes, "write_requests": d.write_requests,
            "errors_count": d.errors,
        } for d in r.disks],
    }


def legacy(r: Reading) -> dict[str, Any]:
    """The document before 2.48: the libvirt driver's flat keys (memory in KiB)."""
    out: dict[str, Any] = {}
    for i, t in enumerate(r.cpu_times_ns):
        out[f"cpu{i}_time"] = t
    if r.memory_max_mib is not None:
        out["memory"] = r.memory_max_mib * 1024
    if r.memory_used_mib is not None:
        out["memory-actual"] = r.memory_used_mib * 1024
    for d in r.disks:
        out.update({f"{d.device}_read": d.read_bytes, f"{d.device}_read_req": d.read_requests,
                    f"{d.device}_write": d.write_bytes,
                    f"{d.device}_write_req": d.write_requests,
                    f"{d.device}_errors": d.errors})
    for n in r.nics:
        out.update({f"{n.device}_rx": n.rx_octets, f"{n.device}_rx_packets": n.rx_packets,
                    f"{n.device}_rx_errors": n.rx_errors, f"{n.device}_rx_drop": n.rx_drop,
                    f"{n.device}_tx": n.tx_octets, f"{n.device}_tx_packets": n.tx_packets,
                    f"{n.device}_tx_errors": n.tx_errors, f"{n.device}_tx_drop": n.tx_drop})
    return out
