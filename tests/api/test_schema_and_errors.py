"""The schema says what the server does, and the server answers what the schema says (issue #24).

Each server fix that Schemathesis led to has its own test here, so a regression names itself."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from cases.choices import Kind, Reason, State
from cases.lifecycle import ACTIONS
from portal.handlers import server_error
from portal.openapi.operations import ACTION_PATH, OPERATIONS
from tests import factories as f
from tests.staff.helpers import disputed_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _operations(schema):  # type: ignore[no-untyped-def]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_its_errors_with_codes_and_has_examples(schema):
    """Every operation of api.md's tables (portal/openapi/operations.py, one per lifecycle action)."""
    written = set(OPERATIONS) | {(ACTION_PATH.replace("{action}", a), "post") for a in ACTIONS}
    operations = [(p, m, o) for p, m, o in _operations(schema) if (p, m) in written]
    assert len(operations) == len(written) >= 32
    for path, method, operation in operations:
        responses = operation["responses"]
        assert {"404", "405"} <= set(responses), (path, method)
        if operation.get("security") != []:
            assert {"401", "403"} <= set(responses), (path, method)
        for status, response in responses.items():
            media = response.get("content", {})
            if int(status) >= 400:
                error = media["application/json"]["schema"]
                assert error["required"] == ["code", "detail"] and error["properties"]["code"]["enum"], (path, status)
                assert "example" in media["application/json"]
            elif "application/json" in media:
                assert "example" in media["application/json"], (path, method, status)
        for content in operation.get("requestBody", {}).get("content", {}).values():
            assert "example" in content, (path, method)


def test_operations_not_yet_written_still_document_the_error_shape(schema):
    for path, method, operation in _operations(schema):
        for status in ("401", "404"):
            if operation.get("security") == [] and status == "401":
                continue
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error["required"] == ["code", "detail"], (path, method, status)


def test_contract_vocabularies_are_enums(schema):
    schemas = schema["components"]["schemas"]
    assert schemas["Kind"]["enum"] == list(Kind.values)
    assert schemas["Reason"]["enum"] == list(Reason.values)
    assert schemas["State"]["enum"] == list(State.values)
    assert set(schemas["PickupRefusal"]["enum"]) >= {"region_not_covered", "remote_region", "overweight",
                                                     "oversize", "no_slot", "wrong_state"}
    assert schemas["Decision"]["enum"] == ["refund", "reject"]
    assert schemas["Case"]["properties"]["amount"]["pattern"] == r"^-?\d+\.\d{2}$"
    assert "events" in schemas["Case"]["required"] and "events" not in schemas["CaseRow"]["properties"]
    assert {"last_event", "events_count"} <= set(schemas["CaseRow"]["required"])


def test_one_operation_per_action_with_its_own_body(schema):
    rule = schema["paths"]["/api/v1/cases/{case_id}/actions/rule/"]["post"]
    body = rule["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["decision", "rationale"]
    reject = schema["paths"]["/api/v1/cases/{case_id}/actions/reject/"]["post"]
    assert reject["requestBody"]["content"]["application/json"]["schema"]["required"] == ["reason"]
    assert "/api/v1/cases/{case_id}/actions/{action}/" not in schema["paths"]
    file_op = schema["paths"]["/api/v1/evidence/{evidence_id}/file/"]["get"]
    assert set(file_op["responses"]["200"]["content"]) == {"image/jpeg", "image/png", "image/webp",
                                                           "application/pdf"}


def test_import_documents_the_new_optional_fields(schema):
    document = schema["paths"]["/api/v1/marketplace/import/"]["post"]["requestBody"]["content"]["application/json"]
    order = document["schema"]["properties"]["orders"]["items"]["properties"]
    product = document["schema"]["properties"]["products"]["items"]["properties"]
    assert {"carrier", "waybill"} <= set(order) and {"image", "on_site_service"} <= set(product)


def test_docs_page_is_served_without_a_cdn(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"cdn" not in page.content.lower()


# --- JSON errors everywhere under /api/ ------------------------------------------------------------------

def test_unknown_api_path_is_a_json_404_and_elsewhere_html(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["code"] == "not_found" and response.json()["detail"]
    unknown_action = client.post("/api/v1/cases/abc/actions/approve/")
    assert unknown_action.status_code == 404 and unknown_action.json()["code"] == "not_found"
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_unknown_action_name_is_a_json_404(api, consumer, merchant, item):
    case = disputed_case(consumer, merchant, item)
    response = api(consumer).post(f"/api/v1/cases/{case.pk}/actions/fly_away/", {}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_wrong_method_is_a_json_405_with_allow(api, consumer):
    response = api(consumer).delete("/api/v1/cases/")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


def test_server_error_under_api_is_json_and_html_elsewhere():
    api_response = server_error(RequestFactory().get("/api/v1/cases/"))
    assert api_response.status_code == 500 and b'"code": "server_error"' in api_response.content
    page = server_error(RequestFactory().get("/cases/"))
    assert page.status_code == 500 and b"code" not in page.content


# --- what the fuzzer found -------------------------------------------------------------------------------

def test_nul_in_a_login_name_is_a_400_not_a_500(api):
    """Schemathesis: PostgreSQL refuses NUL in text, so a NUL in `username` was a 500."""
    response = api().post("/api/v1/auth/token/", {"username": "a\x00b", "password": "x"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_nul_in_a_message_is_refused(api, consumer, item):
    response = api(consumer).post("/api/v1/cases/1/messages/", {"body": "hi\x00"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["state=%00", "state=nope", "kind=pending", "ordering=", "ordering=price",
                                   "page_size=abc", "page_size=0", "page_size=1&page_size=2", "page=0",
                                   "shop=a%20b", "state=closed&state=refunded"])
def test_case_list_refuses_malformed_query_parameters(api, consumer, query):
    """Schemathesis: `state=%00` was a 500; an empty or unknown `ordering`, a non-integer or repeated
    `page_size` were silently ignored (200)."""
    response = api(consumer).get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400, (query, response.content)
    assert response.json()["code"] == "invalid" and response.json()["field"]


def test_case_list_takes_well_formed_filters(api, consumer):
    response = api(consumer).get("/api/v1/cases/?state=closed,refunded&kind=exchange&ordering=-deadline&page_size=500")
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.parametrize(("field", "value"), [("condition_intact", "abc"), ("quantity", "2"), ("amount", "1e2"),
                                              ("amount", True), ("description", 5), ("kind", 7)])
def test_create_refuses_mistyped_json_fields_on_ones_own_item(api, consumer, item, field, value):
    body = {"order_item": item.pk, "kind": "exchange", "reason": "other", field: value}
    response = api(consumer).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field


def test_create_answers_not_your_order_before_field_types(api, consumer, item):
    other = f.ConsumerFactory(username="mallory")
    body = {"order_item": item.pk, "kind": "exchange", "reason": "other", "condition_intact": "abc"}
    response = api(other).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_your_order"


def test_multipart_create_reads_form_words(api, consumer, item):
    body = {"order_item": str(item.pk), "kind": "exchange", "reason": "other", "quantity": "1",
            "condition_intact": "false"}
    response = api(consumer).post("/api/v1/cases/", body, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["quantity"] == 1


def test_import_is_for_supervisors_only(api, agent, supervisor):
    assert api(agent).post("/api/v1/marketplace/import/", {}, format="json").status_code == 403
    response = api(supervisor).post("/api/v1/marketplace/import/", {}, format="json")
    assert response.status_code == 200 and response.json()["users"] == 0


@pytest.mark.parametrize("body", [{"decision": "reject", "rationale": "证据不足", "amount": "abc"},
                                  {"decision": "reject", "rationale": "证据不足", "require_return": "maybe"},
                                  {"decision": "reject", "rationale": "证据不足", "compensation_points": "5"},
                                  {"decision": 1, "rationale": "证据不足"}])
def test_rule_refuses_a_mistyped_field_whatever_the_decision(api, consumer, merchant, item, supervisor, body):
    """Schemathesis: with `reject`, a malformed `amount` or `require_return` was ignored (200)."""
    case = disputed_case(consumer, merchant, item, close_evidence_by=supervisor)
    response = api(supervisor).post(f"/api/v1/cases/{case.pk}/actions/rule/", body, format="json")
    assert response.status_code == 400, response.content
    case.refresh_from_db()
    assert case.state == "awaiting_ruling"


def test_intervene_note_over_4000_characters_is_refused(api, consumer, merchant, item, agent):
    """Schemathesis: the note had no limit (the schema said 4000)."""
    opened = api(consumer).post("/api/v1/cases/", {"order_item": item.pk, "kind": "exchange", "reason": "other"},
                                format="json").json()
    response = api(agent).post(f"/api/v1/cases/{opened['id']}/actions/intervene/", {"note": "x" * 4001},
                               format="json")
    assert response.status_code == 400 and response.json()["field"] == "note"
    ok = api(agent).post(f"/api/v1/cases/{opened['id']}/actions/intervene/", {"note": "x" * 4000}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "in_arbitration"


def test_refusals_speak_the_users_language(api, consumer):
    chinese = api(consumer).get("/api/v1/cases/?ordering=price")
    english = api(consumer).get("/api/v1/cases/?ordering=price", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.json()["detail"].startswith("ordering 须为以下之一")
    assert english.json()["detail"].startswith("ordering must be one of")


def test_assistant_handoff_is_a_shoppers_and_a_merchant_gets_403_not_500(api, merchant, agent):
    """Schemathesis (as the merchant): a merchant's handoff wrote a thread it could not read back (500)."""
    for user in (merchant, agent):
        response = api(user).post("/api/v1/assistant/handoff/", {"message": "请联系我"}, format="json")
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
