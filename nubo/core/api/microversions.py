"""API microversions, as Nova, Placement and Cinder negotiate them.

A client asks for a version with ``OpenStack-API-Version: <service-type> X.Y``
(or a service's legacy header such as ``X-OpenStack-Nova-API-Version``), or
``latest``; without a header it gets the minimum. A malformed version is a 400,
one outside the served range a 406. Every response names the version it was
served at, so clients can tell what they got.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from nubo.core.errors import BadRequest, NotAcceptable

_FORMAT = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@lru_cache(maxsize=512)
def parse(text: str) -> Version:
    """``"2.79"`` → ``Version(2, 79)``; a malformed string is a 400."""
    match = _FORMAT.match(text.strip())
    if match is None:
        raise BadRequest(f"API Version String {text!r} is of invalid format. "
                         "Must be of format MajorNum.MinorNum.")
    return Version(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class Microversions:
    """The range one API serves and the headers it speaks."""

    service_type: str
    minimum: Version
    maximum: Version
    # e.g. "X-OpenStack-Nova-API-Version": read when the standard header is absent
    legacy_header: str | None = None

    @classmethod
    def of(cls, service_type: str, minimum: str, maximum: str,
           legacy_header: str | None = None) -> Microversions:
        return cls(service_type, parse(minimum), parse(maximum), legacy_header)

    def requested(self, headers: Mapping[str, str]) -> str | None:
        """The version string the client asked for, or None."""
        for value in _header_values(headers, "openstack-api-version"):
            for item in value.split(","):
                parts = item.split()
                if len(parts) == 2 and parts[0].lower() == self.service_type:
                    return parts[1]
        if self.legacy_header:
            legacy = headers.get(self.legacy_header.lower())
            if legacy:
                return legacy.strip()
        return None

    def negotiate(self, headers: Mapping[str, str]) -> Version:
        asked = self.requested(headers)
        if asked is None:
            return self.minimum
        if asked.lower() == "latest":
            return self.maximum
        version = parse(asked)
        if not self.minimum <= version <= self.maximum:
            raise NotAcceptable(f"Version {version} is not supported by the API. "
                                f"Minimum is {self.minimum} and maximum is {self.maximum}.")
        return version

    def response_headers(self, version: Version) -> dict[str, str]:
        headers = {"OpenStack-API-Version": f"{self.service_type} {version}"}
        vary = ["OpenStack-API-Version"]
        if self.legacy_header:
            headers[self.legacy_header] = str(version)
            vary.append(self.legacy_header)
        headers["Vary"] = ", ".join(vary)
        return headers


def _header_values(headers: Mapping[str, str], name: str) -> list[str]:
    getlist = getattr(headers, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = headers.get(name)
    return [value] if value else []
