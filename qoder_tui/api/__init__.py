"""The API layer: models, client and live follower.  It never imports textual."""

from .client import QoderClient
from .errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    ConnectionFailedError,
    MissingTokenError,
    NotFoundError,
    QoderError,
    RateLimitedError,
    ServerError,
    StreamError,
)
from .follower import Follower, StreamState
from .models import Event, Page, Session, Thread, parse_event
from .settings import Secret, Settings, load_settings

__all__ = [
    "AuthError",
    "BadRequestError",
    "ConfigError",
    "ConnectionFailedError",
    "Event",
    "Follower",
    "MissingTokenError",
    "NotFoundError",
    "Page",
    "QoderClient",
    "QoderError",
    "RateLimitedError",
    "Secret",
    "ServerError",
    "Session",
    "Settings",
    "StreamError",
    "StreamState",
    "Thread",
    "load_settings",
    "parse_event",
]
