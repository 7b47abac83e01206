"""Run the whole portal locally: web server, Celery worker with embedded beat (filesystem broker, SQLite)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Every clock in seconds so a demo visitor sees deadlines fire (override with CASE_DEADLINES_SECONDS).
DEMO_DEADLINES = (
    '{"merchant_response": 120, "consumer_revise": 600, "consumer_ship": 900, "merchant_receive": 600, '
    '"merchant_ship_replacement": 600, "merchant_repair": 900, "consumer_confirm": 600, "evidence": 600, '
    '"ruling_sla": 900}'
)
# The demo's mail goes to the log as one line per message (the console backend prints whole MIME texts,
# which the Celery worker re-logs as WARNINGs).
DEMO_EMAIL_BACKEND = "portal.mail.LogSummaryEmailBackend"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when rundemo dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the signal handlers below still stop the children
        pass


def port_in_use(addr: str) -> bool:
    host, _sep, port = addr.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host or "127.0.0.1", int(port))) == 0


def point_simulated_courier(base_url: str) -> int:
    """The simulated courier lives inside the portal: its URL follows the address the demo serves."""
    from django.db import DatabaseError

    from pickups.models import Courier

    try:
        return Courier.objects.filter(code="simulated").exclude(base_url=base_url).update(base_url=base_url)
    except DatabaseError:  # not migrated yet: the web process says so; nothing to point
        return 0


class Command(BaseCommand):
    help = "Run web, Celery worker and beat together (the README's demo command)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--seed", action="store_true", help="run seed_demo first")

    def handle(self, *args: Any, addr: str, seed: bool = False, **options: Any) -> None:
        if ":" not in addr or not addr.rpartition(":")[2].isdigit():
            raise CommandError(f"--addr must be host:port, not {addr!r}")
        if port_in_use(addr):
            raise CommandError(f"{addr} is already in use (an earlier demo still running?); stop it or pass --addr")
        env = dict(os.environ)
        env.setdefault("CASE_DEADLINES_SECONDS", DEMO_DEADLINES)
        env.setdefault("DEADLINE_SWEEP_SECONDS", "5")
        env.setdefault("PORTAL_BASE_URL", f"http://{addr}")
        env.setdefault("PICKUP_SIMULATED_BASE_URL", f"http://{addr}/simulated-courier/")
        env.setdefault("EMAIL_BACKEND", DEMO_EMAIL_BACKEND)
        if point_simulated_courier(env["PICKUP_SIMULATED_BASE_URL"]):
            self.stdout.write(f"simulated courier now reached at {env['PICKUP_SIMULATED_BASE_URL']}")
        py = sys.executable
        if seed:
            # The seeded cases keep the real clocks (so every state stays on show); cases opened during
            # the demo run on the demo's clocks: left alone, a new request auto-approves in two minutes.
            subprocess.run([py, "manage.py", "seed_demo"], cwd=settings.BASE_DIR, check=True, env=env)
        commands = {
            "web": [py, "manage.py", "runserver", addr, "--noreload"],
            "worker": [py, "-m", "celery", "-A", "portal", "worker", "-B", "-l", "INFO", "-c", "2",
                       "-s", str(settings.VAR_DIR / "celerybeat-schedule")],
        }
        stopping: list[int] = []

        def stop(signum: int, *_: Any) -> None:
            stopping.append(signum)

        for signum in STOP_SIGNALS:
            signal.signal(signum, stop)
        procs = {name: subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True,
                                        preexec_fn=_die_with_parent)  # noqa: PLW1509 — only prctl, no locks
                 for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"Shouhou demo on http://{addr}/  (Ctrl-C to stop)"))
        failed: list[str] = []
        try:
            while not stopping:
                failed = [name for name, p in procs.items() if p.poll() is not None]
                if failed:
                    self.stderr.write(f"{', '.join(failed)} stopped; shutting the demo down")
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
                    p.wait()
        if failed:
            raise CommandError(f"the demo's {', '.join(failed)} process exited on its own", returncode=1)
