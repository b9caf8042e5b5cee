"""What an agent does when a guest's power state differs from its server's."""

from __future__ import annotations

from nubo.compute.agent.power_sync import Sync, decide
from nubo.compute.states import PowerState as P

RUNNING, OFF = int(P.RUNNING), int(P.SHUTDOWN)


def test_a_guest_that_stopped_makes_its_active_server_stopped() -> None:
    assert decide("active", None, RUNNING, P.SHUTDOWN) == Sync(OFF, "stopped")
    assert decide("active", None, RUNNING, P.CRASHED) == Sync(OFF, "stopped")
    assert decide("paused", None, int(P.PAUSED), P.SHUTDOWN) == Sync(OFF, "stopped")


def test_a_stopped_server_whose_guest_runs_is_stopped_again() -> None:
    assert decide("stopped", None, OFF, P.RUNNING) == Sync(OFF, power_off=True)


def test_otherwise_only_the_power_state_follows() -> None:
    assert decide("active", None, RUNNING, P.PAUSED) == Sync(int(P.PAUSED))
    assert decide("rescued", None, OFF, P.RUNNING) == Sync(RUNNING)
    assert decide("resized", None, RUNNING, P.SHUTDOWN) == Sync(OFF)


def test_nothing_when_they_agree_or_a_task_runs_or_the_guest_is_unknown() -> None:
    assert decide("active", None, RUNNING, P.RUNNING) is None
    assert decide("stopped", None, OFF, P.SHUTDOWN) is None
    assert decide("active", "powering-off", RUNNING, P.SHUTDOWN) is None
    assert decide("active", None, RUNNING, P.NOSTATE) is None
    assert decide("building", None, 0, P.RUNNING) is None
    assert decide("error", None, 0, P.RUNNING) is None
    assert decide("shelved_offloaded", None, 0, P.RUNNING) is None
