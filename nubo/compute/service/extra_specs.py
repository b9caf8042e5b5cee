"""Flavor extra spec validation (microversion 2.86): keys in a namespace we know
must be known keys with valid values; keys of other namespaces pass unchecked."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from nubo.core.errors import BadRequest

Check = Callable[[str], bool]
KEY_FORMAT = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
_BOOLS = {"1", "0", "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"}


def one_of(*values: str) -> Check:
    return lambda v: v in values


def integer(minimum: int = 0) -> Check:
    return lambda v: bool(re.fullmatch(r"-?\d+", v.strip())) and int(v) >= minimum


def boolean(v: str) -> bool:
    return v.strip().lower() in _BOOLS


def anything(v: str) -> bool:
    return True


_PAGE = re.compile(r"^(small|large|any|\d+(KB|MB|GB|kb|mb|gb|K|M|G)?)$")
HW: dict[str, Check] = {
    "cpu_policy": one_of("dedicated", "shared", "mixed"),
    "cpu_thread_policy": one_of("prefer", "isolate", "require"),
    "emulator_threads_policy": one_of("share", "isolate"),
    "cpu_sockets": integer(1), "cpu_cores": integer(1), "cpu_threads": integer(1),
    "cpu_max_sockets": integer(1), "cpu_max_cores": integer(1), "cpu_max_threads": integer(1),
    "cpu_realtime": boolean, "cpu_realtime_mask": anything, "cpu_dedicated_mask": anything,
    "numa_nodes": integer(1), "mem_page_size": lambda v: bool(_PAGE.match(v)),
    "watchdog_action": one_of("none", "pause", "poweroff", "reset", "disabled"),
    "hide_hypervisor_id": boolean, "boot_menu": boolean, "pmu": boolean,
    "vif_multiqueue_enabled": boolean, "mem_encryption": boolean,
    "pci_numa_affinity_policy": one_of("required", "preferred", "legacy", "socket"),
    "serial_port_count": integer(0), "tpm_version": one_of("1.2", "2.0"),
    "tpm_model": one_of("tpm-tis", "tpm-crb"), "virtio_packed_ring": boolean,
    "locked_memory": boolean, "vpmem": anything, "cpu_model": anything,
    "viommu_model": one_of("intel", "smmuv3", "virtio", "auto"), "maxphysaddr_mode":
    one_of("emulate", "passthrough"), "maxphysaddr_bits": integer(1),
    "ephemeral_encryption": boolean, "ephemeral_encryption_format": one_of("luks"),
    "cpu_mode": one_of("none", "host-model", "host-passthrough", "custom"),
    "vif_model": anything, "video_model": anything, "rescue_bus": anything,
    "rescue_device": anything, "machine_type": anything, "firmware_type": anything,
    "tpm_secret_security": one_of("user", "host", "deployment"),
}
HW_PATTERNS: dict[str, Check] = {r"numa_cpus\.\d+": anything, r"numa_mem\.\d+": integer(1),
                                 r"cpu_realtime_mask": anything}
HW_RNG: dict[str, Check] = {"allowed": boolean, "rate_bytes": integer(0),
                            "rate_period": integer(0)}
QUOTA: dict[str, Check] = {
    name: integer(0) for name in (
        "cpu_shares", "cpu_period", "cpu_quota", "cpu_limit", "cpu_reservation",
        "disk_read_bytes_sec", "disk_read_iops_sec", "disk_write_bytes_sec",
        "disk_write_iops_sec", "disk_total_bytes_sec", "disk_total_iops_sec",
        "vif_inbound_average", "vif_inbound_peak", "vif_inbound_burst",
        "vif_outbound_average", "vif_outbound_peak", "vif_outbound_burst",
        "memory_limit", "memory_reservation", "disk_io_limit", "disk_io_reservation",
        "disk_io_shares_share", "memory_shares_share", "cpu_shares_share",
        "vif_limit", "vif_reservation", "vif_shares_share")
}
QUOTA.update({"cpu_shares_level": one_of("custom", "high", "normal", "low"),
              "memory_shares_level": one_of("custom", "high", "normal", "low"),
              "disk_io_shares_level": one_of("custom", "high", "normal", "low"),
              "vif_shares_level": one_of("custom", "high", "normal", "low")})
OS: dict[str, Check] = {"secure_boot": one_of("required", "disabled", "optional"),
                        "monitors": integer(1)}
HW_VIDEO: dict[str, Check] = {"ram_max_mb": integer(0)}
ACCEL: dict[str, Check] = {"device_profile": anything}
NAMESPACES: dict[str, dict[str, Check]] = {
    "hw": HW, "hw_rng": HW_RNG, "quota": QUOTA, "os": OS, "hw_video": HW_VIDEO,
    "accel": ACCEL,
}
_TRAIT = re.compile(r"^trait[a-zA-Z0-9_-]*:[A-Z0-9_]+$")
_RESOURCE = re.compile(r"^resources[a-zA-Z0-9_-]*:[A-Z0-9_]+$")


def check_key_format(key: str) -> None:
    if not KEY_FORMAT.match(key):
        raise BadRequest(f"Invalid input for field/attribute extra_specs. Value: {key}. "
                         f"{key!r} does not match '^[a-zA-Z0-9-_:. ]{{1,255}}$'")


def _known(key: str, value: str) -> bool | None:
    """True/False for a key we know (valid or not); None for a free namespace."""
    prefix = key.split(":", 1)[0]
    if ":" in key and re.fullmatch(r"trait[a-zA-Z0-9_-]*", prefix):
        return bool(_TRAIT.match(key)) and value in ("required", "forbidden")
    if ":" in key and re.fullmatch(r"resources[a-zA-Z0-9_-]*", prefix):
        return bool(_RESOURCE.match(key)) and integer(0)(value)
    if key.startswith("aggregate_instance_extra_specs:") or key.startswith("capabilities:"):
        return True
    if re.fullmatch(r"group_policy", key):
        return value in ("none", "isolate")
    namespace, _, name = key.partition(":")
    checks = NAMESPACES.get(namespace)
    if checks is None or not name:
        return None
    if name in checks:
        return checks[name](value)
    if namespace == "hw":
        for pattern, check in HW_PATTERNS.items():
            if re.fullmatch(pattern, name):
                return check(value)
    return False


def validate(specs: Mapping[str, str]) -> None:
    """Refuse unknown keys of known namespaces and bad values of known keys."""
    for key, value in specs.items():
        verdict = _known(key, value)
        if verdict is False:
            raise BadRequest(f"Validation failed; extra spec {key}={value!r} is not valid: "
                             "unknown key or invalid value for a known namespace.")
