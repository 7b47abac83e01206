"""`manage.py capacity`: per-core throughput of submissions, actions, queue reads and the sweep
(portal/benchmarks/capacity.py; figures in docs/scale.md). Writes its own rows (shop `cap-<time>`)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Measure per-core throughput (client + PostgreSQL backend CPU) of the four operations that scale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--n", type=int, default=300, help="requests per HTTP operation")
        parser.add_argument("--sweep", type=int, default=2000, help="due deadlines for the sweep")
        parser.add_argument("--b1", action="store_true", help="only the bench's B1 request, in core-ms (needs bench data)")

    def handle(self, *args: Any, **options: Any) -> None:
        from portal.benchmarks.capacity import b1_cpu, run

        settings.DEBUG = False
        rows = [b1_cpu(options["n"])] if options["b1"] else run(options["n"], options["sweep"])
        for row in rows:
            self.stdout.write(json.dumps(row, ensure_ascii=False))
