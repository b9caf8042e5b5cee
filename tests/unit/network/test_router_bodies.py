"""Router request bodies checked with Neutron's messages (nubo.network.api.router_bodies)."""

from __future__ import annotations

from typing import Any

import pytest

from nubo.core.errors import NuboError
from nubo.network.api import router_bodies as rb

NET = "6f1d1c1e-0000-4000-8000-000000000001"


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


def test_gateway_info_accepted_and_converted() -> None:
    assert rb.gateway_info(None) is None and rb.gateway_info({}) is None
    info = rb.gateway_info({"network_id": NET, "enable_snat": "false",
                            "external_fixed_ips": [{"ip_address": "192.0.2.5"}]})
    assert info == {"network_id": NET, "enable_snat": False,
                    "external_fixed_ips": [{"ip_address": "192.0.2.5"}]}


@pytest.mark.parametrize(("value", "reason"), [
    ("x", "'x' is not a dictionary"),
    ({"enable_snat": True}, "Validation of dictionary's keys failed. Expected keys: "
                            "{'network_id'} Provided keys: {'enable_snat'}"),
    ({"network_id": NET, "qos_policy_id": None}, "Unexpected keys supplied: qos_policy_id"),
    ({"network_id": "net"}, "'net' is not a valid UUID"),
    ({"network_id": NET, "external_fixed_ips": "192.0.2.5"},
     "Invalid data format for fixed IP: '192.0.2.5'"),
    ({"network_id": NET, "external_fixed_ips": [{"ip_address": "192.0.2.5"},
                                                {"ip_address": "192.0.2.5"}]},
     "Duplicate IP address '192.0.2.5'"),
    ({"network_id": NET, "external_fixed_ips": [{"ip_address": "192.0.2"}]},
     "'192.0.2' is not a valid IP address"),
    ({"network_id": NET, "external_fixed_ips": [{"subnet_id": "s"}]}, "'s' is not a valid UUID"),
])
def test_gateway_info_refused(value: Any, reason: str) -> None:
    with pytest.raises(NuboError) as err:
        rb.gateway_info(value)
    assert fault(err) == (400, "HTTPBadRequest",
                          f"Invalid input for external_gateway_info. Reason: {reason}.")


def test_enable_snat_must_be_a_boolean() -> None:
    with pytest.raises(NuboError) as err:
        rb.gateway_info({"network_id": NET, "enable_snat": "sometimes"})
    assert fault(err) == (400, "InvalidInput", "Invalid input for operation: 'sometimes' "
                          "cannot be converted to boolean.")


def test_router_bodies() -> None:
    body: dict[str, Any] = {"name": "r", "admin_state_up": "true", "routes": None}
    rb.check_router(body, create=False)
    assert body == {"name": "r", "admin_state_up": True, "routes": []}
    with pytest.raises(NuboError) as err:
        rb.check_router({"routes": []}, create=True)
    assert err.value.message == "Attribute 'routes' not allowed in POST"
    with pytest.raises(NuboError):
        rb.check_router({"availability_zone_hints": ["nova"]}, create=False)
    with pytest.raises(NuboError):
        rb.check_router({"flavor_id": NET}, create=True)


@pytest.mark.parametrize(("body", "removal", "message"), [
    ({}, False, "Bad router request: Either subnet_id or port_id must be specified."),
    ({"subnet_id": "x"}, False, "Bad router request: 'x' is not a valid UUID."),
    ({"subnet_id": NET, "port_id": NET}, False,
     "Bad router request: Cannot specify both subnet-id and port-id."),
    ([], True, "Bad router request: Either subnet_id or port_id must be specified."),
])
def test_interface_info_refused(body: Any, removal: bool, message: str) -> None:
    with pytest.raises(NuboError) as err:
        rb.interface_info(body, removal=removal)
    assert err.value.status == 400 and err.value.message == message


def test_interface_info_and_routes_body() -> None:
    assert rb.interface_info({"subnet_id": NET, "port_id": NET}, removal=True) == {
        "port_id": NET, "subnet_id": NET}
    route = {"destination": "10.0.0.0/8", "nexthop": "192.0.2.1"}
    assert rb.routes_body({"router": {"routes": [route]}}) == [route]
    with pytest.raises(NuboError):
        rb.routes_body({"router": {}})
    with pytest.raises(NuboError):
        rb.routes_body({"router": {"routes": [], "name": "x"}})
