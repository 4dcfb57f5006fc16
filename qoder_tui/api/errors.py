"""Typed errors, each with a message a person can act on.

No error message ever contains the token: messages are built from the error
envelope, the URL and the ids, never from request headers.
"""

from __future__ import annotations

from typing import Any

from .sanitize import clean_label

TOKEN_VARIABLES = "QODER_ACCESS_TOKEN (or QODER_PAT), or pass --token-file PATH"


class QoderError(Exception):
    """Base class.  `str(err)` is the one-line message for a person."""

    exit_code = 1
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message


class ConfigError(QoderError):
    """Bad or missing local settings (no token, unreadable token file, bad URL)."""

    exit_code = 2


class MissingTokenError(ConfigError):
    exit_code = 3


class BadTokenError(ConfigError):
    """A token that cannot be sent (line breaks, spaces, non-ASCII): said without showing it."""

    exit_code = 3


class AuthError(QoderError):
    """401/403: the token was rejected or lacks access."""

    exit_code = 3


class NotFoundError(QoderError):
    exit_code = 4


class ConnectionFailedError(QoderError):
    """The server could not be reached at all (DNS, refused, TLS, timeout)."""

    exit_code = 5
    retryable = True


class BadRequestError(QoderError):
    exit_code = 1


class RateLimitedError(QoderError):
    retryable = True


class ServerError(QoderError):
    retryable = True


class StreamError(QoderError):
    """An `event: error` frame on a stream: fatal by the SDK's rules."""


def _envelope(body: Any) -> tuple[str | None, str | None, str | None]:
    """(type, message, request_id) from an error body of any documented shape."""
    if not isinstance(body, dict):
        return None, None, None
    request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    err = body.get("error")
    if isinstance(err, dict):
        etype, msg = err.get("type"), err.get("message")
    elif isinstance(err, str):
        etype, msg = body.get("code") or body.get("type"), err
    else:
        etype, msg = body.get("type"), body.get("message")
    return (
        etype if isinstance(etype, str) else None,
        msg if isinstance(msg, str) else None,
        request_id,
    )


def error_from_response(
    status: int,
    body: Any,
    *,
    url: str,
    what: str,
    request_id: str | None = None,
    text: str | None = None,
) -> QoderError:
    """Build the typed error for a non-2xx answer.

    `what` names the thing asked for (e.g. "session sess_123") so that a 404
    says which one is missing.
    """
    etype, msg, body_rid = _envelope(body)
    rid = clean_label(request_id or body_rid or "")[:100] or None
    detail = clean_label((msg or (text.strip() if text else ""))[:300]) or f"HTTP {status}"
    etype = clean_label(etype)[:100] if etype else None
    kw: dict[str, Any] = {"status": status, "error_type": etype, "request_id": rid}
    if status == 401:
        return AuthError(f"The server rejected the token ({detail}). Set {TOKEN_VARIABLES}.", **kw)
    if status == 403:
        return AuthError(
            f"The token has no access to {what} ({detail}). Use a token of the owning account: "
            f"set {TOKEN_VARIABLES}.",
            **kw,
        )
    if status == 404:
        return NotFoundError(f"Not found: {what} does not exist on {url} ({detail}).", **kw)
    if status == 429:
        return RateLimitedError(f"Rate limited by the server while fetching {what}: {detail}", **kw)
    if status == 408 or status >= 500:
        return ServerError(f"The server failed ({status}) while fetching {what}: {detail}", **kw)
    if status == 400:
        return BadRequestError(f"The server refused the request for {what}: {detail}", **kw)
    return QoderError(f"Unexpected answer {status} for {what}: {detail}", **kw)


def redact(text: str, secret: str | None) -> str:
    """Remove a secret from text (belt and braces at every output boundary)."""
    if secret and len(secret) >= 4 and secret in text:
        return text.replace(secret, "****")
    return text
