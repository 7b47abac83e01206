"""`make bench`: generate a marketplace at scale on PostgreSQL and run B1–B4 (docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from portal.benchmarks import common
from portal.benchmarks.common import BenchError

BENCHES = ("b1", "b2", "b3", "b4", "b5")


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "load_avg_at_start": os.getloadavg()}


class Command(BaseCommand):
    help = "Generate marketplace data (COPY) and run the B1–B5 benchmarks on PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0,
                            help="1.0 = 1,000 shops, 100,000 consumers, 1,000,000 orders and cases; 0.01 for a quick run")
        parser.add_argument("--generate", action="store_true", help="(re)generate the data first")
        parser.add_argument("--no-generate", action="store_true", help="never generate, even if the data is missing")
        parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset of b1,b2,b3,b4,b5")
        parser.add_argument("--runs", type=int, default=3, help="runs per benchmark (min/median/max)")
        parser.add_argument("--requests", type=int, default=200, help="requests per run for B1, B4 and B5")
        parser.add_argument("--b2-count", type=int, default=None, help="due deadlines per B2 run (default 100,000 × scale)")
        parser.add_argument("--b3-seconds", type=int, default=20)
        parser.add_argument("--b3-connections", type=int, default=8)
        parser.add_argument("--b3-workers", type=int, default=4, help="gunicorn sync workers for B3")
        parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""),
                            help="Redis for throttles/cache and payout tasks in B2/B3 (default: $REDIS_URL)")
        parser.add_argument("--json", default=str(Path(settings.VAR_DIR) / "bench" / "results.json"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            common.require_postgresql()
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        settings.DEBUG = False  # in-process requests must not collect every query
        only = [b.strip() for b in options["only"].split(",") if b.strip()]
        unknown = set(only) - set(BENCHES)
        if unknown:
            raise CommandError(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        report: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                                  "scale": options["scale"], "database": settings.DATABASES["default"]["NAME"]}
        try:
            # a fresh database gets the schema first (migrate is a no-op on an up-to-date one)
            call_command("migrate", interactive=False, verbosity=0)
            if options["generate"] or (not options["no_generate"] and not self._has_data()):
                report["generate"] = self._generate(options["scale"])
            report["rows"] = self._rows()
            runs = options["runs"]
            report["warm"] = {}
            # warmed right before each read benchmark: this VM's kernel reclaims idle page cache within minutes
            if "b1" in only:
                report["warm"]["b1"] = self._warm()
                report["b1"] = self._b1(runs, options["requests"])
            if "b4" in only:
                report["warm"]["b4"] = self._warm()
                report["b4"] = self._b4(runs, options["requests"])
            if "b5" in only:
                report["warm"]["b5"] = self._warm()
                report["b5"] = self._b5(runs, options["requests"])
            if "b3" in only:
                report["warm"]["b3"] = self._warm()
                report["b3"] = self._b3(runs, options)
            if "b2" in only:
                count = options["b2_count"] or max(100, round(100_000 * options["scale"]))
                report["b2"] = self._b2(runs, count, options["redis_url"])
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(options["json"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        self.stdout.write(f"results written to {path}")

    # --- steps ------------------------------------------------------------------------------------
    def _has_data(self) -> bool:
        from portal.models import Shop

        return Shop.objects.filter(code="bench-0000").exists()

    def _rows(self) -> dict[str, int]:
        with common.raw_connect() as conn:
            return {t: _first(conn.execute(f"SELECT count(*) FROM {t}").fetchone()) for t in
                    ("portal_shop", "portal_user", "portal_order", "cases_aftersalescase", "cases_caseevent",
                     "cases_deadline", "cases_refund")}

    def _warm(self) -> dict[str, Any]:
        """Read the database's files once (pg_prewarm 'read': into the OS page cache) so B1, B3 and B4
        measure a server whose data fits in memory, not the first touch of cold disk blocks."""
        started = time.perf_counter()
        try:
            with common.raw_connect(autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                blocks = _first(conn.execute(
                    """SELECT coalesce(sum(pg_prewarm(c.oid::regclass, 'read')), 0) FROM pg_class c
                       WHERE c.relkind IN ('r', 'i', 't') AND c.relpersistence = 'p'
                         AND c.relnamespace IN ('public'::regnamespace, 'pg_toast'::regnamespace)""").fetchone())
        except Exception as exc:  # no pg_prewarm (or no right to create it): measure as the cache is
            self.stdout.write(f"warm-up skipped: {exc}")
            return {"skipped": str(exc)}
        seconds = time.perf_counter() - started
        self.stdout.write(f"warm-up: {blocks:,} blocks read in {seconds:.0f}s")
        return {"blocks": int(blocks), "seconds": seconds}

    def _generate(self, scale: float) -> dict[str, Any]:
        from portal.benchmarks.generate import generate

        self.stdout.write(f"generating at scale {scale} …")
        result = generate(scale, log=self.stdout.write)
        connections.close_all()
        self.stdout.write(f"generated in {result.seconds:.0f}s: {result.counts}")
        return {"seconds": result.seconds, "counts": result.counts, "phases": result.phases}

    def _b1(self, runs: int, n: int) -> dict[str, Any]:
        from portal.benchmarks.reads import b1_queue

        results = [b1_queue(n) for _ in range(runs)]
        out = _timings(results, ("api", "page", "floor"))
        last = results[-1]
        out.update({"shop": last["shop"], "shop_cases": last["shop_cases"], "same_rows": last["same_rows"],
                    "explain_api": last["explain_api"], "explain_floor": last["explain_floor"],
                    "page_error": last.get("page_error")})
        out["ratio_p95"] = out["api"]["p95_ms"]["median"] / out["floor"]["p95_ms"]["median"]
        self._say("B1 merchant queue", out, ("api", "page", "floor"))
        self.stdout.write(f"  API/floor p95 ratio: {out['ratio_p95']:.1f}×")
        return out

    def _b4(self, runs: int, n: int) -> dict[str, Any]:
        from portal.benchmarks.reads import b4_case_page

        results = [b4_case_page(n) for _ in range(runs)]
        out = _timings(results, ("api", "page"))
        last = results[-1]
        out.update({k: last[k] for k in ("case", "events", "messages", "evidence")})
        out["page_error"] = last.get("page_error")
        self._say("B4 case page", out, ("api", "page"))
        return out

    def _b5(self, runs: int, n: int) -> dict[str, Any]:
        from portal.benchmarks.scorecard import b5_scorecard

        results = [b5_scorecard(n) for _ in range(runs)]
        out = _timings(results, ("api", "own"))
        last = results[-1]
        out.update({k: last[k] for k in ("shop", "shop_cases", "category", "counts")})
        out["category_pool_uncached_ms"] = common.summary([r["category_pool_uncached_ms"] for r in results])
        out["target_p95_ms"] = 50
        self._say("B5 shop scorecard", out, ("api", "own"))
        self.stdout.write(f"  category pool, uncached: {out['category_pool_uncached_ms']['median']:.0f} ms "
                          f"(once per 5 minutes per category)")
        return out

    def _b3(self, runs: int, options: dict[str, Any]) -> dict[str, Any]:
        from portal.benchmarks.load import Gunicorn, b3_run, submission_in_process

        submissions = [submission_in_process() for _ in range(runs)]
        sub: dict[str, Any] = {k: common.summary([s[k] for s in submissions])
                               for k in ("p50_ms", "p95_ms", "cpu_p50_ms")}
        sub.update({k: submissions[-1][k] for k in ("statements", "queries", "write_statements", "write_queries",
                                                     "sql")})
        self.stdout.write(
            f"B3 submission in process (POST /api/v1/cases/): p50 {sub['p50_ms']['median']:.1f} ms "
            f"(min {sub['p50_ms']['min']:.1f}, max {sub['p50_ms']['max']:.1f}), p95 {sub['p95_ms']['median']:.1f} ms, "
            f"Python CPU p50 {sub['cpu_p50_ms']['median']:.1f} ms; "
            f"{sub['statements']} statements ({sub['queries']} queries), of which the write "
            f"{sub['write_statements']} ({sub['write_queries']} queries) and the 201's case JSON the rest")
        connections.close_all()
        results = []
        with Gunicorn(options["b3_workers"], options["redis_url"]) as server:
            for _ in range(runs):
                results.append(b3_run(server, seconds=options["b3_seconds"],
                                      connections=options["b3_connections"]))
        out: dict[str, Any] = {"runs": results, "submission_in_process": sub}
        for key in ("mixed", "trivial"):
            out[key] = {m: common.summary([r[key][m] for r in results]) for m in ("rps", "p50_ms", "p99_ms", "errors")}
        out["ratio"] = common.summary([r["ratio"] for r in results])
        self.stdout.write(
            f"B3 load: mixed {out['mixed']['rps']['median']:.0f} req/s (p99 {out['mixed']['p99_ms']['median']:.0f} ms, "
            f"errors {out['mixed']['errors']['max']:.0f}); /readyz {out['trivial']['rps']['median']:.0f} req/s; "
            f"ratio {out['ratio']['median']:.2f}"
        )
        return out

    def _b2(self, runs: int, count: int, redis_url: str) -> dict[str, Any]:
        from portal.benchmarks.deadlines import b2_once

        out: dict[str, Any] = {"count": count}
        for kind in ("sweep", "floor"):
            results = [b2_once(count, kind=kind, redis_url=redis_url) for _ in range(runs)]
            out[kind] = {"runs": results, "rate": common.summary([r["rate"] for r in results]),
                         "seconds": common.summary([r["seconds"] for r in results])}
            self.stdout.write(f"B2 {kind}: {out[kind]['rate']['median']:.0f} deadlines/s "
                              f"(min {out[kind]['rate']['min']:.0f}, max {out[kind]['rate']['max']:.0f})")
        out["ratio"] = out["sweep"]["rate"]["median"] / out["floor"]["rate"]["median"]
        out["mix"] = out["sweep"]["runs"][0]["mix"]
        self.stdout.write(f"  sweep/floor: {out['ratio']:.2f}")
        return out

    def _say(self, title: str, out: dict[str, Any], keys: tuple[str, ...]) -> None:
        self.stdout.write(title)
        for key in keys:
            if key in out:
                t = out[key]
                self.stdout.write(f"  {key}: p50 {t['p50_ms']['median']:.1f} ms, p95 {t['p95_ms']['median']:.1f} ms "
                                  f"(min {t['p95_ms']['min']:.1f}, max {t['p95_ms']['max']:.1f}), "
                                  f"{t['queries']} queries"
                                  + (f", {t['statements']} statements" if t.get("statements") is not None else ""))


def _timings(results: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        timings = [r[key] for r in results if key in r]
        if not timings:
            continue
        out[key] = {
            "p50_ms": common.summary([t.p50 for t in timings]), "p95_ms": common.summary([t.p95 for t in timings]),
            "queries": timings[-1].queries, "label": timings[-1].label,
            # everything sent, BEGIN/SET LOCAL/COMMIT included (reads.count_statements)
            "statements": timings[-1].extra.get("statements"),
            "median_of_all_ms": statistics.median([s for t in timings for s in t.samples_ms]),
        }
    return out


def _first(row: tuple[Any, ...] | None) -> Any:
    """The first column of a row an aggregate query always returns."""
    if row is None:
        raise RuntimeError("the query returned no row")
    return row[0]
