"""Where the client finds its server and its token.

The token comes from `QODER_ACCESS_TOKEN` or `QODER_PAT`, or from a file
(`--token-file`).  There is deliberately no token flag: a flag would show in
`ps`.  The token is held in :class:`Secret`, whose repr and str never show it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import TOKEN_VARIABLES, BadTokenError, ConfigError, MissingTokenError

DEFAULT_BASE_URL = "https://api.qoder.com/api/v1/cloud/"
TOKEN_ENV_VARS = ("QODER_ACCESS_TOKEN", "QODER_PAT")
BASE_URL_ENV_VAR = "QODER_MANAGED_BASE_URL"


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[type, tuple[str]]:  # pragma: no cover - pickling is not export
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Settings:
    """Where the API is and the token to use (never shown: see Secret)."""

    base_url: str
    token: Secret | None

    def require_token(self) -> Secret:
        if self.token is None:
            raise MissingTokenError(f"No API token. Set {TOKEN_VARIABLES}.")
        return self.token

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, token={'****' if self.token else None})"


def normalise_base_url(url: str) -> str:
    url = url.strip()
    try:
        if any(ch.isspace() or not ch.isprintable() for ch in url):
            raise ValueError("it has a space or a control character in it")
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"The base URL {url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"The base URL {url!r} must start with http:// or https:// and name a host."
        )
    if parsed.username is not None or parsed.password is not None:
        raise ConfigError("The base URL must not carry a user name or password; use a token.")
    return url if url.endswith("/") else url + "/"


def read_token_file(path: str | os.PathLike[str]) -> Secret:
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"The token file {str(p)!r} does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"The token file {str(p)!r} cannot be read: {exc.strerror}.") from None
    token = text.strip()
    if not token:
        raise MissingTokenError(f"The token file {str(p)!r} is empty. Set {TOKEN_VARIABLES}.")
    return Secret(check_token(token, f"The token in the file {str(p)!r}"))


def check_token(token: str, where: str) -> str:
    """The token, if it can be sent in a header; otherwise a clear error that does not show it."""
    if any(ch.isspace() for ch in token):
        raise BadTokenError(
            f"{where} has a space or line break inside it: a token is one word on one line."
        )
    if not token.isascii() or not token.isprintable():
        raise BadTokenError(
            f"{where} has characters a token cannot have (non-ASCII or control characters); "
            "copy it again from the console."
        )
    return token


def load_settings(
    *,
    base_url: str | None = None,
    token_file: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    env = os.environ if env is None else env
    url = normalise_base_url(base_url or env.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL)
    token: Secret | None = None
    if token_file:
        token = read_token_file(token_file)
    else:
        for name in TOKEN_ENV_VARS:
            value = (env.get(name) or "").strip()
            if value:
                token = Secret(check_token(value, f"The token in ${name}"))
                break
    return Settings(base_url=url, token=token)
