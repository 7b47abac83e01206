"""Joining test threads with a bound: a deadlock fails the test within a minute instead of hanging CI."""

from __future__ import annotations

import threading
from collections.abc import Iterable

JOIN_TIMEOUT = 60.0


def join_all(threads: Iterable[threading.Thread], timeout: float = JOIN_TIMEOUT) -> None:
    """Join every thread, each within `timeout` seconds; fail naming the threads still running."""
    threads = list(threads)
    for t in threads:
        t.join(timeout=timeout)
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"threads still running after {timeout:.0f} s (deadlock?): {alive}"
