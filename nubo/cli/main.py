"""``nubo``: the operator's command.

    nubo up [--foreground] [--data-plane auto|real|fake]
                                start the all-in-one cloud (background by default)
    nubo status                 is it running, and where
    nubo down                   stop it
    nubo db upgrade             bring the database schema up to date
    nubo identity rotate-keys   rotate the Fernet token keys
    nubo identity rotate-credential-keys / migrate-credentials
                                rotate the credential keys / re-encrypt under the primary
    nubo guest-image build      build the guest image from Debian packages (cached)
    nubo agent network --host H [--netns NS --local-ip IP]
                                run host H's network agent (Linux bridge) on its own
    nubo agent compute --host H [--netns NS]
                                run host H's compute agent on its own
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from nubo.core.config import DEFAULT_STATE_DIR, Settings, load_settings
from nubo.core.errors import ConfigError, NuboError


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, dict[str, Any]] = {}
    state = Path(args.state_dir or os.environ.get("NUBO_CORE__STATE_DIR") or DEFAULT_STATE_DIR)
    overrides["core"] = {"state_dir": str(state.expanduser().resolve())}
    if getattr(args, "port", None):
        overrides["api"] = {"port": args.port}
    if getattr(args, "host", None):
        overrides.setdefault("api", {})["host"] = args.host
    config = Path(args.config) if args.config else state / "nubo.toml"
    return load_settings(config if args.config or config.exists() else None,
                         overrides=overrides)


def new_password() -> str:
    """16 URL-safe random characters, never starting with "-": a command line
    (``openstack --os-password -x…``, argparse) would take the password for an option."""
    while (made := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return made


def _secrets(settings: Settings, admin_password: str | None) -> dict[str, str]:
    """Bootstrap passwords: made once, kept in the state dir (0600)."""
    path = settings.state_path / "secrets.json"
    data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    if admin_password and data.get("admin_password") != admin_password:
        data["admin_password"] = admin_password
        data["reset"] = "1"
        changed = True
    for key in ("admin_password", "demo_password"):
        if key not in data:
            data[key] = new_password()
            changed = True
    if changed:
        settings.state_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(json.dumps(data))
        path.chmod(0o600)
    return data


def _pid(settings: Settings) -> int | None:
    path = settings.state_path / "nubo.pid"
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def cmd_up(args: argparse.Namespace) -> int:
    from nubo.cli import clouds, data_plane

    settings = _settings(args)
    mode = args.data_plane or data_plane.recorded(settings)
    if mode:
        chosen, why = data_plane.choose(mode)
        if why:
            print(f"nubo: fake compute and network drivers: the real data plane {why}")
        data_plane.apply(settings, chosen)
        data_plane.record(settings, chosen)  # a later `nubo up` keeps it
        args.data_plane = chosen            # what a background start passes on
    settings.state_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = _secrets(settings, args.admin_password)
    clouds.write_clouds_yaml(settings, data["admin_password"], data["demo_password"])
    clouds.write_openrc(settings, "admin", data["admin_password"], "admin")
    clouds.write_openrc(settings, "demo", data["demo_password"], "demo")
    if args.foreground:
        return _foreground(settings, data) if _guest_image(settings) else 1
    if _pid(settings):
        print(f"nubo is already running (pid {_pid(settings)}) at {_url(settings)}")
        _print_next(settings)
        return 0
    return _background(args, settings) if _guest_image(settings) else 1


def _guest_image(settings: Settings) -> bool:
    """Build the guest image before the cloud starts, when it wants one (the cloud
    registers it); False when it must and cannot."""
    from nubo.guest import build, cloud

    if not cloud.wanted(settings):
        return True
    try:
        build.build(cloud.cache_dir(settings), progress=print)
    except build.BuildFailed as e:
        print(f"nubo: {e.message}", file=sys.stderr)
        return settings.compute.guest_image != "always"
    return True


def _foreground(settings: Settings, data: dict[str, str]) -> int:
    from nubo.cli.launcher import Accounts, run, serve

    pid_file = settings.state_path / "nubo.pid"
    # where this process answers, for `nubo status` (which may not be told the port)
    (settings.state_path / "nubo.url").write_text(settings.public_url)
    accounts = Accounts(data["admin_password"], data["demo_password"], bool(data.get("reset")))
    try:
        run(serve(settings, accounts, ready=pid_file))
    finally:
        if pid_file.exists() and pid_file.read_text().strip() == str(os.getpid()):
            pid_file.unlink()
    if data.get("reset"):
        data.pop("reset")
        (settings.state_path / "secrets.json").write_text(json.dumps(data))
    return 0


def _background(args: argparse.Namespace, settings: Settings) -> int:
    from nubo.cli import data_plane

    log_path = settings.state_path / "nubo.log"
    cmd = [sys.executable, "-m", "nubo.cli.main", "up", "--foreground",
           "--state-dir", str(settings.state_path)]
    if args.config:
        cmd += ["--config", args.config]
    if args.port:
        cmd += ["--port", str(args.port)]
    if args.host:
        cmd += ["--host", args.host]
    if args.data_plane:
        cmd += ["--data-plane", args.data_plane]
    pid_file = settings.state_path / "nubo.pid"
    pid_file.unlink(missing_ok=True)
    with log_path.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    # libvirtd's first probe of QEMU takes about a minute on a fresh host under TCG
    wait = 300 if data_plane.is_real(settings) else 60
    if data_plane.is_real(settings):
        print("starting with the real data plane (libvirt/QEMU guests, Linux bridges)")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"nubo failed to start; see {log_path}", file=sys.stderr)
            print(_tail(log_path), file=sys.stderr)
            return 1
        if pid_file.exists() and _healthy(settings):
            print(f"nubo is running (pid {proc.pid}) at {settings.public_url}")
            _print_next(settings)
            return 0
        time.sleep(0.05)
    print(f"nubo did not come up within {wait} s; see {log_path}", file=sys.stderr)
    return 1


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def _url(settings: Settings) -> str:
    """Where the running cloud answers: what it recorded, else what the settings say."""
    try:
        return (settings.state_path / "nubo.url").read_text().strip() or settings.public_url
    except FileNotFoundError:
        return settings.public_url


def _healthy(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(f"{_url(settings)}/identity/v3", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _print_next(settings: Settings) -> None:
    state = settings.state_path
    print(f"""
  clouds.yaml: {state / 'clouds.yaml'}   (clouds: nubo = demo user, nubo-admin = admin)
  openrc:      {state / 'openrc-admin'}, {state / 'openrc-demo'}

Next:
  export OS_CLIENT_CONFIG_FILE={state / 'clouds.yaml'}
  openstack --os-cloud nubo-admin project list
  openstack --os-cloud nubo token issue

Stop with `nubo down`; logs in {state / 'nubo.log'}, audit trail in {state / 'audit.log'}.""")
    from nubo.cli import data_plane

    if data_plane.is_real(settings):
        print("""
Servers are QEMU guests on Linux bridges; floating IPs come from the network `public`.
A server you can ssh into: README.md, "A server you can ssh into".""")


def cmd_down(args: argparse.Namespace) -> int:
    settings = _settings(args)
    pid = _pid(settings)
    if pid is None:
        print("nubo is not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print(f"nubo stopped (pid {pid})")
            return 0
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    print(f"nubo killed (pid {pid}) after 10 s")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    pid = _pid(settings)
    if pid is None:
        print("nubo is not running")
        return 3
    health = "answering" if _healthy(settings) else "NOT answering"
    print(f"nubo is running (pid {pid}) at {_url(settings)}: {health}")
    print(f"services: {', '.join(settings.core.enabled_services)}")
    print(f"state dir: {settings.state_path}")
    return 0 if health == "answering" else 1


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from nubo.core.db import migrate
    from nubo.core.db.engine import Database

    settings = _settings(args)

    async def go() -> None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
        finally:
            await db.close()

    asyncio.run(go())
    print("database is up to date")
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    from nubo.identity.fernet import KeyRepository

    settings = _settings(args)
    repo = KeyRepository(settings.key_repository)
    repo.setup()
    primary = repo.rotate(settings.identity.max_active_keys)
    print(f"rotated Fernet keys in {settings.key_repository}: new primary key {primary}")
    return 0


def cmd_rotate_credential_keys(args: argparse.Namespace) -> int:
    from nubo.core.db import migrate
    from nubo.core.db.engine import Database
    from nubo.identity.service import credentials

    settings = _settings(args)

    async def go() -> int:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            return await credentials.rotate_keys(
                db, credentials.key_repository(settings), settings.identity.max_active_keys)
        finally:
            await db.close()

    try:
        primary = asyncio.run(go())
    except NuboError as e:
        print(f"nubo: {e.message}", file=sys.stderr)
        return 1
    print(f"rotated the credential keys: new primary key {primary}")
    return 0


def cmd_migrate_credentials(args: argparse.Namespace) -> int:
    from nubo.core.db import migrate
    from nubo.core.db.engine import Database
    from nubo.identity.service import credentials

    settings = _settings(args)

    async def go() -> int:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            repo = credentials.key_repository(settings)
            repo.setup()
            return await credentials.migrate_to_primary(db, repo)
        finally:
            await db.close()

    print(f"re-encrypted {asyncio.run(go())} credential(s) with the primary key")
    return 0


def cmd_guest_image_build(args: argparse.Namespace) -> int:
    from nubo.guest import build, cloud

    settings = _settings(args)
    cache = Path(args.cache_dir) if args.cache_dir else cloud.cache_dir(settings)
    try:
        image = build.build(cache, force=args.force, progress=print)
    except build.BuildFailed as e:
        print(f"nubo: {e.message}", file=sys.stderr)
        return 1
    kind = "ELF, PVH entry" if image.kernel_format == "pvh" else "bzImage"
    print(f"""
  kernel:       {image.kernel}  ({kind}; kernel {image.kernel_release})
  ramdisk:      {image.ramdisk}
  disk:         {image.disk}  (qcow2, boots on its own through syslinux)
  command line: {image.command_line}""")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nubo", description="A private cloud in one package.")
    p.add_argument("--state-dir", help=f"state directory (default {DEFAULT_STATE_DIR})")
    p.add_argument("--config", help="TOML configuration file (default <state-dir>/nubo.toml)")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the all-in-one cloud")
    up.add_argument("--foreground", action="store_true", help="do not detach")
    up.add_argument("--port", type=int)
    up.add_argument("--host")
    up.add_argument("--admin-password", help="set (or reset) the admin password")
    up.add_argument("--data-plane", choices=("auto", "real", "fake"),
                    help="real: libvirt guests on Linux bridges; fake: no guest runs; "
                         "auto: real when this machine can (default: the configuration)")
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop the all-in-one cloud").set_defaults(func=cmd_down)
    sub.add_parser("status", help="is the cloud running").set_defaults(func=cmd_status)
    db = sub.add_parser("db", help="database operations").add_subparsers(dest="db_cmd",
                                                                        required=True)
    db.add_parser("upgrade", help="migrate the schema").set_defaults(func=cmd_db_upgrade)
    ident = sub.add_parser("identity", help="identity operations").add_subparsers(
        dest="identity_cmd", required=True)
    ident.add_parser("rotate-keys", help="rotate Fernet keys").set_defaults(func=cmd_rotate_keys)
    ident.add_parser("rotate-credential-keys", help="rotate the credential encryption keys"
                     ).set_defaults(func=cmd_rotate_credential_keys)
    ident.add_parser("migrate-credentials", help="re-encrypt credentials with the primary key"
                     ).set_defaults(func=cmd_migrate_credentials)
    guest = sub.add_parser("guest-image", help="the guest image nubo builds").add_subparsers(
        dest="guest_cmd", required=True)
    gbuild = guest.add_parser("build", help="build the guest image from Debian packages "
                              "(unless cached)")
    gbuild.add_argument("--force", action="store_true", help="build even when cached")
    gbuild.add_argument("--cache-dir", help="where builds are kept (default [compute] "
                        "guest_image_cache, or ~/.cache/nubo/guest-image)")
    gbuild.set_defaults(func=cmd_guest_image_build)
    agent = sub.add_parser("agent", help="run a host's agent").add_subparsers(
        dest="agent_cmd", required=True)
    netagent = agent.add_parser("network", help="a host's network agent (Linux bridge), "
                                "sharing the cloud's database and bus")
    netagent.add_argument("--host", dest="agent_host", required=True, help="the host's name")
    netagent.add_argument("--netns", help="a network namespace standing in for the host")
    netagent.add_argument("--local-ip", default="", help="the host's VXLAN underlay address")
    netagent.set_defaults(func=cmd_agent_network)
    cagent = agent.add_parser("compute", help="a host's compute agent ([compute] driver), "
                              "sharing the cloud's database and bus")
    cagent.add_argument("--host", dest="agent_host", required=True, help="the host's name")
    cagent.add_argument("--netns", help="a network namespace standing in for the host")
    cagent.set_defaults(func=cmd_agent_compute)
    for sp in (up,):
        sp.add_argument("--state-dir", dest="state_dir_sub", help=argparse.SUPPRESS)
    return p


def cmd_agent_network(args: argparse.Namespace) -> int:
    from nubo.cli.agents import network_agent
    from nubo.cli.launcher import run

    settings = _settings(args)
    run(network_agent(settings, args.agent_host, netns=args.netns, local_ip=args.local_ip))
    return 0


def cmd_agent_compute(args: argparse.Namespace) -> int:
    from nubo.cli.agents import compute_agent
    from nubo.cli.launcher import run

    run(compute_agent(_settings(args), args.agent_host, netns=args.netns))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "state_dir_sub", None):
        args.state_dir = args.state_dir_sub
    for name in ("port", "host", "admin_password", "foreground"):
        if not hasattr(args, name):
            setattr(args, name, None)
    try:
        return int(args.func(args))
    except ConfigError as e:
        print(f"nubo: configuration error: {e.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
