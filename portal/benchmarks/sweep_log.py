"""What the sweep's per-case log line costs (issue 17): `cases.bulk._write_moves` with the production JSON
formatter (settings.LOGGING), writing to a throw-away stream, in µs per case moved.

    python -m portal.benchmarks.sweep_log [N]        # default 20,000 lines, best of 5 runs

No database: the lines are written for made-up moves, which is all the logging does with a real batch. The
figure is set beside the sweep's own cost per case (docs/benchmarks.md, B2: about 400 µs of wall time).
"""

from __future__ import annotations

import io
import logging
import logging.config
import os
import sys
import time
from typing import Any


def measure(n: int = 20_000, runs: int = 5) -> tuple[float, float]:
    """Best µs per case over `runs` runs of `n` moves: (CPU time of this process, wall time). On a shared
    machine the CPU figure is the one to read; the wall time includes waiting for a core."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    django.setup()
    from cases import bulk
    from portal.middleware import RequestIdFilter
    from portal.settings import base

    configurator = logging.config.DictConfigurator(base.LOGGING)
    handler = logging.StreamHandler(io.StringIO())
    formatters: dict[str, Any] = base.LOGGING["formatters"]  # type: ignore[assignment]
    handler.setFormatter(configurator.configure_formatter(dict(formatters["json"])))
    handler.addFilter(RequestIdFilter())
    logger = bulk.log
    saved = logger.handlers, logger.propagate, logger.level
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.INFO
    moves = [(i, f"AS2026120300{i:06d}", "approve", "pending_merchant", "refunded", "merchant_response")
             for i in range(n)]
    best, best_cpu = float("inf"), float("inf")
    try:
        for _ in range(runs):
            handler.stream = io.StringIO()
            start, start_cpu = time.perf_counter(), time.process_time()
            bulk._write_moves(moves)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
            best = min(best, time.perf_counter() - start)
        sample = handler.stream.getvalue().splitlines()[0]
    finally:
        logger.handlers, logger.propagate, logger.level = saved
    print(sample)
    return best_cpu / n * 1e6, best / n * 1e6


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    cpu, wall = measure(count)
    print(f"{cpu:.1f} µs of CPU per case moved ({wall:.1f} µs wall; {count} lines, best of 5 runs)")
