"""Run the whole portal locally: web server, Celery worker with embedded beat (filesystem broker, SQLite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

# Every clock in seconds so a demo visitor sees deadlines fire (override with CASE_DEADLINES_SECONDS).
DEMO_DEADLINES = (
    '{"merchant_response": 120, "consumer_revise": 600, "consumer_ship": 900, "merchant_receive": 600, '
    '"merchant_ship_replacement": 600, "merchant_repair": 900, "consumer_confirm": 600, "evidence": 600, '
    '"ruling_sla": 900}'
)


class Command(BaseCommand):
    help = "Run web, Celery worker and beat together (the README's demo command)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--seed", action="store_true", help="run seed_demo first")

    def handle(self, *args: Any, addr: str, seed: bool = False, **options: Any) -> None:
        env = dict(os.environ)
        env.setdefault("CASE_DEADLINES_SECONDS", DEMO_DEADLINES)
        env.setdefault("DEADLINE_SWEEP_SECONDS", "5")
        env.setdefault("PORTAL_BASE_URL", f"http://{addr}")
        py = sys.executable
        if seed:
            # The seeded cases keep the real clocks (so every state stays on show); cases opened during
            # the demo run on the demo's clocks: left alone, a new request auto-approves in two minutes.
            subprocess.run([py, "manage.py", "seed_demo"], cwd=settings.BASE_DIR, check=True)
        commands = {
            "web": [py, "manage.py", "runserver", addr, "--noreload"],
            "worker": [py, "-m", "celery", "-A", "portal", "worker", "-B", "-l", "INFO", "-c", "2",
                       "-s", str(settings.VAR_DIR / "celerybeat-schedule")],
        }
        procs = {name: subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True)
                 for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"Shouhou demo on http://{addr}/  (Ctrl-C to stop)"))
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                dead = [name for name, p in procs.items() if p.poll() is not None]
                if dead:
                    self.stderr.write(f"{', '.join(dead)} stopped; shutting the demo down")
                    break
                time.sleep(0.5)
        finally:
            for p in procs.values():
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs.values():
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
