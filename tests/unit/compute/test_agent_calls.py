"""Calls to a host's compute agent over the bus: the answer comes back to the caller
alone; an agent that is not there, or cannot answer, is a 409."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from nubo.compute import agent_calls
from nubo.compute.agent.driver import DriverError
from nubo.core.bus import BusOptions, InProcBus
from nubo.core.config import Settings
from nubo.core.errors import Conflict


class Driver:
    async def get_console_output(self, uuid: str) -> str:
        if uuid == "gone":
            raise DriverError("Domain nubo-gone not found")
        return f"console of {uuid}\n"


@pytest.fixture
async def rt() -> AsyncIterator[Any]:
    bus = InProcBus(BusOptions(max_attempts=1, retry_delay=0.01, drain_timeout=0.2))
    await bus.start()
    settings = Settings()
    settings.compute.agent_call_timeout = 0.3
    yield SimpleNamespace(bus=bus, settings=settings)
    await bus.close()


async def agent_on(rt: Any, host: str) -> Any:
    agent = SimpleNamespace(rt=rt, host=host, driver=Driver())
    await rt.bus.subscribe(agent_calls.call_topic(host),
                           lambda env: agent_calls.serve(agent, env))  # type: ignore[arg-type]
    return agent


async def test_the_hosts_agent_answers(rt: Any) -> None:
    await agent_on(rt, "host-a.example")
    await agent_on(rt, "host-b")
    answers = await asyncio.gather(*(
        agent_calls.call(rt, host, "console_output", {"instance_uuid": uuid})
        for host, uuid in (("host-a.example", "u1"), ("host-b", "u2"))))
    assert answers == [{"output": "console of u1\n"}, {"output": "console of u2\n"}]


async def test_no_agent_is_a_conflict_after_the_timeout(rt: Any) -> None:
    await agent_on(rt, "host-a")
    start = asyncio.get_running_loop().time()
    with pytest.raises(Conflict, match="host-b did not answer"):
        await agent_calls.call(rt, "host-b", "console_output", {"instance_uuid": "u1"})
    assert asyncio.get_running_loop().time() - start >= 0.3


async def test_what_the_agent_cannot_do_comes_back_as_a_conflict(rt: Any) -> None:
    await agent_on(rt, "host-a")
    with pytest.raises(Conflict, match="Domain nubo-gone not found"):
        await agent_calls.call(rt, "host-a", "console_output", {"instance_uuid": "gone"})
    with pytest.raises(Conflict, match="unknown call 'reboot_now'"):
        await agent_calls.call(rt, "host-a", "reboot_now", {})
