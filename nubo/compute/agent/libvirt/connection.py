"""The connection to libvirtd through libvirt-python.

libvirt-python blocks, so every call runs in a thread (``asyncio.to_thread``);
its ``libvirtError`` is translated here, at the boundary, into the driver's
errors (``DomainNotFound`` for a missing domain, ``DriverError`` otherwise). A
connection libvirtd dropped (restarted daemon) is opened again once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from nubo.compute.agent.driver import DomainNotFound, DriverError

T = TypeVar("T")


def _libvirt() -> Any:
    try:
        import libvirt
    except ImportError:
        raise DriverError("libvirt-python is not installed "
                          "(pip install 'nubo[libvirt]')") from None
    return libvirt


class Connection:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._conn: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        with self._lock:
            if self._conn is None or not self._conn.isAlive():
                lv = _libvirt()
                lv.registerErrorHandler(lambda _ctx, _err: None, None)
                self._conn = lv.open(self.uri)
            return self._conn

    def _run(self, fn: Callable[[Any], T]) -> T:
        lv = _libvirt()
        for attempt in (1, 2):
            try:
                return fn(self._open())
            except lv.libvirtError as e:
                code = e.get_error_code()
                if code == lv.VIR_ERR_NO_DOMAIN:
                    raise DomainNotFound(str(e.get_error_message())) from None
                if attempt == 1 and code in (lv.VIR_ERR_SYSTEM_ERROR,
                                             lv.VIR_ERR_INTERNAL_ERROR) \
                        and self._conn is not None and not self._conn.isAlive():
                    continue        # libvirtd went away: reconnect once
                raise DriverError(f"libvirt: {e.get_error_message()}") from None
        raise AssertionError("unreachable")

    async def call(self, fn: Callable[[Any], T]) -> T:
        """``fn(virConnect)`` in a thread, errors translated."""
        return await asyncio.to_thread(self._run, fn)

    async def on_domain(self, uuid: str, fn: Callable[[Any], T]) -> T:
        """``fn(virDomain)`` of the domain with this uuid; DomainNotFound if none."""
        return await self.call(lambda conn: fn(conn.lookupByUUIDString(uuid)))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except Exception:       # already gone: nothing to release
                    pass
                self._conn = None


def constants() -> Any:
    """The libvirt module (its VIR_* constants)."""
    return _libvirt()
