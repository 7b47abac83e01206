"""Pickup settings: each read from Django settings first, then the environment, then a default.

The environment fallback lets a subprocess (a Celery worker in an integration test, the demo) be tuned
without a settings module of its own. Courier secrets are not settings: each lives on its Courier row
(the simulated courier's is made at random by `migrate`, see courier_secrets.py).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULT_SIMULATED_BASE_URL = "http://127.0.0.1:8000/simulated-courier/"


def setting(name: str, default: Any) -> Any:
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def simulated_base_url() -> str:
    return str(setting("PICKUP_SIMULATED_BASE_URL", DEFAULT_SIMULATED_BASE_URL))


def webhook_tolerance_seconds() -> int:
    return int(setting("COURIER_WEBHOOK_TOLERANCE_SECONDS", 300))


def courier_timeout_seconds() -> float:
    """How long the portal waits for a courier's API before treating the call as failed (and retrying)."""
    return float(setting("PICKUP_COURIER_TIMEOUT_SECONDS", 5.0))


def dispatch_max_retries() -> int:
    return int(setting("PICKUP_DISPATCH_MAX_RETRIES", 5))


def dispatch_backoff_seconds() -> int:
    return int(setting("PICKUP_DISPATCH_BACKOFF_SECONDS", 2))


def simulated_speed_seconds() -> float:
    """Seconds between two steps of a simulated booking (dispatched → picked_up → in_transit → delivered)."""
    return float(setting("SIMULATED_COURIER_SPEED_SECONDS", 30.0))


def simulated_enabled() -> bool:
    """Whether the periodic sweep also drives the simulated courier (off where a real courier is used)."""
    return bool(setting("SIMULATED_COURIER_ENABLED", True))


def portal_base_url() -> str:
    return str(setting("PORTAL_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def no_show_grace_seconds() -> int:
    """After a slot ends, how long a dispatched pickup waits for the courier before it counts as a no-show."""
    return int(setting("PICKUP_NO_SHOW_GRACE_SECONDS", 6 * 3600))


def redispatch_after_seconds() -> int:
    """A pickup left `requested` this long (its task lost with the broker) is dispatched again by the sweep."""
    return int(setting("PICKUP_REDISPATCH_AFTER_SECONDS", 120))
