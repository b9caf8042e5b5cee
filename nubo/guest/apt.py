"""The Debian packages the guest is made of, through apt's own tools.

``apt-cache show`` says which version apt would install and its checksum (that is
what the build's cache key is made of); ``apt-get download`` fetches the .deb from
the machine's configured sources (a local mirror when offline) and
``dpkg-deb -x`` unpacks it. Nothing is installed on the host.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class AptError(RuntimeError):
    """apt could not say, fetch or unpack what the guest needs."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    filename: str          # the .deb's name in the pool
    sha256: str
    depends: tuple[str, ...] = ()

    @property
    def deb_name(self) -> str:
        return Path(self.filename).name


def parse_stanza(text: str) -> dict[str, str]:
    """The fields of one ``apt-cache show`` stanza (continuation lines joined)."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def dependency_names(field: str) -> list[str]:
    """Package names a Depends field asks for: the first of each set of
    alternatives, without versions or architecture qualifiers."""
    names = []
    for clause in field.split(","):
        first = clause.split("|")[0].strip()
        name = re.split(r"[\s(:\[]", first, maxsplit=1)[0]
        if name:
            names.append(name)
    return names


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise AptError(f"{cmd[0]} is not installed (the guest is built from Debian "
                       "packages, on a Debian or Ubuntu host)") from None
    if done.returncode != 0:
        raise AptError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def show(names: Iterable[str]) -> dict[str, Package]:
    """The candidate version of each package, as apt would install it."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    out = _run(["apt-cache", "show", "--no-all-versions", *wanted])
    found: dict[str, Package] = {}
    for stanza in out.split("\n\n"):
        fields = parse_stanza(stanza)
        if "Package" not in fields or fields["Package"] in found:
            continue
        deps = dependency_names(fields.get("Pre-Depends", "")) + dependency_names(
            fields.get("Depends", ""))
        found[fields["Package"]] = Package(
            fields["Package"], fields["Version"], fields["Filename"], fields["SHA256"],
            tuple(deps))
    missing = set(wanted) - set(found)
    if missing:
        raise AptError(f"apt knows no candidate for {sorted(missing)}")
    return found


def closure(roots: Iterable[str]) -> dict[str, Package]:
    """The packages and everything they depend on, recursively."""
    found: dict[str, Package] = {}
    pending = set(roots)
    while pending:
        batch = show(pending)
        found.update(batch)
        pending = {d for p in batch.values() for d in p.depends} - set(found)
    return found


def kernel_of(meta: Package) -> str:
    """The versioned kernel package a metapackage (linux-image-amd64) points at."""
    for name in meta.depends:
        if name.startswith("linux-image-") and name != meta.name:
            return name
    raise AptError(f"{meta.name} depends on no linux-image package")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(pkg: Package, debs: Path) -> Path:
    """The package's .deb in ``debs``, downloaded unless already there and intact."""
    debs.mkdir(parents=True, exist_ok=True)
    path = debs / pkg.deb_name
    if path.exists() and _sha256(path) == pkg.sha256:
        return path
    work = debs / f".download-{pkg.name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        cmd = ["apt-get", "download", "-q"]
        if os.geteuid() == 0:  # apt's _apt user cannot write into our directory
            cmd += ["-o", "APT::Sandbox::User=root"]
        _run([*cmd, f"{pkg.name}={pkg.version}"], cwd=work)
        got = next(work.glob("*.deb"), None)
        if got is None or _sha256(got) != pkg.sha256:
            raise AptError(f"the downloaded {pkg.name} {pkg.version} does not match "
                           "apt's checksum")
        got.replace(path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def extract(deb: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    _run(["dpkg-deb", "-x", str(deb), str(dest)])
