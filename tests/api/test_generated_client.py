"""A Python client generated from /api/schema/ (openapi-python-client) talks to the live server: a consumer
opens a case, the merchant approves it, and both read it back through the generated models."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal.models import ApiToken
from tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True)]

CONFIG = """post_hooks: []
content_type_overrides:
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  image/webp: application/octet-stream
  application/pdf: application/octet-stream
"""


def _generate(schema_url: str, where: Path) -> None:
    import requests

    (where / "schema.json").write_bytes(requests.get(schema_url, timeout=60).content)
    (where / "config.yaml").write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(where / "schema.json"),
         "--meta", "none", "--output-path", str(where / "shouhou_client"), "--config", str(where / "config.yaml")],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout  # every operation and shape made it into the client
    # openapi-python-client 0.29 writes `| Unset` on an operation with two request media types (JSON and
    # multipart: POST /cases/) without importing `Unset`; add the import it forgot.
    for module in (where / "shouhou_client" / "api").rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        if re.search(r"\bUnset\b", text) and not re.search(r"^from \S+ import .*\bUnset\b", text, re.M):
            module.write_text(text.replace("from ...types import Response, UNSET",
                                           "from ...types import Response, UNSET, Unset", 1), encoding="utf-8")


def test_generated_client_opens_a_case_runs_an_action_and_reads_it_back(live_server, tmp_path, monkeypatch):
    consumer, merchant = f.ConsumerFactory(username="gen_alice"), f.MerchantFactory(username="gen_bob")
    shop = f.ShopFactory(code="gen-acme", members=[merchant])
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=1, unit_price="99.00",
                              paid="99.00")
    _generate(f"{live_server.url}/api/schema/?format=json", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    client_module = importlib.import_module("shouhou_client")
    cases_create = importlib.import_module("shouhou_client.api.cases.cases_create")
    cases_retrieve = importlib.import_module("shouhou_client.api.cases.cases_retrieve")
    approve = importlib.import_module("shouhou_client.api.case_actions.cases_action_approve")
    models = importlib.import_module("shouhou_client.models")

    as_consumer = client_module.AuthenticatedClient(base_url=live_server.url, token=ApiToken.issue(consumer))
    as_merchant = client_module.AuthenticatedClient(base_url=live_server.url, token=ApiToken.issue(merchant))
    body = models.CasesCreateJsonBody(order_item=item.pk, kind=models.Kind.RETURN_REFUND, reason=models.Reason.OTHER,
                                      amount="99.00", description="尺码不合适")
    created = cases_create.sync_detailed(client=as_consumer, body=body)
    assert created.status_code == 201, created.content
    case = created.parsed
    assert isinstance(case, models.Case)
    assert case.state == models.State.PENDING_MERCHANT and case.amount == "99.00"
    assert case.events[0].action == models.EventAction.SUBMIT

    approved = approve.sync_detailed(case.id, client=as_merchant, body=models.CasesActionApproveBody())
    assert approved.status_code == 200, approved.content
    assert approved.parsed.state == models.State.AWAITING_RETURN

    again = cases_retrieve.sync(case.id, client=as_consumer)
    assert isinstance(again, models.Case)
    assert again.state == models.State.AWAITING_RETURN
    assert [e.action for e in again.events] == [models.EventAction.SUBMIT, models.EventAction.APPROVE]
    assert models.CaseAction.SHIP_RETURN in again.available_actions

    # an error comes back as the documented error model with its code
    refused = approve.sync_detailed(case.id, client=as_merchant, body=models.CasesActionApproveBody())
    assert refused.status_code == 409
    assert refused.parsed.code.value == "invalid_transition"
