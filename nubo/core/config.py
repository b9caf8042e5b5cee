"""Typed settings: environment > file > defaults; unknown keys are refused.

The file is TOML (``nubo.toml`` in the state dir, or ``--config``). Each table is
one section below; environment variables ``NUBO_<SECTION>__<KEY>`` override it
(``NUBO_API__PORT=5000``). Anything not declared here is an error at start-up,
because a misspelt option that silently does nothing is worse than a crash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nubo.core.errors import ConfigError

DEFAULT_STATE_DIR = Path("~/.local/share/nubo").expanduser()


@dataclass
class CoreSettings:
    state_dir: str = str(DEFAULT_STATE_DIR)
    log_level: str = "INFO"
    # "json" for structured logs, "text" for humans at a terminal
    log_format: str = "json"
    enabled_services: list[str] = field(
        default_factory=lambda: ["identity", "image", "placement", "compute", "network"])


@dataclass
class DatabaseSettings:
    # empty: sqlite file nubo.db in the state dir
    connection: str = ""
    pool_size: int = 5
    echo: bool = False
    # SQLite only: run each connection in a thread of its own (aiosqlite) instead of
    # on the event loop; slower, but a wait for another process's lock blocks nothing
    sqlite_threads: bool = False


@dataclass
class BusSettings:
    # inproc:// in the all-in-one; amqp://user:pass@host:5672/vhost in production
    url: str = "inproc://"


@dataclass
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8780
    # the URL clients reach; empty: http://<host>:<port>
    public_url: str = ""
    max_request_body_size: int = 114688
    workers: int = 1
    # how long an idle client connection stays open (the reference services keep
    # theirs 900 s): a server closing one as a client reuses it fails that request
    keep_alive_timeout: int = 75


@dataclass
class IdentitySettings:
    token_expiration: int = 3600
    # keys live in <state_dir>/fernet-keys unless set
    key_repository: str = ""
    max_active_keys: int = 3
    # how long a validated token is cached in each API process
    cache_time: int = 300
    allow_expired_window: int = 172800
    password_hash_algorithm: str = "argon2id"
    # 0: the algorithm's default work factor
    password_hash_rounds: int = 0
    list_limit: int = 0
    # security compliance (Keystone's [security_compliance])
    lockout_failure_attempts: int = 0
    lockout_duration: int = 1800
    unique_last_password_count: int = 0
    minimum_password_age: int = 0
    password_expires_days: int = 0
    password_regex: str = ""
    password_regex_description: str = ""
    change_password_upon_first_use: bool = False
    disable_user_account_days_inactive: int = 0
    # how many times a trust may be redelegated (Keystone's [trust])
    max_redelegation_count: int = 3
    # LDAP domains may also be configured through /v3/domains/{id}/config (Keystone's
    # [identity] domain_configurations_from_database); see docs/identity.md
    domain_configurations_from_database: bool = False
    # domain id -> ldap settings table, see docs/identity.md
    domain_ldap: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Keystone's [identity_mapping] backward_compatible_ids: users and groups of an LDAP
    # default domain keep their directory ids as public ids (other domains' are hashed)
    backward_compatible_ids: bool = True


@dataclass
class ImageSettings:
    # empty: <state_dir>/images
    store_dir: str = ""
    # per-project quotas, Glance's unified-limits names; -1: unlimited
    image_count_total: int = -1
    image_count_uploading: int = -1
    # MiB
    image_size_total: int = -1
    image_stage_total: int = -1
    # read the quotas from identity's unified limits (registered defaults and project
    # limits of the "image" service) instead of the four values above, as Glance's
    # use_keystone_limits; a resource with no limit there is unlimited
    use_keystone_limits: bool = False
    # seconds without progress after which an upload or import is taken for dead
    # (its process crashed) and the image is given back (see docs/image.md)
    stale_transfer_after: int = 600


@dataclass
class PolicySettings:
    # YAML file of rule overrides; empty: <state_dir>/policy.yaml when it exists
    override_file: str = ""


@dataclass
class AuditSettings:
    # empty: <state_dir>/audit.log
    log_file: str = ""
    enabled: bool = True


@dataclass
class SchedulerSettings:
    # applied in this order; the names appear in "No valid host" messages
    enabled_filters: list[str] = field(default_factory=lambda: [
        "ComputeFilter", "AvailabilityZoneFilter", "ResourcesFilter",
        "ImagePropertiesFilter", "ServerGroupAntiAffinityFilter",
        "ServerGroupAffinityFilter", "SameHostFilter", "DifferentHostFilter"])
    # positive spreads instances over hosts, negative packs them
    ram_weight_multiplier: float = 1.0
    cpu_weight_multiplier: float = 0.0
    disk_weight_multiplier: float = 1.0
    num_instances_weight_multiplier: float = 0.0
    soft_affinity_weight_multiplier: float = 1.0
    soft_anti_affinity_weight_multiplier: float = 1.0
    # pick at random among the best N hosts
    host_subset_size: int = 1
    shuffle_best_same_weighed_hosts: bool = False
    # one selected host plus max_attempts - 1 alternates per instance
    max_attempts: int = 3
    default_availability_zone: str = "nova"


@dataclass
class ComputeSettings:
    # the compute driver of this process's agents: "fake" or "libvirt"
    driver: str = "fake"
    # fake hypervisors run in-process by the all-in-one: fake-host-1..N
    fake_hosts: int = 1
    fake_vcpus: int = 16
    fake_memory_mb: int = 32768
    fake_disk_gb: int = 500
    # seconds each fake operation takes, by name: {"spawn": 0.05, "destroy": 0.01}
    fake_delays: dict[str, float] = field(default_factory=dict)
    # hosts on which every fake spawn fails (tests force reschedules with it)
    fake_fail_spawn_on_hosts: list[str] = field(default_factory=list)
    # seconds between agent heartbeats; a service silent for service_down_time is down
    report_interval: float = 10.0
    service_down_time: float = 60.0
    # seconds a call that needs an agent's answer (console output) waits for it
    agent_call_timeout: float = 10.0
    # spawn attempts of one build (first host plus alternates) before ERROR
    max_build_attempts: int = 3
    # resize may pick the server's own host (Nova's option; a one-host cloud needs it)
    allow_resize_to_same_host: bool = False
    # the guest image nubo builds from Debian packages (docs/guest-image.md): "auto"
    # builds and registers it at `nubo up` when driver is libvirt, "always", "never";
    # built into guest_image_cache (default ~/.cache/nubo/guest-image)
    guest_image: str = "auto"
    guest_image_cache: str = ""
    # seconds a SHELVED server keeps its host before it is offloaded: 0 at once
    # (Nova's default), -1 never (only shelveOffload does it); a positive time is
    # checked every shelved_poll_interval seconds
    shelved_offload_time: int = 0
    shelved_poll_interval: float = 3600.0
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_host_cpus: int = 0
    reserved_host_memory_mb: int = 512
    reserved_host_disk_mb: int = 0
    enable_instance_password: bool = True
    default_availability_zone: str = "nova"
    internal_service_availability_zone: str = "internal"
    # > 0: deleted servers are kept SOFT_DELETED (restore, forceDelete) and reclaimed
    # after this many seconds, by a task that runs as often
    reclaim_instance_interval: int = 0
    max_list_limit: int = 1000
    # default quotas of every project ([compute] quota_<resource>; -1: unlimited)
    quota_instances: int = 10
    quota_cores: int = 20
    quota_ram: int = 51200
    quota_key_pairs: int = 100
    quota_server_groups: int = 10
    quota_server_group_members: int = 10
    quota_metadata_items: int = 128
    quota_injected_files: int = 5
    quota_injected_file_content_bytes: int = 10240
    quota_injected_file_path_bytes: int = 255
    # seconds a spawn waits for networking's network-vif-plugged events of the server's
    # ports (0: no wait); whether a timeout (or a failed event) fails the build
    vif_plugging_timeout: float = 300.0
    vif_plugging_is_fatal: bool = True
    # whether the fake driver waits for them as libvirt does (the all-in-one's network
    # agents plug the ports of every fake host; Nova's fake driver does not wait)
    fake_wait_for_vif_plugged: bool = True
    # the libvirt driver (docs/compute.md, "libvirt driver"): "qemu" (TCG) or "kvm"
    # (probed at start; falls back to qemu, saying why)
    virt_type: str = "qemu"
    libvirt_uri: str = "qemu:///system"
    # guest disks, base-image cache and console logs: <instances_path>/<host>/
    # (default <state_dir>/instances)
    instances_path: str = ""
    # seconds a guest may take to power off cleanly (ACPI) before it is destroyed; an
    # image's os_shutdown_timeout property overrides it
    shutdown_timeout: float = 60.0
    # always give guests a config drive (otherwise only when the request asks)
    force_config_drive: bool = False
    # seconds between an agent's checks of its guests' power states against the
    # servers' (a guest that powered itself off makes its server SHUTOFF); <= 0: only
    # when the agent starts
    sync_power_state_interval: float = 600.0
    # each agent audits its instances' usage once per period (hour, day, month or
    # year): a compute.instance.exists notification for every instance that was on
    # the host in the last completed period, and a record the
    # os-instance_usage_audit_log API reports
    instance_usage_audit: bool = False
    instance_usage_audit_period: Literal["hour", "day", "month", "year"] = "month"
    # seconds between an agent's looks for a period it has not audited yet
    instance_usage_audit_check_interval: float = 60.0


@dataclass
class NetworkSettings:
    """``[network]``: the Neutron API's ranges, MTUs, limits and default quotas."""

    # the underlay's MTU; a network's MTU is this minus its overlay's headers
    global_physnet_mtu: int = 1500
    physical_network_mtus: dict[str, int] = field(default_factory=dict)
    # the type of networks projects create, and the ranges of ids per type
    tenant_network_types: list[str] = field(default_factory=lambda: ["vxlan"])
    vxlan_vni_ranges: list[str] = field(default_factory=lambda: ["1:65535"])
    # "physnet" (any VLAN on it, admins only) or "physnet:first:last" (also for projects)
    network_vlan_ranges: list[str] = field(default_factory=lambda: ["public"])
    flat_networks: list[str] = field(default_factory=lambda: ["*"])
    base_mac: str = "fa:16:3e:00:00:00"
    dns_domain: str = "openstacklocal"
    max_dns_nameservers: int = 5
    max_subnet_host_routes: int = 20
    # static routes per router (extraroute)
    max_routes: int = 30
    # -1: no maximum page size
    pagination_max_limit: int = -1
    agent_down_time: float = 75.0
    # the data plane of this process's network agents: "fake" or "linuxbridge"
    agent_driver: str = "fake"
    # linuxbridge: the VXLAN underlay address of this host (empty: the source
    # address of the host's route towards 1.0.0.0, found by a route lookup)
    local_ip: str = ""
    # linuxbridge: physical network -> host interface its flat networks use (its
    # VLAN networks use <interface>.<vid>), and physical network -> an existing
    # bridge used as is (the all-in-one's public network)
    physical_interface_mappings: dict[str, str] = field(default_factory=dict)
    bridge_mappings: dict[str, str] = field(default_factory=dict)
    # linuxbridge: more hosts on this machine, each a network namespace with a Linux
    # bridge agent of its own: {"host-b": {"netns": "nbhostb", "local_ip": "172.31.250.12"}}
    netns_hosts: dict[str, dict[str, str]] = field(default_factory=dict)
    # linuxbridge DHCP: lease time (s), upstream DNS servers dnsmasq forwards to
    # (none: it answers only the network's own names), metadata through the DHCP
    # port on networks without a router
    dhcp_lease_duration: int = 86400
    dnsmasq_dns_servers: list[str] = field(default_factory=list)
    enable_isolated_metadata: bool = True
    # linuxbridge, all-in-one: the external network `nubo up` makes, a bridge on the
    # host with the subnet's gateway address (empty public_cidr: none is made)
    public_bridge: str = "br-ex"
    public_cidr: str = "172.24.4.0/24"
    public_network_name: str = "public"
    # seconds between network agent heartbeats (Neutron's report_interval)
    agent_report_interval: float = 30.0
    # seconds a network agent leaves between the starts of two syncs: events arriving
    # meanwhile are synced together (an idle agent syncs at once)
    agent_sync_gap: float = 0.05
    # fake network hosts: seconds each driver operation takes, by name
    # ({"plug_port": 0.05}), and the hosts on which an operation fails
    # ({"plug_port": ["fake-host-2"]})
    fake_delays: dict[str, float] = field(default_factory=dict)
    fake_failures: dict[str, list[str]] = field(default_factory=dict)
    default_availability_zones: list[str] = field(default_factory=list)
    # default quotas of every project (-1: unlimited)
    quota_network: int = 100
    quota_subnet: int = 100
    quota_port: int = 500
    quota_router: int = 10
    quota_floatingip: int = 50
    quota_security_group: int = 10
    quota_security_group_rule: int = 100
    quota_rbac_policy: int = 10
    quota_subnetpool: int = -1
    quota_address_scope: int = -1


@dataclass
class Settings:
    core: CoreSettings = field(default_factory=CoreSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    bus: BusSettings = field(default_factory=BusSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    image: ImageSettings = field(default_factory=ImageSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    compute: ComputeSettings = field(default_factory=ComputeSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)

    @property
    def state_path(self) -> Path:
        return Path(self.core.state_dir).expanduser()

    @property
    def database_url(self) -> str:
        return self.database.connection or f"sqlite:///{self.state_path / 'nubo.db'}"

    @property
    def public_url(self) -> str:
        return (self.api.public_url or f"http://{self.api.host}:{self.api.port}").rstrip("/")

    @property
    def key_repository(self) -> Path:
        return Path(self.identity.key_repository or self.state_path / "fernet-keys")


ENV_PREFIX = "NUBO_"


def load_settings(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build settings from defaults, then the TOML file, then the environment,
    then explicit overrides (command-line flags)."""
    environ = os.environ if environ is None else environ
    data: dict[str, dict[str, Any]] = {}
    if path is not None:
        data = _read_toml(path)
    _merge(data, _from_environ(environ))
    _merge(data, {k: dict(v) for k, v in (overrides or {}).items()})
    settings: Settings = _build(Settings, data, "")
    return settings


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"configuration file {path} does not exist") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"configuration file {path}: {e}") from e
    for section, value in raw.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: top-level key {section!r} must be a [table]")
    return raw


def _from_environ(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        out.setdefault(section, {})[key] = value
    return out


def _merge(into: dict[str, dict[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> None:
    for section, values in new.items():
        into.setdefault(section, {}).update(values)


def _build(cls: type[Any], data: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown configuration key(s) {sorted(unknown)} in [{where or 'top'}]")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        key = f"{where}.{name}" if where else name
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise ConfigError(f"[{key}] must be a table")
            kwargs[name] = _build(hint, value, key)  # type: ignore[arg-type]
        else:
            kwargs[name] = _coerce(value, hint, key)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _coerce(value, next(a for a in typing.get_args(hint) if a is not type(None)), key)
    if origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        choices = ", ".join(map(str, typing.get_args(hint)))
        raise ConfigError(f"configuration key {key}: {value!r} is not one of {choices}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        truthy, falsy = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
        if isinstance(value, str) and value.lower() in truthy + falsy:
            return value.lower() in truthy
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is list:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            return [_coerce(v, typing.get_args(hint)[0], key) for v in value]
    elif origin is dict:
        if isinstance(value, str):
            # from the environment: a JSON object, NUBO_COMPUTE__FAKE_DELAYS='{"spawn": 1}'
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if isinstance(value, Mapping):
            return dict(value)
    raise ConfigError(f"configuration key {key}: {value!r} is not a valid {hint}")
