"""Errors: one class per failure, each with a stable code, an HTTP status and a CLI exit code.

Every error the product can report is a subclass of :class:`StrongboxError`. The class
docstring is the message template (``str.format`` over the keyword arguments given at
raise time), ``code`` is the stable, Azure-style error code that appears in ARM
``CloudError`` bodies and CLI messages, ``http_status`` is the one place the HTTP status is
decided, and ``exit_code`` is what the CLI exits with. Faces (API, CLI) translate these;
nothing below them knows about HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StrongboxError(Exception):
    """{detail}"""

    code: ClassVar[str] = "InternalError"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, detail: str = "", **fields: Any) -> None:
        self.fields: dict[str, Any] = {"detail": detail, **fields}
        template = (type(self).__doc__ or "{detail}").strip().splitlines()[0]
        try:
            message = template.format(**self.fields)
        except (KeyError, IndexError):
            message = detail or template
        self.message = message
        super().__init__(message)


# --- input and addressing -------------------------------------------------------------

class BadRequest(StrongboxError):
    """{detail}"""

    code = "BadRequest"
    http_status = 400
    exit_code = 2


class InvalidParameter(StrongboxError):
    """{detail}"""

    code = "InvalidParameterValue"
    http_status = 400
    exit_code = 2


class NotFound(StrongboxError):
    """{detail}"""

    code = "ResourceNotFound"
    http_status = 404
    exit_code = 3


class Conflict(StrongboxError):
    """{detail}"""

    code = "Conflict"
    http_status = 409
    exit_code = 4


# --- auth ----------------------------------------------------------------------------

class AuthenticationFailed(StrongboxError):
    """{detail}"""

    code = "AuthenticationFailed"
    http_status = 401
    exit_code = 5


class AuthorizationFailed(StrongboxError):
    """{detail}"""

    code = "AuthorizationFailed"
    http_status = 403
    exit_code = 5


# --- configuration ----------------------------------------------------------------------

class ConfigError(StrongboxError):
    """Configuration error: {detail}"""

    code = "ConfigError"
    http_status = 400
    exit_code = 2
