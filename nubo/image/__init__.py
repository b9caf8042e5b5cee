"""Images: the Glance v2 API with a filesystem store."""

from __future__ import annotations

from nubo.core.service import ServiceSpec


def _api():  # type: ignore[no-untyped-def]
    from nubo.image.api import service_app

    return service_app()


def spec() -> ServiceSpec:
    from nubo.image import recovery
    from nubo.image.policies import DEFAULTS

    return ServiceSpec(
        name="image", catalog_type="image", catalog_name="glance",
        endpoint_path="/image", api=_api, policy_defaults=DEFAULTS,
        start=recovery.start, stop=recovery.stop,
    )
