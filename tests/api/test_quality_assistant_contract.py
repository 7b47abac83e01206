"""Ratings, scorecards and the assistant (api.md "Ratings, scorecards and the assistant"; issue #24): the
server's answers have api.md's exact shapes, every answer (success or error) is what `/api/schema/` documents
for its operation and status, and a value of the wrong JSON type is a 400 `invalid` that writes nothing."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from django.utils import timezone

from cases import services
from cases.assistant import model_store
from cases.models import AfterSalesCase, CaseEvent, Refund
from cases.quality.models import RATING_TAGS, CaseRating
from tests import factories as f

pytestmark = pytest.mark.django_db

RATE = re.compile(r"^(0\.\d{4}|1\.0000)$")
HOURS = re.compile(r"^\d+\.\d$")
RATE_KEYS = ("dispute_rate", "intervention_rate", "quality_refund_rate", "self_resolved_rate")
# api.md's scorecard, key for key
SCORECARD_KEYS = {"shop", "from", "to", "dispute_rate", "intervention_rate", "quality_refund_rate", "refund_hours",
                  "first_response_hours", "self_resolved_rate", "rating", "category_average"}
AVERAGE_KEYS = {"dispute_rate", "intervention_rate", "quality_refund_rate", "refund_hours", "first_response_hours",
                "self_resolved_rate"}


# --- the schema, as JSON Schema ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _json_schema(node: Any, components: dict[str, Any]) -> Any:
    """OpenAPI 3.0 → JSON Schema: `$ref`s resolved, `nullable` as a null alternative."""
    if isinstance(node, list):
        return [_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    out = {k: _json_schema(v, components) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable"):
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return {"anyOf": [out, {"type": "null"}]}
    return out


def operation(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return schema["paths"][path][method]


def conforms(schema: dict[str, Any], path: str, method: str, response: Any) -> Any:
    """The answer's status is documented for the operation and its body is what that status documents (an
    error's `code` among the codes listed for it); returns the body."""
    responses = operation(schema, path, method)["responses"]
    status = str(response.status_code)
    assert status in responses, (path, method, status, response.content[:300])
    body = response.json()
    documented = responses[status]["content"]["application/json"]["schema"]
    jsonschema.validate(body, _json_schema(copy.deepcopy(documented), schema["components"]["schemas"]))
    return body


def request_schema(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = operation(schema, path, method)["requestBody"]["content"]["application/json"]["schema"]
    return _json_schema(copy.deepcopy(body), schema["components"]["schemas"])


RATING = "/api/v1/cases/{case_id}/rating/"
HIDE = "/api/v1/cases/{case_id}/rating/hide-comment/"
SCORECARD = "/api/v1/shops/{code}/scorecard/"
ASK = "/api/v1/assistant/ask/"
SUGGEST = "/api/v1/cases/{case_id}/reply-suggestions/"
CASE = "/api/v1/cases/{case_id}/"
CASES = "/api/v1/cases/"


@pytest.fixture
def refunded(consumer, merchant, item):  # type: ignore[no-untyped-def]
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="50.00")
    services.case_approve(case_id=case.pk, actor=merchant)
    return case


def at(template: str, **ids: Any) -> str:
    return template.format(**ids)


# --- the request schemas say what the server checks ----------------------------------------------------------

def test_rating_request_schema_is_exact(schema):
    body = operation(schema, RATING, "post")["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["stars"]
    stars = body["properties"]["stars"]
    assert (stars["type"], stars["minimum"], stars["maximum"]) == ("integer", 1, 5)
    tags = schema["components"]["schemas"]["RatingTag"]["enum"]
    assert tags == list(RATING_TAGS) == ["fast_response", "polite", "fair_solution", "clear_explanation",
                                         "slow_response", "unhelpful", "pushed_to_withdraw"]
    assert body["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/RatingTag"}
    assert body["properties"]["comment"]["maxLength"] == 500
    pickup = body["properties"]["pickup_stars"]
    assert (pickup["type"], pickup["minimum"], pickup["maximum"], pickup["nullable"]) == ("integer", 1, 5, True)
    codes = operation(schema, RATING, "post")["responses"]["400"]["content"]["application/json"]["schema"]
    assert {"invalid", "not_rateable", "already_rated", "rating_window_closed"} <= set(
        codes["properties"]["code"]["enum"])
    hide = operation(schema, HIDE, "post")["requestBody"]["content"]["application/json"]["schema"]
    assert hide["required"] == ["reason"] and hide["properties"]["reason"]["maxLength"] == 500
    ask = operation(schema, ASK, "post")
    ask_body = ask["requestBody"]["content"]["application/json"]["schema"]
    assert ask_body["required"] == ["question"] and ask_body["properties"]["question"]["maxLength"] == 500
    assert ask_body["properties"]["order_item"]["type"] == "integer"
    assert ask["responses"]["404"]["content"]["application/json"]["schema"]["properties"]["code"]["enum"] == [
        "not_found", "not_your_order"]
    for path, method in ((RATING, "post"), (HIDE, "post"), (SCORECARD, "get"), (ASK, "post"), (SUGGEST, "get")):
        op = operation(schema, path, method)
        assert {"401", "403", "404", "405"} <= set(op["responses"]), path
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"]["properties"]["code"]["enum"], (path, status)


@pytest.mark.parametrize("body", [{"stars": 4, "tags": ["polite"], "comment": "好"}, {"stars": 1},
                                  {"stars": 5, "tags": None, "comment": None, "pickup_stars": None}])
def test_schema_valid_rating_bodies_pass_the_schema(schema, body):
    jsonschema.validate(body, request_schema(schema, RATING, "post"))


@pytest.mark.parametrize("body", [{"stars": "5"}, {"stars": True}, {"stars": 0}, {"stars": 6}, {"stars": 4.5},
                                  {"stars": 5, "tags": "polite"}, {"stars": 5, "tags": ["great"]},
                                  {"stars": 5, "comment": "好" * 501}, {"stars": 5, "pickup_stars": "4"}])
def test_schema_invalid_rating_bodies_fail_the_schema(schema, body):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, request_schema(schema, RATING, "post"))


# --- ratings ----------------------------------------------------------------------------------------------

def test_rating_has_api_md_shape_on_the_answer_the_detail_and_every_list_row(schema, api, consumer, merchant,
                                                                             agent, refunded):
    response = api(consumer).post(at(RATING, case_id=refunded.pk),
                                  {"stars": 4, "tags": ["fast_response", "polite"], "comment": "很快"}, format="json")
    assert response.status_code == 201
    rating = conforms(schema, RATING, "post", response)
    # api.md: {"stars","tags","comment","at"}, plus pickup_stars (null: no pickup) and comment_hidden
    assert {k: rating[k] for k in ("stars", "tags", "comment", "pickup_stars", "comment_hidden")} == {
        "stars": 4, "tags": ["fast_response", "polite"], "comment": "很快", "pickup_stars": None,
        "comment_hidden": False}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", rating["at"])
    for user in (consumer, merchant, agent):
        client = api(user)
        detail = conforms(schema, CASE, "get", client.get(at(CASE, case_id=refunded.pk)))
        assert detail["rating"] == rating
        rows = conforms(schema, CASES, "get", client.get(CASES))["results"]
        assert [row["rating"] for row in rows if row["id"] == refunded.pk] == [rating]


def test_a_case_without_rating_shows_null_on_detail_and_rows(schema, api, consumer, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="10.00")
    assert conforms(schema, CASE, "get", api(consumer).get(at(CASE, case_id=case.pk)))["rating"] is None
    rows = conforms(schema, CASES, "get", api(consumer).get(CASES))["results"]
    assert "rating" in rows[0] and rows[0]["rating"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"stars": "5"}, "stars"), ({"stars": True}, "stars"), ({"stars": 4.0}, "stars"), ({"stars": [5]}, "stars"),
    ({"stars": {"n": 5}}, "stars"), ({"stars": 5, "tags": "polite"}, "tags"), ({"stars": 5, "tags": [1]}, "tags"),
    ({"stars": 5, "tags": {"polite": True}}, "tags"), ({"stars": 5, "comment": 5}, "comment"),
    ({"stars": 5, "comment": ["好"]}, "comment"), ({"stars": 5, "comment": " " * 501}, "comment"),
    ({"stars": 5, "pickup_stars": "4"}, "pickup_stars"), ({"stars": 5, "pickup_stars": False}, "pickup_stars"),
    ({"stars": None}, "stars"), ({"stars": 0}, "stars"), ({"stars": 5, "tags": ["great"]}, "tags"),
])
def test_wrong_json_types_are_invalid_and_write_nothing(schema, api, consumer, refunded, body, field):
    events = CaseEvent.objects.filter(case=refunded).count()
    response = api(consumer).post(at(RATING, case_id=refunded.pk), body, format="json")
    assert response.status_code == 400
    error = conforms(schema, RATING, "post", response)
    assert (error["code"], error["field"]) == ("invalid", field)
    assert not CaseRating.objects.exists() and CaseEvent.objects.filter(case=refunded).count() == events


def test_a_form_sends_digits_and_repeated_tags(schema, api, consumer, refunded):
    response = api(consumer).post(at(RATING, case_id=refunded.pk),
                                  {"stars": "3", "tags": ["polite", "fair_solution"], "comment": "还行"})
    assert response.status_code == 201, response.content
    assert conforms(schema, RATING, "post", response)["tags"] == ["polite", "fair_solution"]
    assert CaseRating.objects.get().stars == 3


def test_rating_refusals_are_documented(schema, api, consumer, merchant, agent, item, refunded):
    open_case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                     quantity=1, amount="10.00")
    refusals = [
        (api(consumer).post(at(RATING, case_id=open_case.pk), {"stars": 5}, format="json"), 400, "not_rateable"),
        (api(merchant).post(at(RATING, case_id=refunded.pk), {"stars": 5}, format="json"), 403, "permission_denied"),
        (api(agent).post(at(RATING, case_id=refunded.pk), {"stars": 5}, format="json"), 403, "permission_denied"),
        (api(f.ConsumerFactory()).post(at(RATING, case_id=refunded.pk), {"stars": 5}, format="json"), 404,
         "not_found"),
        (api(None).post(at(RATING, case_id=refunded.pk), {"stars": 5}, format="json"), 401, None),
        (api(consumer).post(at(RATING, case_id=refunded.pk), [5], format="json"), 400, "invalid"),
        (api(consumer).post(at(RATING, case_id=refunded.pk), "{", content_type="application/json"), 400,
         "parse_error"),
        (api(consumer).post(at(RATING, case_id=refunded.pk), {"stars": 5, "comment": "a\x00b"}, format="json"), 400,
         "parse_error"),
    ]
    for response, status, code in refusals:
        assert response.status_code == status, (code, response.content)
        body = conforms(schema, RATING, "post", response)
        assert code is None or body["code"] == code
    assert not CaseRating.objects.exists()
    assert api(consumer).post(at(RATING, case_id=refunded.pk), {"stars": 5}, format="json").status_code == 201
    again = api(consumer).post(at(RATING, case_id=refunded.pk), {"stars": 4}, format="json")
    assert conforms(schema, RATING, "post", again)["code"] == "already_rated"


def test_hidden_comment_shape_and_the_hide_operation(schema, api, consumer, merchant, agent, refunded):
    api(consumer).post(at(RATING, case_id=refunded.pk), {"stars": 1, "comment": "骂人的话"}, format="json")
    for body, code in (({"reason": 5}, "invalid"), ({"reason": "x" * 501}, "invalid"), ({}, "required"),
                       ({"reason": "   "}, "required")):
        response = api(agent).post(at(HIDE, case_id=refunded.pk), body, format="json")
        assert response.status_code == 400 and conforms(schema, HIDE, "post", response)["code"] == code
    denied = api(merchant).post(at(HIDE, case_id=refunded.pk), {"reason": "辱骂"}, format="json")
    assert denied.status_code == 403 and conforms(schema, HIDE, "post", denied)["code"] == "permission_denied"
    assert not CaseRating.objects.get().comment_hidden
    response = api(agent).post(at(HIDE, case_id=refunded.pk), {"reason": "辱骂"}, format="json")
    assert response.status_code == 200
    hidden = conforms(schema, HIDE, "post", response)
    assert hidden["comment"] is None and hidden["comment_hidden"] is True and hidden["stars"] == 1
    for user in (consumer, merchant):
        row = conforms(schema, CASES, "get", api(user).get(CASES))["results"][0]
        assert row["rating"] == hidden


# --- the scorecard --------------------------------------------------------------------------------------------

def test_scorecard_has_api_md_shape(schema, api, merchant, agent, shop, refunded):
    opened = timezone.now() - timedelta(hours=3)
    AfterSalesCase.objects.filter(pk=refunded.pk).update(created_at=opened)
    Refund.objects.filter(case=refunded).update(paid_at=opened + timedelta(hours=2), status="succeeded")
    for user in (merchant, agent):
        response = api(user).get(at(SCORECARD, code=shop.code))
        assert response.status_code == 200
        card = conforms(schema, SCORECARD, "get", response)
        assert SCORECARD_KEYS <= set(card) and card["shop"] == shop.code
        assert set(card["category_average"]) == AVERAGE_KEYS
        assert set(card["refund_hours"]) == {"mean", "p90"} and set(card["rating"]) == {"mean", "count"}
        for figures in (card, card["category_average"]):
            for key in RATE_KEYS:
                assert figures[key] is None or RATE.match(figures[key]), (key, figures[key])
            for value in (figures["first_response_hours"], *figures["refund_hours"].values()):
                assert value is None or HOURS.match(value), value
        # the refunded case: opened now, paid 2 h later, finished without the platform
        assert card["intervention_rate"] == "0.0000" and card["self_resolved_rate"] == "1.0000"
        assert card["refund_hours"] == {"mean": "2.0", "p90": "2.0"} and card["rating"] == {"mean": None, "count": 0}


def test_scorecard_refusals_are_documented(schema, api, consumer, shop):
    other = f.MerchantFactory(username="eve")
    f.ShopFactory(code="other", members=[other])
    for user, code in ((other, shop.code), (consumer, shop.code), (other, "nope")):
        response = api(user).get(at(SCORECARD, code=code))
        assert response.status_code == 404 and conforms(schema, SCORECARD, "get", response)["code"] == "not_found"
    assert conforms(schema, SCORECARD, "get", api(None).get(at(SCORECARD, code=shop.code)))


# --- the assistant ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def _assistant_models(tmp_path_factory, django_db_setup):  # type: ignore[no-untyped-def]
    from django.conf import settings

    previous = getattr(settings, "ASSISTANT_MODEL_DIR", "")
    settings.ASSISTANT_MODEL_DIR = str(tmp_path_factory.mktemp("assistant-models"))
    model_store.reset()
    yield
    settings.ASSISTANT_MODEL_DIR = previous
    model_store.reset()


@pytest.mark.usefixtures("_assistant_models")
def test_assistant_answers_have_api_md_shape(schema, api, consumer, merchant, item):
    for client, body in ((api(consumer), {"question": "收到的杯子裂了", "order_item": item.pk}),
                         (api(consumer), {"question": "运费谁出"}), (api(merchant), {"question": "你好"}),
                         (api(consumer), {"question": "转人工", "order_item": None})):
        response = client.post(ASK, body, format="json")
        assert response.status_code == 200
        answer = conforms(schema, ASK, "post", response)
        assert {"answer", "sources", "suggestion", "confidence", "handoff"} <= set(answer)
        assert all(set(s) == {"id", "title"} for s in answer["sources"])
        assert answer["suggestion"] is None or set(answer["suggestion"]) == {"kind", "reason"}
        assert answer["suggestion"] is not None or answer["confidence"] == 0


@pytest.mark.usefixtures("_assistant_models")
def test_assistant_refusals_are_documented(schema, api, consumer, item):
    other = f.ConsumerFactory(username="mallory")
    for client, body, status, code in (
        (api(consumer), {"question": "运费", "order_item": str(item.pk)}, 400, "invalid"),
        (api(consumer), {"question": "运费", "order_item": True}, 400, "invalid"),
        (api(consumer), {"question": "运费", "order_item": 1.5}, 400, "invalid"),
        (api(consumer), {"question": 5}, 400, "invalid"),
        (api(consumer), {"question": "x" * 501}, 400, "invalid"),
        (api(consumer), {}, 400, "required"),
        (api(consumer), {"question": "运\x00费"}, 400, "parse_error"),
        (api(other), {"question": "运费", "order_item": item.pk}, 404, "not_your_order"),
    ):
        response = client.post(ASK, body, format="json")
        assert response.status_code == status, (body, response.content)
        assert conforms(schema, ASK, "post", response)["code"] == code
    form = api(consumer).post(ASK, {"question": "运费谁出", "order_item": str(item.pk)})  # a form: digits
    assert form.status_code == 200 and conforms(schema, ASK, "post", form)


@pytest.mark.usefixtures("_assistant_models")
def test_reply_suggestions_shape_and_refusals(schema, api, consumer, merchant, agent, refunded):
    response = api(merchant).get(at(SUGGEST, case_id=refunded.pk))
    assert response.status_code == 200
    body = conforms(schema, SUGGEST, "get", response)
    assert set(body) == {"suggestions"} and len(body["suggestions"]) <= 3
    assert all(set(s) == {"text", "source"} for s in body["suggestions"])
    for user, status in ((consumer, 403), (agent, 403), (f.MerchantFactory(), 404)):
        refused = api(user).get(at(SUGGEST, case_id=refunded.pk))
        assert refused.status_code == status and conforms(schema, SUGGEST, "get", refused)
