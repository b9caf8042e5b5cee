"""The guest's boot scripts and settings: what can be checked without booting —
the rendered settings as a shell reads them, the scripts' syntax, the JSON
flattener and the metadata lookups, run by busybox as in the guest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nubo.guest import rootfs

BUSYBOX = shutil.which("busybox")
needs_busybox = pytest.mark.skipif(BUSYBOX is None, reason="needs busybox (make sys-deps)")


def sh(script: str, *args: str, stdin: str = "") -> str:
    shell = [BUSYBOX, "sh"] if BUSYBOX else ["sh"]
    done = subprocess.run([*shell, "-c", script, "sh", *args], input=stdin,
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_settings_are_read_back_by_a_shell_as_written(tmp_path: Path) -> None:
    cfg = rootfs.GuestConfig(version="build 0123, kernel 6.1", modules=("virtio", "virtio_net"),
                             ready_marker="it's $(ready) `now`")
    conf = tmp_path / "nubo-guest.conf"
    conf.write_text(rootfs.render_config(cfg))
    out = sh('. "$1"; printf "%s\\n" "$GUEST_VERSION" "$MODULES" "$READY_MARKER" '
             '"$MD_VERSIONS" "$HOST_KEY_TYPES" "$MD_URL"', str(conf))
    assert out.splitlines() == ["build 0123, kernel 6.1", "virtio virtio_net",
                                "it's $(ready) `now`", "latest 2013-10-17",
                                "ed25519 ecdsa", "http://169.254.169.254"]


@needs_busybox
@pytest.mark.parametrize("name", [n for n in rootfs.SCRIPTS if n not in ("inittab", "json.awk")])
def test_scripts_parse(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(rootfs.script(name))
    done = subprocess.run([str(BUSYBOX), "sh", "-n", str(path)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


def test_every_script_is_shipped() -> None:
    for name, (guest_path, mode) in rootfs.SCRIPTS.items():
        assert rootfs.script(name)
        assert not guest_path.startswith("/")
        if mode & 0o111:
            assert rootfs.script(name).startswith(b"#!/bin/sh\n")


def flatten(document: str, tmp_path: Path) -> list[tuple[str, str]]:
    awk = tmp_path / "json.awk"
    awk.write_bytes(rootfs.script("json.awk"))
    done = subprocess.run([str(BUSYBOX), "awk", "-f", str(awk)], input=document,
                          capture_output=True, text=True, check=True)
    return [tuple(line.split("\t", 1)) for line in done.stdout.splitlines()]  # type: ignore[misc]


@needs_busybox
def test_json_is_flattened_to_paths_and_values(tmp_path: Path) -> None:
    document = """{"uuid": "6e62", "hostname": "vm1.novalocal",
      "public_keys": {"k1": "ssh-ed25519 AAAA a@b\\n"},
      "keys": [{"name": "k1", "data": "ssh-ed25519 AAAA a@b\\n"}, {"name": "k2"}],
      "meta": {}, "devices": [], "launch_index": 0, "n": null, "t": true,
      "odd \\"key\\"": "tab\\there \\u0041\\u00e9 back\\\\slash \\/"}"""
    assert flatten(document, tmp_path) == [
        ("uuid", "6e62"), ("hostname", "vm1.novalocal"),
        ("public_keys/k1", "ssh-ed25519 AAAA a@b "),
        ("keys/0/name", "k1"), ("keys/0/data", "ssh-ed25519 AAAA a@b "), ("keys/1/name", "k2"),
        ("launch_index", "0"), ("n", "null"), ("t", "true"),
        ('odd "key"', "tab here A? back\\slash /"),
    ]


@needs_busybox
def test_malformed_json_stops_without_inventing_values(tmp_path: Path) -> None:
    assert flatten('{"hostname": "a", "broken" 1, "after": "x"}', tmp_path) == [
        ("hostname", "a")]
    assert flatten("<html>404 Not Found</html>", tmp_path) == [("", "<html>404")]


@needs_busybox
def test_metadata_lookups(tmp_path: Path) -> None:
    lib = tmp_path / "metadata.sh"
    lib.write_bytes(rootfs.script("metadata.sh"))
    (tmp_path / "meta_data").write_text(
        "hostname\tvm1.novalocal\npublic_keys/a\tssh-ed25519 AAAA a@b \n"
        "public_keys/b\tssh-rsa BBBB c@d\npublic_keys_extra\tnot a key\n")
    out = sh('. "$1"; MD_DIR="$2"; md_get hostname; echo ---; md_get_all public_keys; '
             'echo ---; md_get missing', str(lib), str(tmp_path))
    assert out.split("---\n") == ["vm1.novalocal\n",
                                  "ssh-ed25519 AAAA a@b \nssh-rsa BBBB c@d\n", ""]
