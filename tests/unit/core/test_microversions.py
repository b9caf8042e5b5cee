import pytest

from nubo.core.api.microversions import Microversions, Version, parse
from nubo.core.errors import BadRequest, NotAcceptable

NOVA = Microversions.of("compute", "2.1", "2.90", legacy_header="X-OpenStack-Nova-API-Version")


def test_parse_and_order():
    assert parse("2.79") == Version(2, 79)
    assert parse("2.9") < parse("2.10") < parse("3.0")
    for bad in ("2", "2.", "02.1", "2.01", "a.b", "2.1.1", ""):
        with pytest.raises(BadRequest):
            parse(bad)


def test_no_header_is_the_minimum_and_latest_the_maximum():
    assert NOVA.negotiate({}) == Version(2, 1)
    assert NOVA.negotiate({"openstack-api-version": "compute latest"}) == Version(2, 90)


def test_standard_header_wins_and_other_services_are_ignored():
    headers = {"openstack-api-version": "volume 3.5, compute 2.60",
               "x-openstack-nova-api-version": "2.10"}
    assert NOVA.negotiate(headers) == Version(2, 60)
    assert NOVA.negotiate({"openstack-api-version": "volume 3.5",
                           "x-openstack-nova-api-version": "2.10"}) == Version(2, 10)


def test_out_of_range_is_406_and_malformed_400():
    with pytest.raises(NotAcceptable):
        NOVA.negotiate({"openstack-api-version": "compute 2.91"})
    with pytest.raises(NotAcceptable):
        NOVA.negotiate({"openstack-api-version": "compute 3.0"})
    with pytest.raises(BadRequest):
        NOVA.negotiate({"openstack-api-version": "compute 2.x"})


def test_response_headers_name_the_version_and_vary():
    headers = NOVA.response_headers(Version(2, 60))
    assert headers["OpenStack-API-Version"] == "compute 2.60"
    assert headers["X-OpenStack-Nova-API-Version"] == "2.60"
    assert "OpenStack-API-Version" in headers["Vary"]
