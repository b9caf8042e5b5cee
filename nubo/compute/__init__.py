"""Compute: the Nova v2.1 API with microversions, its scheduler, conductor and agents."""

from __future__ import annotations

from nubo.core.runtime import Runtime
from nubo.core.service import ServiceSpec


def _api():  # type: ignore[no-untyped-def]
    from nubo.compute.api import service_app

    return service_app()


async def _start(rt: Runtime) -> None:
    from nubo.compute import workers
    from nubo.compute.service import flavors

    await flavors.bootstrap_defaults(rt)
    await workers.start(rt)


async def _stop(rt: Runtime) -> None:
    from nubo.compute import workers

    await workers.stop(rt)


def spec() -> ServiceSpec:
    from nubo.compute.policies import DEFAULTS

    return ServiceSpec(
        name="compute", catalog_type="compute", catalog_name="nova",
        endpoint_path="/compute/v2.1", api=_api, policy_defaults=DEFAULTS,
        start=_start, stop=_stop,
    )
