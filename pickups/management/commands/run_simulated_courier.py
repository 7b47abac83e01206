"""Drive the simulated courier without Celery beat: sweep pickups every few seconds until stopped."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pickups.sweep import pickups_sweep


class Command(BaseCommand):
    help = "Advance simulated courier bookings and send their signed status events to the portal's webhook."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=5.0, help="seconds between two sweeps")
        parser.add_argument("--once", action="store_true", help="sweep once and exit")

    def handle(self, *args: Any, every: float, once: bool, **options: Any) -> None:
        while True:
            result = pickups_sweep()
            if result["simulated_steps"] or result["no_shows"] or result["redispatched"]:
                self.stdout.write(str(result))
            if once:
                return
            time.sleep(max(every, 0.5))
