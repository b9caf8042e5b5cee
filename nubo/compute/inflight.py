"""The placement claims this conductor process is making right now.

Concurrent builds in one process read the same snapshot of the hosts. Without
this ledger they would all pick the same best host, and all but a few would lose
their placement claim and start over (a thundering herd that, near full
capacity, could use up every retry of a build while room was left). Each build
records its picks here right after the scheduler makes them, and the snapshots
the next builds see carry those picks as used.

The ledger only steers choices: placement's atomic claim stays the guarantee.
It may briefly count a claim twice (committed, already in a fresh snapshot,
not yet forgotten here), so a "no valid host" decided with the ledger applied
is checked again against the snapshot alone before a build fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nubo.compute.scheduler.destinations import consume
from nubo.compute.scheduler.model import HostState
from nubo.core.runtime import Runtime

STATE_KEY = "compute.inflight"
HostKey = tuple[str, str]


class InFlight:
    """instance uuid -> (host key, resources) of each claim under way."""

    def __init__(self) -> None:
        self._claims: dict[str, tuple[HostKey, Mapping[str, int]]] = {}

    def __bool__(self) -> bool:
        return bool(self._claims)

    def hold(self, uuid: str, host: HostState, resources: Mapping[str, int]) -> None:
        """``uuid`` is being claimed on ``host`` (replacing any earlier pick)."""
        self._claims[uuid] = (host.key(), dict(resources))

    def forget(self, uuid: str) -> None:
        self._claims.pop(uuid, None)

    def overlay(self, hosts: Sequence[HostState]) -> list[HostState]:
        """``hosts`` with every claim under way counted as used, unless the
        snapshot already shows the instance on its host."""
        by_key = {h.key(): h for h in hosts}
        for uuid, (key, resources) in self._claims.items():
            host = by_key.get(key)
            if host is not None and uuid not in host.instance_uuids:
                by_key[key] = consume(host, uuid, resources)
        return [by_key[h.key()] for h in hosts]


def of(rt: Runtime) -> InFlight:
    """This process's ledger."""
    ledger = rt.state.get(STATE_KEY)
    if ledger is None:
        ledger = rt.state[STATE_KEY] = InFlight()
    assert isinstance(ledger, InFlight)
    return ledger
