"""Identity: the Keystone v3 API."""

from __future__ import annotations

from nubo.core.runtime import Runtime
from nubo.core.service import ServiceSpec


def _api():  # type: ignore[no-untyped-def]
    from nubo.identity.api import service_app

    return service_app()


async def _start(rt: Runtime) -> None:
    from nubo.identity import backends
    from nubo.identity.backends import domain_tables
    from nubo.identity.service import cache, catalog, revoke, tokens

    backends.validate(rt.settings)
    await domain_tables.load(rt)
    await revoke.watch(rt)
    await rt.bus.subscribe(domain_tables.TOPIC, lambda env: domain_tables.on_message(rt, env))
    await tokens.start(rt)
    rt.validate_token = lambda token, rid: tokens.validate_context(rt, token, rid)
    await rt.bus.subscribe(revoke.TOPIC, lambda env: revoke.on_message(rt, env))
    await rt.bus.subscribe(cache.TOPIC, lambda env: cache.on_message(rt, env))
    await rt.bus.subscribe("identity.catalog.changed", lambda env: catalog.on_message(rt, env))


def spec() -> ServiceSpec:
    from nubo.identity.policies import DEFAULTS

    return ServiceSpec(
        name="identity", catalog_type="identity", catalog_name="keystone",
        endpoint_path="/identity", api=_api, policy_defaults=DEFAULTS, start=_start,
    )
