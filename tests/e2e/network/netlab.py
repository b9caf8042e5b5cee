"""A small lab for the data-plane tests: namespaces standing in for hosts and
guests, veth pairs standing in for a guest's tap, and commands run inside them.
Everything made here is removed by ``Lab.cleanup`` (fixtures call it)."""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DHCP_SCRIPT = """#!/bin/sh
# udhcpc hook: configure the lease and print what came with it, one line
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
  ip addr flush dev "$interface"
  ip addr add "$ip/${mask:-24}" dev "$interface"
  [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
  if [ -n "$staticroutes" ]; then
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$interface"
      else ip route replace "$1" via "$2" dev "$interface"; fi
      shift 2
    done
  else
    for r in $router; do ip route replace default via "$r" dev "$interface"; done
  fi
  echo "LEASE ip=$ip mask=$mask router=$router dns=$dns mtu=$mtu domain=$domain" \\
       "hostname=$hostname lease=$lease ntpsrv=$ntpsrv staticroutes=$staticroutes"
  ;;
esac
exit 0
"""


def sh(*argv: str, check: bool = True, timeout: float = 30, input: str | None = None
       ) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                            input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: rc={result.returncode} "
                             f"{result.stderr.strip()} {result.stdout.strip()}")
    return result


def in_ns(ns: str | None, *argv: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return sh(*(["ip", "netns", "exec", ns] if ns else []), *argv, **kw)


def links(ns: str | None = None) -> dict[str, dict[str, Any]]:
    out = in_ns(ns, "ip", "-j", "-d", "link", "show").stdout
    return {d["ifname"]: d for d in json.loads(out)}


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30,
             interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@dataclass
class Guest:
    """A namespace with one interface (``eth0``) whose other end is a port's tap."""

    ns: str
    host_ns: str | None
    tap: str
    mac: str

    def run(self, *argv: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return in_ns(self.ns, *argv, **kw)

    def ping(self, address: str, count: int = 1, wait: float = 2) -> bool:
        return self.run("ping", "-c", str(count), "-W", str(wait), "-q", address,
                        check=False).returncode == 0

    def address(self, cidr: str) -> None:
        self.run("ip", "addr", "add", cidr, "dev", "eth0")

    def dhcp(self, script: Path, hostname: str = "") -> str:
        """Ask for a lease (busybox udhcpc); the LEASE line the hook printed."""
        args = ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "6", "-T", "2",
                "-s", str(script), "-O", "mtu", "-O", "staticroutes", "-O", "domain"]
        if hostname:
            args += ["-x", f"hostname:{hostname}"]
        out = self.run(*args, check=False, timeout=60)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("LEASE")]
        assert lines, f"no DHCP lease: {out.stdout} {out.stderr}"
        return lines[-1]


@dataclass
class Lab:
    prefix: str = field(default_factory=lambda: "nb" + secrets.token_hex(2))
    namespaces: list[str] = field(default_factory=list)
    devices: list[tuple[str | None, str]] = field(default_factory=list)
    dhcp_script: Path | None = None

    def name(self, what: str) -> str:
        return f"{self.prefix}{what}"[:15]

    def netns(self, what: str) -> str:
        ns = self.name(what)
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        in_ns(ns, "ip", "link", "set", "lo", "up")
        return ns

    def guest(self, what: str, port: dict[str, Any], host_ns: str | None = None) -> Guest:
        """A guest namespace plugged into ``port``'s tap (made in ``host_ns``)."""
        ns = self.netns(what)
        tap = "tap" + port["id"][:11]
        self.devices.append((host_ns, tap))
        sh("ip", "link", "add", tap, *(["netns", host_ns] if host_ns else []), "type", "veth",
           "peer", "name", "eth0", "netns", ns)
        in_ns(ns, "ip", "link", "set", "eth0", "address", port["mac_address"], "up")
        return Guest(ns, host_ns, tap, port["mac_address"])

    def cleanup(self) -> None:
        for ns, dev in reversed(self.devices):
            in_ns(ns, "ip", "link", "del", dev, check=False)
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "pids", ns, check=False)
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", ns, check=False)
        self.devices.clear()
        self.namespaces.clear()


def scrub(owner: str) -> list[str]:
    """Remove whatever a cloud's network driver left (its tagged devices, its
    namespaces with their processes, its firewall tables); what was removed."""
    tag = f"nubo:{owner}:"
    gone: list[str] = []
    for ns in [None, *json_list(sh("ip", "-j", "netns", "list", check=False).stdout)]:
        try:
            found = links(ns)
        except AssertionError:
            continue
        lo_alias = found.get("lo", {}).get("ifalias", "") or ""
        if ns and lo_alias.startswith(tag):
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", ns, check=False)
            gone.append(f"netns {ns}")
            continue
        for name, dev in found.items():
            if (dev.get("ifalias") or "").startswith(tag):
                in_ns(ns, "ip", "link", "del", name, check=False)
                gone.append(f"{ns or 'root'}:{name}")
        for table in nft_tables(ns):
            if owner in table:
                in_ns(ns, "nft", "delete", "table", *table.split(), check=False)
                gone.append(f"{ns or 'root'}:table {table}")
    return gone


def scrub_state(state_dir: Path) -> list[str]:
    """``scrub`` for the cloud (or agent) of ``state_dir``, if it ever made its owner tag."""
    path = state_dir / "owner"
    return scrub(path.read_text().strip()) if path.exists() else []


def json_list(out: str) -> list[str]:
    return [d["name"] for d in json.loads(out)] if out.strip() else []


def nft_tables(ns: str | None = None) -> list[str]:
    """``family name`` of each nftables table in ``ns``."""
    out = in_ns(ns, "nft", "-j", "list", "tables", check=False).stdout
    if not out.strip():
        return []
    return [f"{t['table']['family']} {t['table']['name']}"
            for t in json.loads(out).get("nftables", []) if "table" in t]


class Listener:
    """A TCP server in a namespace that answers each connection with the peer's
    address (what it saw as the source), for NAT and firewall tests."""

    def __init__(self, ns: str, port: int) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "socat", f"TCP-LISTEN:{port},fork,reuseaddr",
             "SYSTEM:echo $SOCAT_PEERADDR"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for(f"a listener on {port} in {ns}", lambda: f":{port} " in in_ns(
            ns, "ss", "-ltn").stdout, timeout=10)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Ticker:
    """A TCP server in a namespace that writes a line every 0.2 s to whoever
    connects, however quiet the client (``Ticker.serve``); and a client holding one
    such connection open, noting when each line arrives."""

    def __init__(self, proc: subprocess.Popen[str], *, reader: bool) -> None:
        self.proc = proc
        self.arrived: list[float] = []
        if reader:
            threading.Thread(target=self._read, daemon=True).start()

    @classmethod
    def serve(cls, ns: str, port: int) -> Ticker:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "socat", f"TCP-LISTEN:{port},fork,reuseaddr",
             "SYSTEM:while echo tick; do sleep 0.2; done"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True)
        wait_for(f"a ticker on {port} in {ns}", lambda: f":{port} " in in_ns(
            ns, "ss", "-ltn").stdout, timeout=10)
        return cls(proc, reader=False)

    @classmethod
    def connect(cls, ns: str, address: str, port: int) -> Ticker:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "socat", "-u",
                                 f"TCP:{address}:{port}", "-"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        made = cls(proc, reader=True)
        wait_for(f"ticks from {address}:{port}", lambda: made.arrived, timeout=10)
        return made

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            self.arrived.append(time.monotonic())

    def since(self, moment: float) -> int:
        return sum(1 for t in self.arrived if t > moment)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def connect(ns: str, address: str, port: int, timeout: float = 3) -> str | None:
    """What a ``Listener`` at ``address:port`` answered a connection from ``ns``
    (None when it could not connect)."""
    out = in_ns(ns, "socat", f"-T{timeout}", "-", f"TCP:{address}:{port},"
                f"connect-timeout={timeout}", check=False, timeout=timeout + 10, input="")
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def opens(ns: str, address: str, port: int, timeout: float = 1) -> bool:
    """Whether a TCP connection from ``ns`` to ``address:port`` opens (closed at
    once, whatever the server sends)."""
    return in_ns(ns, "socat", "-u", "/dev/null", f"TCP:{address}:{port},"
                 f"connect-timeout={timeout}", check=False,
                 timeout=timeout + 10).returncode == 0


HTTP_GET = """
import sys, urllib.error, urllib.request
data = sys.argv[2].encode() if len(sys.argv) > 2 else None
try:
    with urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=data),
                                timeout=5) as r:
        print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
"""


def http_get(ns: str, url: str, post: str | None = None) -> tuple[int, str]:
    """``GET url`` (``POST`` with a body ``post``) from inside ``ns``: the status and
    the body (0 when no answer)."""
    import sys

    data = [] if post is None else [post]
    out = in_ns(ns, sys.executable, "-c", HTTP_GET, url, *data, check=False, timeout=20)
    if out.returncode != 0 or not out.stdout:
        return 0, out.stderr
    status, _, body = out.stdout.partition("\n")
    return int(status), body
