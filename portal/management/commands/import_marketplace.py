"""`manage.py import_marketplace FILE.json`: the API's import, streamed from disk for very large files."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.importer import ImportError_, import_file


class _ProgressBar:
    """A plain-text bar on the command's stderr (an OutputWrapper), redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: Any) -> None:
        self.stream, self.phase, self.last = stream, "", 0.0

    def set_phase(self, phase: str) -> None:
        self.finish()
        self.phase = phase
        self.last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * self.WIDTH)
        self.stream.write(f"\r{self.phase:<15} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:6.1%}",
                          ending="")
        self.stream.flush()

    def finish(self) -> None:
        if self.phase:
            self.stream.write("")
            self.stream.flush()


class Command(BaseCommand):
    help = "Import marketplace users, shops, products and orders from a JSON document (api.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path of the JSON document")
        parser.add_argument("--progress", action="store_true",
                            help="show a progress bar on stderr even when it is not a terminal")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        bar = _ProgressBar(self.stderr) if options["progress"] or self.stderr.isatty() else None
        started = time.monotonic()
        try:
            counts = import_file(path, operator=True, progress=bar.update if bar else None,
                                 on_phase=bar.set_phase if bar else None)
        except FileNotFoundError as exc:
            raise CommandError(f"{path}: no such file") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text") from exc
        except ImportError_ as exc:
            raise CommandError(f"invalid document at {exc.path or '(document)'}: {exc.detail}; "
                               "nothing was imported") from exc
        finally:
            if bar:
                bar.finish()
        if options["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        self.stdout.write(f"Imported in {time.monotonic() - started:.1f}s")
        self.stdout.write(f"{'':10}{'total':>10}{'created':>10}{'updated':>10}{'unchanged':>10}")
        for name in ("users", "shops", "products", "orders"):
            self.stdout.write(f"{name:10}{counts[name]:>10}{counts['created'][name]:>10}"
                              f"{counts['updated'][name]:>10}{counts['unchanged'][name]:>10}")
        self.stdout.write(f"{'items':10}{'':>10}{counts['created']['items']:>10}{counts['updated']['items']:>10}")
        for warning in counts.get("warnings", []):
            self.stderr.write(f"warning: {warning['field']}: {warning['detail']}")
