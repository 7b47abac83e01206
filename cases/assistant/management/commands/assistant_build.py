import time
from typing import Any

from django.core.management.base import BaseCommand

from cases.assistant import data, model_store


class Command(BaseCommand):
    help = "Train the assistant's classifiers from the shipped data (cases/assistant/data) into the var directory."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        models = model_store.build()
        model_store.reset()
        self.stdout.write(
            f"built {model_store.model_path()} in {time.perf_counter() - started:.1f} s: "
            f"{len(data.read_labelled(data.TRAIN_FILE))} labelled complaints, "
            f"{len(data.question_examples())} questions, {len(data.knowledge())} knowledge entries, "
            f"reason temperature {models.reason.temperature:.2f}, kind temperature {models.kind.temperature:.2f}")
