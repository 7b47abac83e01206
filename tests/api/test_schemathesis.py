"""Schemathesis against the live test server, as a consumer, a merchant, an agent and a supervisor.

Every check but `positive_data_acceptance` (a schema-valid request may still be refused by a business rule;
such refusals must be documented responses with contract codes, which the other checks verify), all four
phases (examples, coverage, fuzzing, stateful), a fixed seed and few examples. The schema's examples are
pointed at the demo world's real ids first (a case on which the role may take each action, its pickups,
evidence and orders), so the examples phase walks the happy paths too.

CI runs each role with `--max-examples 2`; `make soak` (SOAK=1) runs more examples with a random seed. The
figures of each run (operations, requests, checks) are printed and written to var/schemathesis/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from portal.models import ApiToken, User

SOAK = os.environ.get("SOAK") == "1"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25" if SOAK else "2"))
SEED = None if SOAK else 24
ROLES = {"consumer": "alice", "merchant": "bob", "agent": "carol", "supervisor": "dave"}
# The coverage phase (boundary and negative values of every parameter) is the costly one: in CI each
# operation gets it once, from the role that may use it; the soak runs it for every role.
COVERAGE_OWNER = {
    "consumer": r"^(auth_token|orders_list|cases_list|cases_create|cases_retrieve|cases_(evidence|messages)_.*|"
                r"evidence_file|cases_pickup_.*|pickups_.*|couriers_webhook|cases_rating_create|cases_visit_options|"
                r"cases_action_(revise|withdraw|escalate|ship_return|confirm_completion|expire|book_visit|cancel_visit))$",
    "merchant": r"^(cases_action_(approve|reject|confirm_receipt|refuse_receipt|ship_replacement|ship_repaired|"
                r"approve_refund)|shops_scorecard|case_reply_suggestions)$",
    "agent": r"^(cases_action_(intervene|close_evidence)|cases_rating_hide_comment)$",
    "supervisor": r"^(marketplace_import|cases_action_rule)$",
}
REPORTS = Path(__file__).resolve().parents[2] / "var" / "schemathesis"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def _get(client: Any, url: str, token: str) -> Any:
    response = client.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response.json()


def _point_examples_at_real_ids(schema: dict[str, Any], base: str, token: str, role: str) -> None:
    """Replace the schema's example ids with ids of this role's world: for each action a case on which the
    role may take it now, and the role's own orders, pickups and evidence."""
    import requests

    with requests.Session() as client:
        cases = _get(client, f"{base}/api/v1/cases/?page_size=200", token)["results"]
        details = [_get(client, f"{base}/api/v1/cases/{c['id']}/", token) for c in cases]
        orders = _get(client, f"{base}/api/v1/orders/?page_size=200", token)["results"] if role == "consumer" else []
    by_action = {a: c["id"] for c in reversed(details) for a in c["available_actions"]}
    pickup = next((c["pickup"]["id"] for c in details if c["pickup"]), None)
    evidence = next((e["id"] for c in details for e in c.get("evidence", [])), None)
    no_photo = ("other", "no_reason", "not_received", "not_shipped")  # reasons a JSON body can open
    opening = next(({"order_item": i["id"], "kind": a["kind"], "reason": reason, "quantity": 1,
                     "description": "schemathesis", "condition_intact": True}
                    for o in orders for i in o["items"] for a in i["after_sales"]
                    for reason in a["open"] if reason in no_photo and a["kind"] in ("exchange", "repair")), None)
    any_case = details[0]["id"] if details else None
    # a finished case not yet rated (the consumer's rating), a rated one (staff hide its comment), a shop
    rateable = next((c["id"] for c in details if c["rating"] is None
                     and c["state"] in ("refunded", "completed", "closed")), any_case)
    rated = next((c["id"] for c in details if c["rating"] is not None), any_case)
    shop = next((c["shop"] for c in details), None)
    per_operation = {"cases_rating_create": rateable, "cases_rating_hide_comment": rated}
    for item in schema["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            op_id = operation.get("operationId", "")
            action = op_id.removeprefix("cases_action_") if op_id.startswith("cases_action_") else None
            for param in operation.get("parameters", []):
                if param.get("in") != "path":
                    continue
                case_id = by_action.get(action, any_case) if action else per_operation.get(op_id, any_case)
                value = {"case_id": case_id, "pickup_id": pickup, "evidence_id": evidence,
                         "code": shop}.get(param["name"])
                if value is not None:
                    param["example"] = value
            if op_id == "cases_create" and opening is not None:
                for media in operation["requestBody"]["content"].values():
                    media["example"] = opening
    assert any_case is not None, f"the demo world gives the {role} no case"


def _figures(ndjson: Path) -> dict[str, int]:
    """Requests sent and checks run, from the run's event stream."""
    requests_sent = checks = 0
    for line in ndjson.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished:
            recorder = finished["recorder"]
            requests_sent += len(recorder.get("interactions", {}))
            checks += sum(len(results) for results in recorder.get("checks", {}).values())
    return {"requests": requests_sent, "checks": checks}


def _run(schema_file: Path, base: str, token: str, out: Path, *, phases: str, include: str | None) -> dict:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(schema_file), "--url", base,
        "-H", f"Authorization: Bearer {token}",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--phases", phases, "--max-examples", str(MAX_EXAMPLES), "--workers", "1",
        # the assistant builds its index and classifier on its first answer after a bare migrate (api.md)
        "--request-timeout", "60", "--max-response-time", "30", "--no-color", "--suppress-health-check", "all",
        "--report", "json,ndjson", "--report-json-path", str(out.with_suffix(".json")),
        "--report-ndjson-path", str(out.with_suffix(".ndjson")),
    ]
    if SEED is not None:  # deterministic: no example database either
        command += ["--seed", str(SEED), "--generation-deterministic"]
    else:
        command += ["--generation-database", "none"]
    if include:
        command += ["--include-operation-id-regex", include]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, cwd=schema_file.parent)
    out.with_suffix(".txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    assert out.with_suffix(".json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert done.returncode == 0 and not report["failures"] and not report["errors"], (
        f"Schemathesis found failures ({out.with_suffix('.txt')}):\n" + done.stdout[-12000:])
    return {"operations": report["operations"]["tested"], "test_cases": report["test_cases"]["generated"],
            **_figures(out.with_suffix(".ndjson"))}


@pytest.fixture
def demo_world(live_server, settings):  # type: ignore[no-untyped-def]
    """The demo marketplace (a case in every state) behind the live server; throttles off (a dummy cache)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    call_command("seed_demo", verbosity=0, stdout=StringIO())
    return live_server.url


@pytest.mark.parametrize("role", list(ROLES))
def test_schemathesis_finds_nothing(demo_world, role, tmp_path):  # type: ignore[no-untyped-def]
    import requests

    base = demo_world
    token = ApiToken.issue(User.objects.get(username=ROLES[role]))
    schema = requests.get(f"{base}/api/schema/?format=json", timeout=60).json()
    _point_examples_at_real_ids(schema, base, token, role)
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema), encoding="utf-8")
    REPORTS.mkdir(parents=True, exist_ok=True)
    figures = [
        _run(schema_file, base, token, REPORTS / f"{role}-coverage", phases="coverage",
             include=None if SOAK else COVERAGE_OWNER[role]),
        _run(schema_file, base, token, REPORTS / f"{role}-fuzz", phases="examples,fuzzing,stateful", include=None),
    ]
    total = {key: sum(f[key] for f in figures) for key in ("test_cases", "requests", "checks")}
    total["operations"] = max(f["operations"] for f in figures)
    (REPORTS / f"{role}-figures.json").write_text(json.dumps(total), encoding="utf-8")
    print(f"schemathesis as {role}: {total}")
    assert total["operations"] >= 30 and total["checks"] > total["requests"] > 0
