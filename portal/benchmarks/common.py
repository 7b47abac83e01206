"""Shared helpers: raw psycopg connections to the Django database, known bench tokens, statistics."""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

TOKEN_SECRET = "shouhou-bench"


class BenchError(Exception):
    """A benchmark cannot run as asked (wrong database, missing data)."""


def require_postgresql() -> None:
    """The suite measures PostgreSQL only: SQLite numbers would say nothing about production."""
    if connection.vendor != "postgresql":
        raise BenchError(
            "make bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/<db> "
            f"(the current database engine is {connection.vendor})."
        )


def conninfo(dbname: str | None = None) -> str:
    db = settings.DATABASES["default"]
    parts = {
        "host": db.get("HOST") or "", "port": str(db.get("PORT") or ""), "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "", "dbname": dbname or db["NAME"],
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


def database_url(dbname: str | None = None) -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{dbname or db['NAME']}"


def raw_connect(dbname: str | None = None, **kwargs: Any) -> psycopg.Connection:
    return psycopg.connect(conninfo(dbname), **kwargs)


def token_key(user_id: int) -> str:
    """The bearer key the generator stores (hashed) for every bench user, derivable by the load generators."""
    return hashlib.sha256(f"{TOKEN_SECRET}:{user_id}".encode()).hexdigest()[:43]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: the figure is a latency somebody actually saw)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(p / 100.0 * len(ordered) + 0.4999))))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """min/median/max over several runs."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def time_calls(fn: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    """Milliseconds per call over n calls, after a few warm-up calls (caches, connections)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    box: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start
