from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cases.quality.consequences import quality_evaluate


class Command(BaseCommand):
    help = "Apply or lift service-quality consequences now (the same code as the periodic task)."

    def handle(self, *args: Any, **options: Any) -> None:
        events = quality_evaluate()
        for event in events:
            self.stdout.write(f"{event.kind} shop={event.shop_id} consumer={event.consumer_id} {event.payload.get('why')}")
        self.stdout.write(f"{len(events)} change(s)")
