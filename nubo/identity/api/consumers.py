"""``/v3/OS-OAUTH1/consumers``."""

from __future__ import annotations

from nubo.core.api.routing import Router
from nubo.identity.api import crud
from nubo.identity.service import consumers

router = Router()
crud.register(router, crud.Collection(
    "consumer", "consumers", "OS-OAUTH1/consumers", "service/identity/consumer",
    create=consumers.create_consumer, list=consumers.list_consumers,
    get=consumers.get_consumer, update=consumers.update_consumer,
    delete=consumers.delete_consumer))
