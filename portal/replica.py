"""The read replica: its lag (checked at most once a second per process) and read-your-writes.

Read-your-writes: a user's write (any POST/PUT/PATCH/DELETE that succeeds) pins that user's reads to the
primary for `READ_YOUR_WRITES_SECONDS`, by a signed cookie (browsers) and a cache key per user (API
clients that keep no cookies; the cache is Redis in production, shared by every web process).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from portal.db_router import REPLICA, replica_configured, replica_reads

PIN_COOKIE = "shouhou_rw"
_PIN_SALT = "portal.replica.pin"
_CHECK_EVERY_SECONDS = 1.0

LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()))
END
"""


class _LagCache(threading.local):
    checked_at: float = 0.0
    lag: float | None = None
    error: str | None = None


_lag_cache = _LagCache()


def replica_lag(*, max_age: float = _CHECK_EVERY_SECONDS) -> tuple[float | None, str | None]:
    """(seconds behind the primary, None) or (None, what went wrong). 0 when it has replayed all it received.

    While WAL is waiting to be replayed the lag is the age of the last replayed commit: an upper bound,
    so a replica that stops replaying is reported (and skipped) within the threshold.
    """
    now = time.monotonic()
    if now - _lag_cache.checked_at < max_age:
        return _lag_cache.lag, _lag_cache.error
    lag: float | None = None
    error: str | None = None
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
        if row is None or row[0] is None:
            error = "not a standby"
        else:
            lag = float(row[0])
    except Exception as exc:  # noqa: BLE001 - an unreachable replica is reported, not raised
        error = exc.__class__.__name__
        connections[REPLICA].close()
    _lag_cache.checked_at, _lag_cache.lag, _lag_cache.error = now, lag, error
    return lag, error


def replica_is_fresh() -> bool:
    lag, error = replica_lag()
    return error is None and lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS


def _pin_key(request: HttpRequest) -> str | None:
    """Who is writing: the API credential when there is one (DRF authenticates inside the view, after this
    middleware has decided), else the session's user."""
    auth = request.headers.get("Authorization", "")
    if auth:
        return "portal:rw-pin:a:" + hashlib.sha256(auth.encode()).hexdigest()[:32]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"portal:rw-pin:u:{user.pk}"
    return None


def pinned_to_primary(request: HttpRequest) -> bool:
    """Did this user (or this browser) write within the last READ_YOUR_WRITES_SECONDS?"""
    raw = request.COOKIES.get(PIN_COOKIE)
    if raw:
        try:
            signing.loads(raw, salt=_PIN_SALT, max_age=settings.READ_YOUR_WRITES_SECONDS)
            return True
        except signing.BadSignature:
            pass
    key = _pin_key(request)
    if key is None:
        return False
    try:
        return bool(cache.get(key))
    except Exception:  # noqa: BLE001 - no cache: the cookie alone decides
        return False


def pin_to_primary(request: HttpRequest, response: HttpResponse) -> None:
    seconds = settings.READ_YOUR_WRITES_SECONDS
    response.set_cookie(PIN_COOKIE, signing.dumps(1, salt=_PIN_SALT), max_age=seconds, httponly=True,
                        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    key = _pin_key(request)
    if key is not None:
        try:
            cache.set(key, 1, timeout=seconds)
        except Exception:  # noqa: BLE001
            pass


class ReplicaReadsMiddleware:
    """Opens replica reads for the listed views' GETs (rendering included); pins a writer to the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.views = frozenset(settings.DATABASE_REPLICA_VIEWS)

    def _listed(self, request: HttpRequest) -> bool:
        try:
            return resolve(request.path_info).view_name in self.views
        except Resolver404:
            return False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        if request.method in ("GET", "HEAD"):
            if self._listed(request) and not pinned_to_primary(request):
                with replica_reads():
                    return self.get_response(request)
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code < 400:
            pin_to_primary(request, response)
        return response
