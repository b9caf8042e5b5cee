"""Reused LDAP connections: Keystone's ``use_pool`` and ``use_auth_pool``.

Without a pool every directory read opens a connection (TCP, maybe TLS) and binds
as the service account, and every password check opens one more. A pool keeps
connections open for the next call instead: one pool of connections bound as the
service account for searches, one for users' binds (each check rebinds a pooled
connection as the user).

A connection serves one thread at a time (ldap3's synchronous strategy); ``size``
bounds how many exist at once, and a caller waits for a free one beyond that. A
connection older than ``lifetime`` seconds is closed rather than reused. One that
failed underneath (the server closed it, a socket error) is dropped and the call
is tried again on a fresh connection, up to ``retry_max`` more times,
``retry_delay`` seconds apart; an LDAP result (no such object, invalid credentials)
leaves the connection in the pool and goes to the caller.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import ldap3
from ldap3.core import exceptions as lex

T = TypeVar("T")
# the connection, not the request, went wrong: worth a fresh connection
BROKEN = (lex.LDAPCommunicationError, lex.LDAPBindError, lex.LDAPResponseTimeoutError)


@dataclass(frozen=True)
class PoolOptions:
    enabled: bool = True
    size: int = 10
    lifetime: float = 600.0
    retry_max: int = 3
    retry_delay: float = 0.1


class ConnectionPool:
    """Connections made by ``connect``, lent to one call at a time."""

    def __init__(self, connect: Callable[[], ldap3.Connection], options: PoolOptions) -> None:
        self._connect = connect
        self.options = options
        self._idle: deque[tuple[ldap3.Connection, float]] = deque()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, options.size))
        self._closed = False

    def run(self, fn: Callable[[ldap3.Connection], T]) -> T:
        """``fn`` on a pooled connection (blocking: call it from a worker thread)."""
        attempt = 0
        while True:
            try:
                with self._lease() as conn:
                    return fn(conn)
            except BROKEN:
                if attempt >= self.options.retry_max:
                    raise
                attempt += 1
                time.sleep(self.options.retry_delay)

    @contextmanager
    def _lease(self) -> Iterator[ldap3.Connection]:
        if not self.options.enabled:
            conn = self._connect()
            try:
                yield conn
            finally:
                _close(conn)
            return
        with self._slots:
            conn, born = self._take()
            try:
                yield conn
            except lex.LDAPOperationResult:
                self._give_back(conn, born)
                raise
            except BaseException:
                _close(conn)
                raise
            self._give_back(conn, born)

    def _take(self) -> tuple[ldap3.Connection, float]:
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn, born = self._idle.popleft()
            if now - born < self.options.lifetime and not conn.closed:
                return conn, born
            _close(conn)
        return self._connect(), now

    def _give_back(self, conn: ldap3.Connection, born: float) -> None:
        with self._lock:
            if not self._closed and not conn.closed:
                self._idle.append((conn, born))
                return
        _close(conn)

    def close(self) -> None:
        """Close the idle connections; those lent out close when they come back."""
        with self._lock:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
        for conn, _ in idle:
            _close(conn)


def _close(conn: ldap3.Connection) -> None:
    try:
        conn.unbind()
    except lex.LDAPException:
        pass  # already gone
