"""Reads that tolerate a second's lag go to the streaming replica; everything else to the primary.

The replica is used only when `DATABASE_REPLICA_URL` is set and only inside `replica_reads()`: the
middleware opens it for a GET of a view listed in `DATABASE_REPLICA_VIEWS` (queues, metrics, dashboards)
unless the user wrote something in the last `READ_YOUR_WRITES_SECONDS` (read-your-writes, see
`portal.replica`). Even then, a read inside a transaction on the primary (a write in progress, a
`select_for_update`) stays on the primary, and so does every write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
# Who is asking is always read from the primary: a new token works at once, a revoked one stops at once.
PRIMARY_ONLY_MODELS = frozenset({"portal.User", "portal.ApiToken", "sessions.Session", "auth.Group",
                                 "auth.Permission", "contenttypes.ContentType"})
_replica_ok: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads(allowed: bool = True) -> Iterator[None]:
    """Within this block, plain reads may be served by the replica (when one is configured and fresh)."""
    token = _replica_ok.set(allowed)
    try:
        yield
    finally:
        _replica_ok.reset(token)


def read_alias() -> str:
    """The database a read issued now goes to."""
    if not _replica_ok.get() or not replica_configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:  # inside a write: read what it is about to change
        return DEFAULT_DB_ALIAS
    from portal.replica import replica_is_fresh

    return REPLICA if replica_is_fresh() else DEFAULT_DB_ALIAS


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        if model._meta.label in PRIMARY_ONLY_MODELS:  # type: ignore[attr-defined]  # a model class, as Django routers receive it
            return DEFAULT_DB_ALIAS
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
