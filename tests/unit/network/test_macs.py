"""Port MAC addresses (nubo.network.macs)."""

from __future__ import annotations

import random

import netaddr
import pytest

from nubo.core.errors import ConfigError, NuboError
from nubo.network import macs


def test_random_macs_keep_the_base_prefix() -> None:
    r = random.Random(8)
    generated = {macs.random_mac(rng=r) for _ in range(500)}
    assert len(generated) == 500
    assert all(m.startswith("fa:16:3e:") and macs.parse_mac(m) == m for m in generated)
    assert {m[9:11] for m in generated} != {"00"}


def test_a_fourth_octet_other_than_00_is_kept() -> None:
    r = random.Random(9)
    generated = [macs.random_mac("FA:16:3E:AB:00:00", rng=r) for _ in range(50)]
    assert all(m.startswith("fa:16:3e:ab:") for m in generated)
    assert len(set(generated)) == 50


def test_random_macs_are_reproducible_with_a_seeded_generator() -> None:
    assert macs.random_mac(rng=random.Random(1)) == macs.random_mac(rng=random.Random(1))


@pytest.mark.parametrize("base", ["fa:16:3e:00:00", "fb:16:3e:00:00:00", "fa-16-3e-00-00-00",
                                  "fa:16:3e:00:00:0g", ""])
def test_bad_base_macs(base: str) -> None:
    with pytest.raises(ConfigError) as err:
        macs.check_base_mac(base)
    assert err.value.message == f"Base MAC: '{base}' is not a valid input"


@pytest.mark.parametrize(("text", "mac"), [
    ("fa:16:3e:aa:bb:cc", "fa:16:3e:aa:bb:cc"),
    ("FA:16:3E:AA:BB:CC", "fa:16:3e:aa:bb:cc"),
    ("fa-16-3e-aa-bb-cc", "fa:16:3e:aa:bb:cc"),
    ("a:b:c:d:e:f", "0a:0b:0c:0d:0e:0f"),
    ("fa16.3eaa.bbcc", "fa:16:3e:aa:bb:cc"),
    ("fa16:3eaa:bbcc", "fa:16:3e:aa:bb:cc"),
    ("fa163e-aabbcc", "fa:16:3e:aa:bb:cc"),
    ("fa163e:aabbcc", "fa:16:3e:aa:bb:cc"),
    ("fa163eaabbcc", "fa:16:3e:aa:bb:cc"),
    ("01:00:5e:00:00:01", "01:00:5e:00:00:01"),   # multicast: Neutron takes it on ports
])
def test_macs_accepted(text: str, mac: str) -> None:
    assert macs.parse_mac(text) == mac


@pytest.mark.parametrize("data", ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "FF-FF-FF-FF-FF-FF",
                                  "fa:16:3e:aa:bb", "fa:16:3e:aa:bb:cc:dd", "fa:16:3e:aa:bb:cg",
                                  " fa:16:3e:aa:bb:cc", "fa:16:3e:aa:bb:cc\n", "fa:16:3e:aa:bbb:cc",
                                  "", None, 42])
def test_macs_refused(data: object) -> None:
    with pytest.raises(NuboError) as err:
        macs.parse_mac(data)
    assert (err.value.status, err.value.details["type"], err.value.message) == (
        400, "HTTPBadRequest", f"Invalid input for mac_address. Reason: '{data}' is not a "
                               "valid MAC address.")


def test_macs_agree_with_netaddr_on_random_strings() -> None:
    r = random.Random(48)
    alphabet = "0123456789abcdefABCDEF:-."
    for _ in range(3000):
        text = "".join(r.choice(alphabet) for _ in range(r.randrange(10, 18)))
        if netaddr.valid_mac(text) and netaddr.EUI(text).value not in (0, 2**48 - 1):
            expected = str(netaddr.EUI(text, dialect=netaddr.mac_unix_expanded))
            assert macs.parse_mac(text) == expected, text
        else:
            with pytest.raises(NuboError):
                macs.parse_mac(text)


def test_multicast() -> None:
    assert macs.is_multicast("01:00:5e:00:00:01")
    assert macs.is_multicast("33:33:00:00:00:01")
    assert not macs.is_multicast("fa:16:3e:00:00:01")
    macs.check_not_multicast("fa:16:3e:00:00:01")
    with pytest.raises(NuboError) as err:
        macs.check_not_multicast("01:00:5e:00:00:01")
    assert (err.value.status, err.value.details["type"], err.value.message) == (
        400, "HTTPBadRequest",
        "MAC address 01:00:5e:00:00:01 is a multicast address, which is not supported.")
