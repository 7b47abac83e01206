"""/healthz: 200 when the database, the broker and the workers answer; 503 naming what does not.

The answer names the failing parts and nothing more (api.md): a driver's error text carries host names,
ports and database users, so it goes to the server's log, never to whoever asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse

log = logging.getLogger("portal.health")
OK, UNAVAILABLE = "ok", "unavailable"
LOCAL_CACHES = ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache")


class _NoAnswer(Exception):
    """A part that raised nothing and still did not answer (no worker replied to the ping)."""


def _answers(part: str, probe: Callable[[], None]) -> bool:
    """Whether `probe` ran cleanly; when not, the error and its details are logged here, and only here."""
    try:
        probe()
    except Exception:  # noqa: BLE001 - whatever the driver raises, the part is down
        log.warning("health check: %s unavailable", part, exc_info=True)
        return False
    return True


def _database(alias: str) -> Callable[[], None]:
    def probe() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")

    return probe


def _broker() -> None:
    from portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _workers() -> None:
    from portal.celery import app

    if app.conf.task_always_eager:
        return
    if not app.control.inspect(timeout=1.0).ping():
        raise _NoAnswer("no worker answered the ping")


def _cache() -> None:
    cache.set("healthz", "1", timeout=10)
    if cache.get("healthz") != "1":
        raise _NoAnswer("the cache did not return what was just stored")


def _replicas() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != "default"]


def _cache_configured() -> bool:
    return settings.CACHES["default"]["BACKEND"] not in LOCAL_CACHES


def health_checks() -> dict[str, bool]:
    """Each part (database, broker, workers; cache and replica where configured) → whether it answers."""
    checks = {"database": _answers("database", _database("default")), "broker": _answers("broker", _broker)}
    checks["workers"] = checks["broker"] and _answers("workers", _workers)
    if _cache_configured():
        checks["cache"] = _answers("cache", _cache)
    replicas = _replicas()
    if replicas:
        checks["replica"] = all([_answers(f"replica {alias}", _database(alias)) for alias in replicas])
    return checks


def healthz(request: HttpRequest) -> JsonResponse:
    checks = health_checks()
    failing = [name for name, up in checks.items() if not up]
    body = {
        "status": OK if not failing else UNAVAILABLE,
        "checks": {name: OK if up else UNAVAILABLE for name, up in checks.items()},
        "failing": failing,
    }
    return JsonResponse(body, status=200 if not failing else 503)


def readyz(request: HttpRequest) -> JsonResponse:
    up = _answers("database", _database("default"))
    return JsonResponse({"status": OK if up else UNAVAILABLE, "database": OK if up else UNAVAILABLE},
                        status=200 if up else 503)
