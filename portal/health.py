"""/healthz: 200 when the database, the broker and the workers answer; 503 naming what does not.

With a read replica configured, `replica` is checked too: when it is unreachable or further behind than
DATABASE_REPLICA_MAX_LAG_SECONDS it is named in `failing` with status "degraded" but HTTP 200, because reads
then fall back to the primary and the portal still works."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)[:200]


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


def _check_replica() -> str | None:
    from django.conf import settings

    from portal.replica import replica_lag

    lag, error = replica_lag(max_age=0)
    if error is not None:
        return "unreachable" if error != "not a standby" else error
    if lag is not None and lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
        return f"lagging {lag:.1f} s"
    return None


def healthz(request: HttpRequest) -> JsonResponse:
    from portal.db_router import replica_configured

    checks = {"database": _check_database(), "broker": _check_broker()}
    if checks["broker"] is None:
        checks["workers"] = _check_workers()
    else:
        checks["workers"] = "broker unavailable"
    if replica_configured():
        checks["replica"] = _check_replica()
    failing = [name for name, error in checks.items() if error]
    degraded_only = failing == ["replica"]
    body = {
        "status": "ok" if not failing else "degraded" if degraded_only else "unavailable",
        "checks": {name: ("ok" if error is None else error) for name, error in checks.items()},
        "failing": failing,
    }
    return JsonResponse(body, status=200 if not failing or degraded_only else 503)


def readyz(request: HttpRequest) -> JsonResponse:
    error = _check_database()
    return JsonResponse({"status": "ok" if error is None else "unavailable", "database": error or "ok"},
                        status=200 if error is None else 503)
