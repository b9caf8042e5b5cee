"""One error hierarchy for all of nubo.

Deep code raises these; the API edge renders them in the fault body of the API
that was called (see ``nubo.core.api.faults``). Each error knows its HTTP status
and a message a user can act on. Third-party exceptions are translated into
these at the boundary where they arise, never leaked upward.
"""

from __future__ import annotations

from typing import Any, ClassVar


class NuboError(Exception):
    """Base of every error nubo raises on purpose."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.title
        self.details = details
        super().__init__(self.message)


class BadRequest(NuboError):
    status = 400
    title = "Bad Request"


class ValidationError(BadRequest):
    """The request body or query does not match what the API accepts."""


class Unauthorized(NuboError):
    status = 401
    title = "Unauthorized"


class Forbidden(NuboError):
    status = 403
    title = "Forbidden"


class PolicyNotAuthorized(Forbidden):
    def __init__(self, rule: str, message: str | None = None) -> None:
        super().__init__(
            message or f"You are not authorized to perform the requested action: {rule}.")
        self.rule = rule


class NotFound(NuboError):
    status = 404
    title = "Not Found"


class MethodNotAllowed(NuboError):
    status = 405
    title = "Method Not Allowed"


class NotAcceptable(NuboError):
    status = 406
    title = "Not Acceptable"


class Conflict(NuboError):
    status = 409
    title = "Conflict"


class PreconditionFailed(NuboError):
    status = 412
    title = "Precondition Failed"


class PayloadTooLarge(NuboError):
    status = 413
    title = "Request Entity Too Large"


class UnsupportedMediaType(NuboError):
    status = 415
    title = "Unsupported Media Type"


class Gone(NuboError):
    status = 410
    title = "Gone"


class NotImplementedYet(NuboError):
    status = 501
    title = "Not Implemented"


class ServiceUnavailable(NuboError):
    status = 503
    title = "Service Unavailable"


class ConfigError(NuboError):
    """The operator's configuration is wrong; raised at start-up."""


class TerminalError(NuboError):
    """A worker failure that retrying will not fix: the resource goes to ERROR."""


class TransientError(NuboError):
    """A worker failure worth retrying with backoff."""
