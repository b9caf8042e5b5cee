"""Calls to one host's compute agent that need an answer (os-getConsoleOutput,
server diagnostics).

Everything else the API and the conductor ask of an agent is work on its queue,
acknowledged and reported through the conductor. A call is a question instead:
the caller subscribes to a reply topic of its own, publishes the question with
that topic on the host's call topic (``compute.call-<host>.request``), to which
the host's agent subscribes wherever it runs, and waits ``[compute]
agent_call_timeout`` seconds for the answer. Questions are not kept for an agent
that is down: nobody answers and the call fails with 409, as the reference's RPC
call times out.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from nubo.core.bus.base import Envelope
from nubo.core.errors import Conflict, NuboError
from nubo.core.runtime import Runtime

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)

Answer = Callable[["ComputeAgent", Mapping[str, Any]], Awaitable[dict[str, Any]]]
CALLS: dict[str, Answer] = {}


def call_topic(host: str) -> str:
    return f"compute.call-{host.replace('.', '_')}.request"


def answers(name: str) -> Callable[[Answer], Answer]:
    """Make the decorated coroutine answer calls named ``name``."""
    def add(fn: Answer) -> Answer:
        CALLS[name] = fn
        return fn
    return add


async def call(rt: Runtime, host: str, name: str, payload: Mapping[str, Any]
               ) -> dict[str, Any]:
    """Ask ``host``'s agent; its answer. 409 when it does not answer in time, or
    answers that it could not."""
    reply_to = f"compute.reply.{uuid.uuid4().hex}"
    answered: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def on_reply(env: Envelope) -> None:
        if not answered.done():
            answered.set_result(dict(env.payload))

    subscription = await rt.bus.subscribe(reply_to, on_reply)
    try:
        await rt.bus.publish(call_topic(host), {**payload, "call": name,
                                                "reply_to": reply_to})
        answer = await asyncio.wait_for(answered, rt.settings.compute.agent_call_timeout)
    except TimeoutError:
        raise Conflict(f"The compute service of host {host} did not answer.") from None
    finally:
        await subscription.cancel()
    if "error" in answer:
        raise Conflict(str(answer["error"]))
    return answer


async def serve(agent: ComputeAgent, env: Envelope) -> None:
    """The agent's side: answer one call (an unknown one or a failure with
    ``error``)."""
    reply_to = str(env.payload.get("reply_to") or "")
    answer_with = CALLS.get(str(env.payload.get("call")))
    if not reply_to:
        return
    if answer_with is None:
        answer = {"error": f"unknown call {env.payload.get('call')!r}"}
    else:
        try:
            answer = await answer_with(agent, env.payload)
        except NuboError as e:
            answer = {"error": e.message}
        except Exception as e:      # the caller hears of it instead of waiting
            log.exception("compute agent %s: call %s failed", agent.host,
                          env.payload.get("call"))
            answer = {"error": f"{type(e).__name__}: {e}"}
    await agent.rt.bus.publish(reply_to, answer)


@answers("console_output")
async def console_output(agent: ComputeAgent, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"output": await agent.driver.get_console_output(str(payload["instance_uuid"]))}


@answers("diagnostics")
async def diagnostics(agent: ComputeAgent, payload: Mapping[str, Any]) -> dict[str, Any]:
    reading = await agent.driver.get_diagnostics(str(payload["instance_uuid"]))
    return {"reading": reading.to_dict()}
