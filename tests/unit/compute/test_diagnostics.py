"""Diagnostics documents from a driver's reading: the 2.48 one (every field Tempest's
schema requires, Nova's state names) and the older flat one; the bus round trip."""

from __future__ import annotations

from nubo.compute.diagnostics import Disk, Nic, Reading, legacy, standard
from nubo.compute.states import PowerState

READING = Reading(
    state=PowerState.PAUSED, driver="libvirt", hypervisor="qemu", num_cpus=2,
    memory_max_mib=512, memory_used_mib=256, cpu_times_ns=[10, 20],
    nics=[Nic(mac="fa:16:3e:00:00:01", device="tapabc", rx_octets=5, rx_packets=1,
              rx_errors=0, rx_drop=0, tx_octets=7, tx_packets=2, tx_errors=0, tx_drop=0)],
    disks=[Disk("vda", read_bytes=100, read_requests=3, write_bytes=50, write_requests=1,
                errors=0), Disk("hdd")],
)


def test_standard_document() -> None:
    doc = standard(READING, config_drive=True)
    assert doc["state"] == "paused" and doc["driver"] == "libvirt"
    assert doc["num_cpus"] == 2 and doc["num_nics"] == 1 and doc["num_disks"] == 2
    assert doc["memory_details"] == {"maximum": 512, "used": 256}
    assert doc["cpu_details"] == [{"id": 0, "time": 10, "utilisation": None},
                                  {"id": 1, "time": 20, "utilisation": None}]
    nic = doc["nic_details"][0]
    assert nic["mac_address"] == "fa:16:3e:00:00:01" and nic["rx_octets"] == 5
    assert nic["tx_packets"] == 2 and nic["rx_rate"] is None and len(nic) == 11
    assert doc["disk_details"][0] == {"read_bytes": 100, "read_requests": 3,
                                      "write_bytes": 50, "write_requests": 1,
                                      "errors_count": 0}
    assert doc["disk_details"][1]["read_bytes"] is None
    assert doc["config_drive"] is True and doc["uptime"] is None
    stopped = Reading(PowerState.SHUTDOWN, "libvirt", "kvm", 1, 64, None)
    assert standard(stopped, config_drive=False)["state"] == "shutdown"
    assert standard(Reading(PowerState.NOSTATE, "libvirt", None, 1, None, None),
                    config_drive=False)["state"] == "pending"


def test_legacy_document() -> None:
    doc = legacy(READING)
    assert doc["cpu0_time"] == 10 and doc["cpu1_time"] == 20
    assert doc["memory"] == 512 * 1024 and doc["memory-actual"] == 256 * 1024
    assert doc["vda_read"] == 100 and doc["vda_write_req"] == 1 and doc["vda_errors"] == 0
    assert doc["tapabc_rx"] == 5 and doc["tapabc_tx"] == 7 and doc["tapabc_rx_drop"] == 0


def test_bus_round_trip() -> None:
    again = Reading.from_dict(READING.to_dict())
    assert again == READING
