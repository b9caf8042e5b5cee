"""Reading apt's answers: stanzas, dependency fields, the kernel behind the
metapackage."""

from __future__ import annotations

import pytest

from nubo.guest import apt

STANZA = """Package: dropbear-bin
Version: 2022.83-1+deb12u3
Depends: libc6 (>= 2.34), libcrypt1 (>= 1:4.1.0), zlib1g | zlib1g-ng, foo:any
Description: lightweight SSH2 server
 and client, the long description
 on two lines
Filename: pool/main/d/dropbear/dropbear-bin_2022.83-1+deb12u3_amd64.deb
SHA256: 44ac
"""


def test_stanza_fields_and_continuation_lines() -> None:
    fields = apt.parse_stanza(STANZA)
    assert fields["Package"] == "dropbear-bin"
    assert fields["Version"] == "2022.83-1+deb12u3"
    assert fields["Description"].splitlines() == [
        "lightweight SSH2 server", "and client, the long description", "on two lines"]
    assert fields["SHA256"] == "44ac"


def test_dependency_names_take_the_first_alternative_without_versions() -> None:
    fields = apt.parse_stanza(STANZA)
    assert apt.dependency_names(fields["Depends"]) == ["libc6", "libcrypt1", "zlib1g", "foo"]
    assert apt.dependency_names("") == []
    assert apt.dependency_names("a [amd64], b (<< 2)") == ["a", "b"]


def test_the_kernel_behind_the_metapackage() -> None:
    meta = apt.Package("linux-image-amd64", "6.1.192-2", "pool/x.deb", "00",
                       ("linux-image-6.1.0-56-amd64",))
    assert apt.kernel_of(meta) == "linux-image-6.1.0-56-amd64"
    with pytest.raises(apt.AptError, match="depends on no linux-image"):
        apt.kernel_of(apt.Package("linux-image-amd64", "1", "x", "0", ("kmod",)))


def test_deb_name_is_the_pool_file_name() -> None:
    pkg = apt.Package("zlib1g", "1:1.2.13", "pool/main/z/zlib/zlib1g_1.2.13_amd64.deb", "0")
    assert pkg.deb_name == "zlib1g_1.2.13_amd64.deb"
