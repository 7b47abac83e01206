import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.assistant import engine
from cases.assistant.evaluation import TARGETS, evaluate


class Command(BaseCommand):
    help = ("Evaluate the assistant on the held-out complaints and the policy questions: reason and kind "
            "accuracy, confusion, coverage at the confidence threshold, retrieval hit rate, latency.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--check", action="store_true", help="exit non-zero when a target is missed")
        parser.add_argument("--rounds", type=int, default=3, help="latency rounds over the question sets")
        parser.add_argument("--misses", action="store_true", help="list the misclassified complaints")

    def handle(self, *args: Any, **options: Any) -> None:
        report = evaluate(latency_rounds=max(1, options["rounds"]))
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._print(report, misses=options["misses"])
        if options["check"] and not report.meets_targets():
            raise CommandError("the assistant misses a target (see above)")

    def _print(self, r: Any, *, misses: bool) -> None:
        w = self.stdout.write
        w(f"held-out complaints: {r.examples}")
        w(f"  reason top-1 accuracy   {r.reason_top1:7.1%}   (target ≥ {TARGETS['reason_top1']:.0%})")
        w(f"  kind accuracy           {r.kind_top1:7.1%}")
        w(f"  coverage at confidence ≥ {engine.SUGGEST_THRESHOLD:.2f}: {r.coverage:.1%}, "
          f"accuracy when suggesting {r.covered_accuracy:.1%}")
        w(f"  expected calibration error {r.ece:.3f}")
        w("  confusion (rows: true reason; columns: predicted)")
        columns = list(r.confusion) + ["question"]
        w("    " + " " * 19 + "".join(f"{c[:8]:>9}" for c in columns))
        for true, row in r.confusion.items():
            w(f"    {true:<19}" + "".join(f"{row.get(c, 0):>9}" for c in columns))
        w(f"policy questions: {r.policy_questions}")
        w(f"  retrieval top-1 hit rate {r.retrieval_top1:6.1%}")
        w(f"  retrieval top-3 hit rate {r.retrieval_top3:6.1%}   (target ≥ {TARGETS['retrieval_top3']:.0%})")
        w(f"  questions answered without a (wrong) suggestion {r.questions_without_suggestion:.1%}")
        w(f"latency per question (engine.ask, no order item): p50 {r.latency_p50_ms:.1f} ms, "
          f"p95 {r.latency_p95_ms:.1f} ms   (target ≤ {TARGETS['latency_p95_ms']:.0f} ms)")
        w(f"latency per question about an order item (3 sample items, item-aware sentences): "
          f"p50 {r.latency_item_p50_ms:.1f} ms, p95 {r.latency_item_p95_ms:.1f} ms   (target ≤ {TARGETS['latency_p95_ms']:.0f} ms)")
        w("targets met" if r.meets_targets() else "TARGET MISSED")
        if misses:
            for text_, true, predicted, p in r.misses:
                w(f"  miss: {text_}  [{true} → {predicted} {p:.2f}]")
