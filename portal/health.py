"""/healthz: 200 when the database, the cache, the broker and the workers answer; 503 naming what does not."""

from __future__ import annotations

import uuid

from django.db import connection
from django.http import HttpRequest, JsonResponse


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)[:200]


def _check_cache() -> str | None:
    """Rate limits live in the cache: a value written must read back. Names the failure, never its text."""
    from django.core.cache import cache

    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=10)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception:  # noqa: BLE001
        return "unavailable"
    return None if ok else "unavailable"


def _check_broker() -> str | None:
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)[:200] or exc.__class__.__name__


def _check_workers() -> str | None:
    from portal.celery import app

    if app.conf.task_always_eager:
        return None
    try:
        replies = app.control.inspect(timeout=1.0).ping()
    except Exception as exc:  # noqa: BLE001
        return str(exc)[:200] or exc.__class__.__name__
    if not replies:
        return "no worker answered"
    return None


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "cache": _check_cache(), "broker": _check_broker()}
    if checks["broker"] is None:
        checks["workers"] = _check_workers()
    else:
        checks["workers"] = "broker unavailable"
    failing = [name for name, error in checks.items() if error]
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": {name: ("ok" if error is None else error) for name, error in checks.items()},
        "failing": failing,
    }
    return JsonResponse(body, status=200 if not failing else 503)


def readyz(request: HttpRequest) -> JsonResponse:
    error = _check_database()
    return JsonResponse({"status": "ok" if error is None else "unavailable", "database": error or "ok"},
                        status=200 if error is None else 503)
