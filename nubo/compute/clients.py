"""Narrow clients for the services compute talks to: images and placement.

Compute reaches them only through these functions (in-process calls to their
``service`` modules in every shape we run today), so either can be split out
behind HTTP later without touching the callers.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest, NotFound
from nubo.core.runtime import Runtime


def _module(name: str) -> Any:
    return importlib.import_module(name)


# ------------------------------------------------------------------ images


async def get_image(rt: Runtime, ctx: RequestContext, image_id: str) -> dict[str, Any]:
    """The image as Glance shows it; BadRequest when it cannot boot a server."""
    images = _module("nubo.image.service.images")
    try:
        image: dict[str, Any] = dict(await images.get_image(rt, ctx, image_id))
    except NotFound:
        raise BadRequest(f"Image {image_id} could not be found.") from None
    if image.get("status") != "active":
        raise BadRequest(f"Image {image_id} is not active.")
    return image


async def create_image(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                       ) -> dict[str, Any]:
    """A queued image record, as ``POST /v2/images`` makes it (snapshots, backups)."""
    image: dict[str, Any] = dict(await _module("nubo.image.service.images").create_image(
        rt, ctx, dict(body)))
    return image


async def upload_image(rt: Runtime, ctx: RequestContext, image_id: str,
                       chunks: AsyncIterator[bytes]) -> dict[str, Any]:
    """Stream an image's data in; the image (active) after."""
    image: dict[str, Any] = dict(await _module("nubo.image.service.data").upload_image(
        rt, ctx, image_id, chunks))
    return image


async def download_image(rt: Runtime, ctx: RequestContext, image_id: str
                         ) -> AsyncIterator[bytes]:
    """Stream an active image's data (a hypervisor's base-image cache fetching it);
    NotFound when it has none."""
    chunks: AsyncIterator[bytes] = _module("nubo.image.service.data").open_image_data(
        rt, ctx, image_id)
    async for chunk in chunks:
        yield chunk


async def list_images(rt: Runtime, ctx: RequestContext, filters: Mapping[str, str]
                      ) -> list[dict[str, Any]]:
    found = await _module("nubo.image.service.images").list_images(rt, ctx, dict(filters))
    return [dict(i) for i in found]


async def delete_image(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    """Delete an image; absent already is fine."""
    try:
        await _module("nubo.image.service.images").delete_image(rt, ctx, image_id)
    except NotFound:
        pass


async def show_image(rt: Runtime, ctx: RequestContext, image_id: str) -> dict[str, Any]:
    """The image as Glance shows it, in any status; NotFound when not visible."""
    image: dict[str, Any] = dict(await _module("nubo.image.service.images").get_image(
        rt, ctx, image_id))
    return image


async def list_images_page(rt: Runtime, ctx: RequestContext, filters: Mapping[str, str], *,
                           marker: str | None, limit: int) -> list[dict[str, Any]]:
    """One page of ``GET /v2/images``: Glance's filters and order, at most ``limit``
    images after ``marker`` (BadRequest when the marker is not among them)."""
    images = await list_images(rt, ctx, filters)
    shown, _more = _module("nubo.image.service.listing").page(images, marker, limit)
    return [dict(i) for i in shown]


async def remove_image(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    """Delete an image as its user asks: NotFound, or Forbidden (not the owner's,
    protected), as Glance answers."""
    await _module("nubo.image.service.images").delete_image(rt, ctx, image_id)


async def set_image_properties(rt: Runtime, ctx: RequestContext, image_id: str,
                               properties: Mapping[str, str]) -> dict[str, Any]:
    """Make the image's free-form properties exactly ``properties`` (one update, as
    Nova's ``purge_props``); the image after."""
    images = _module("nubo.image.service.images")
    current = image_properties(await show_image(rt, ctx, image_id))
    changes: list[tuple[str, str, Any]] = [("remove", k, None) for k in current
                                           if k not in properties]
    changes += [("add", k, v) for k, v in properties.items() if current.get(k) != v]
    image: dict[str, Any] = dict(await images.update_image(rt, ctx, image_id, changes))
    return image


async def set_disk_format(rt: Runtime, ctx: RequestContext, image_id: str,
                          disk_format: str) -> None:
    """Give a queued image (a snapshot about to be uploaded) its disk format."""
    await _module("nubo.image.service.images").update_image(
        rt, ctx, image_id, [("replace", "disk_format", disk_format)])


IMAGE_CORE_KEYS = frozenset({
    "id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk", "disk_format",
    "container_format", "created_at", "updated_at", "tags", "file", "self", "schema",
    "direct_url", "locations", "os_hidden", "stores",
})


def image_properties(image: Mapping[str, Any]) -> dict[str, Any]:
    """An image's free-form properties (what the scheduler's image filters read)."""
    return {k: v for k, v in image.items() if k not in IMAGE_CORE_KEYS}


# --------------------------------------------------------------- placement


@dataclass(frozen=True)
class ProviderUsage:
    capacity: Mapping[str, int]
    used: Mapping[str, int]
    traits: frozenset[str]


def _placement() -> Any:
    return _module("nubo.placement.service")


async def ensure_provider(
    rt: Runtime, *, uuid: str, name: str, inventories: Mapping[str, Mapping[str, Any]],
    traits: Iterable[str] = (),
) -> None:
    """Create or update a resource provider with these inventories (idempotent)."""
    await _placement().ensure_provider(rt, uuid=uuid, name=name,
                                       inventories={k: dict(v) for k, v in inventories.items()},
                                       traits=list(traits))


async def claim(
    rt: Runtime, *, consumer: str, provider_uuid: str, resources: Mapping[str, int],
    project_id: str, user_id: str,
) -> None:
    """Allocate ``resources`` on one provider for ``consumer`` (replacing what it
    held); Conflict when they no longer fit (another claim got there first)."""
    await _placement().claim(rt, consumer, {provider_uuid: dict(resources)},
                             project_id=project_id, user_id=user_id)


async def delete_provider(rt: Runtime, uuid: str) -> None:
    """Remove a compute node's provider (idempotent; kept while it has allocations)."""
    from nubo.core.errors import Conflict

    try:
        await _placement().delete_provider(rt, uuid)
    except (NotFound, Conflict):
        pass


async def move_allocations(rt: Runtime, source: str, target: str) -> None:
    """Move what consumer ``source`` holds to ``target``, replacing what ``target``
    held (a migration taking over the source host's allocation, and back)."""
    await _placement().move_allocations(rt, source, target)


async def delete_allocations(rt: Runtime, consumer: str) -> None:
    """Forget every allocation of ``consumer`` (idempotent)."""
    await _placement().delete_allocations(rt, consumer)


async def allocations_of(rt: Runtime, consumer: str) -> dict[str, dict[str, int]]:
    """provider uuid -> resources ``consumer`` holds there."""
    found: dict[str, dict[str, int]] = await _placement().get_allocations(rt, consumer)
    return found


async def provider_usages(rt: Runtime, uuids: Iterable[str], *, traits: bool = True
                          ) -> dict[str, ProviderUsage]:
    """Capacity ((total - reserved) * ratio), usage and (unless ``traits`` is
    false) traits of each provider."""
    summaries = await _placement().provider_summaries(rt, list(uuids))
    out: dict[str, ProviderUsage] = {}
    for uuid, resources in summaries.items():
        out[uuid] = ProviderUsage(
            capacity={rc: int(v.get("capacity", 0)) for rc, v in resources.items()},
            used={rc: int(v.get("used", 0)) for rc, v in resources.items()},
            traits=await provider_traits(rt, uuid) if traits else frozenset(),
        )
    return out


async def provider_traits(rt: Runtime, uuid: str) -> frozenset[str]:
    """The traits a provider has now (empty when there is no such provider)."""
    traits = _module("nubo.placement.service.traits")
    try:
        _generation, names = await traits.get_provider_traits(rt, uuid)
    except NotFound:
        return frozenset()
    return frozenset(names)


async def consumers_on(rt: Runtime, provider_uuid: str) -> set[str]:
    """The consumers holding allocations on a provider."""
    try:
        found = await _placement().provider_consumers(rt, provider_uuid)
    except NotFound:
        return set()
    return set(found)
