"""The HTTP verbs of the raw API clients the functional tests use, over each
client's own ``call`` (which knows its service's path and headers)."""

from __future__ import annotations

from typing import Any

import requests


class Verbs:
    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> requests.Response:
        raise NotImplementedError

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("DELETE", path, **kw)
