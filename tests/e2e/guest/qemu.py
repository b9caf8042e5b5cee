"""Plain QEMU (TCG) for the guest image tests: a guest on a tap in a namespace,
its serial console in a file, and a QMP socket to press its power button."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Guest:
    name: str
    workdir: Path
    netns: str
    tap: str
    mac: str
    boot: list[str]                  # -kernel/-initrd/-append, or nothing (disk boot)
    drives: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def console(self) -> Path:
        return self.workdir / f"{self.name}.console"

    @property
    def qmp_path(self) -> Path:
        return self.workdir / f"{self.name}.qmp"

    def command(self) -> list[str]:
        cmd = ["ip", "netns", "exec", self.netns, "qemu-system-x86_64",
               "-machine", "pc", "-accel", "tcg", "-m", "256", "-smp", "1",
               "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-serial", f"file:{self.console}",
               "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
               "-netdev", f"tap,id=n0,ifname={self.tap},script=no,downscript=no",
               "-device", f"virtio-net-pci,netdev=n0,mac={self.mac}"]
        for drive in self.drives:
            cmd += ["-drive", drive]
        return cmd + self.boot + self.extra

    def start(self) -> None:
        log = (self.workdir / f"{self.name}.qemu.log").open("ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL)

    def text(self) -> str:
        return self.console.read_text(errors="replace") if self.console.exists() else ""

    def wait_for(self, marker: str, timeout: float) -> str:
        """The console once it shows ``marker``; AssertionError (with the console)
        when it does not in time or QEMU ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if marker in text:
                return text
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: no {marker!r} on the console after "
                             f"{timeout:.0f} s:\n{self.text()[-4000:]}")

    def qmp(self, command: str) -> dict[str, object]:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(self.qmp_path))
            reader = s.makefile("r")
            json.loads(reader.readline())  # the greeting
            for execute in ("qmp_capabilities", command):
                s.sendall(json.dumps({"execute": execute}).encode() + b"\n")
                while True:
                    reply: dict[str, object] = json.loads(reader.readline())
                    if "return" in reply or "error" in reply:
                        break
            return reply

    def wait_exit(self, timeout: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
