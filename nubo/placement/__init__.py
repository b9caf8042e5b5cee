"""Placement: resource providers, inventories, allocations and traits."""

from __future__ import annotations

from nubo.core.service import ServiceSpec


def _api():  # type: ignore[no-untyped-def]
    from nubo.placement.api import service_app

    return service_app()


def spec() -> ServiceSpec:
    from nubo.placement.policies import DEFAULTS

    return ServiceSpec(
        name="placement", catalog_type="placement", catalog_name="placement",
        endpoint_path="/placement", api=_api, policy_defaults=DEFAULTS,
    )
