"""POST /api/v1/assistant/ask/: the contract's shape, language, suggestions, handoff, 404s, the log."""

from __future__ import annotations

import pytest

from cases.assistant.models import Exchange
from tests import factories as f

ASK = "/api/v1/assistant/ask/"
pytestmark = pytest.mark.django_db


def ask(client, question, **extra):  # type: ignore[no-untyped-def]
    body = {"question": question, **extra}
    return client.post(ASK, body, format="json")


def assert_shape(data: dict) -> None:
    assert set(data) >= {"answer", "sources", "suggestion", "confidence", "handoff"}
    assert isinstance(data["answer"], str) and data["answer"]
    assert all(set(s) >= {"id", "title"} for s in data["sources"])
    assert 0 <= data["confidence"] <= 1
    assert isinstance(data["handoff"], bool)
    if data["suggestion"] is None:
        assert data["confidence"] == 0
    else:
        assert set(data["suggestion"]) == {"kind", "reason"}


def test_policy_question_is_answered_from_the_knowledge_base_with_its_source(api, consumer):
    response = ask(api(consumer), "生鲜能七天无理由吗")
    assert response.status_code == 200
    data = response.json()
    assert_shape(data)
    assert data["sources"][0] == {"id": "excluded-fresh", "title": "生鲜商品不支持七天无理由"}
    assert "生鲜" in data["answer"]
    assert data["suggestion"] is None and data["confidence"] == 0
    assert data["handoff"] is False


@pytest.mark.parametrize(("question", "entry"), [
    ("运费谁出", "freight-payer"), ("上门取件要钱吗", "pickup-fee"), ("退款多久到账", "refund-timing"),
])
def test_the_issues_policy_questions_find_their_entries(api, consumer, question, entry):
    data = ask(api(consumer), question).json()
    assert entry in [s["id"] for s in data["sources"]]
    assert data["handoff"] is False


def test_answers_in_english_from_accept_language(api, consumer):
    client = api(consumer)
    data = client.post(ASK, {"question": "can I return fresh fruit"}, format="json",
                       HTTP_ACCEPT_LANGUAGE="en").json()
    assert data["sources"][0]["title"] == "Fresh food has no 7-day no-reason return"
    assert data["answer"].startswith("Fresh food")


def test_the_users_language_setting_beats_accept_language(client, consumer):
    client.force_login(consumer)
    client.cookies["django_language"] = "en"
    data = client.post(ASK, {"question": "运费谁出"}, content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    assert data["sources"][0]["title"] == "Who pays the return freight"
    assert "merchant pays" in data["answer"]


@pytest.mark.parametrize(("complaint", "kind", "reason"), [
    ("收到的杯子裂了", "return_refund", "quality_issue"),
    ("尺码不合适想换大一号", "exchange", "no_reason"),
    ("等了十天还没发货", "refund_only", "not_shipped"),
])
def test_free_text_complaints_get_a_kind_and_reason(api, consumer, complaint, kind, reason):
    data = ask(api(consumer), complaint).json()
    assert_shape(data)
    assert data["suggestion"] == {"kind": kind, "reason": reason}
    assert 0.5 <= data["confidence"] <= 1
    assert data["handoff"] is False


def test_a_question_it_cannot_answer_hands_off(api, consumer):
    data = ask(api(consumer), "今天北京天气怎么样").json()
    assert_shape(data)
    assert data["handoff"] is True
    assert data["suggestion"] is None and data["confidence"] == 0


@pytest.mark.parametrize("greeting", ["你好", "在吗", "hello"])
def test_a_greeting_gets_no_suggestion(api, consumer, greeting):
    data = ask(api(consumer), greeting).json()
    assert data["suggestion"] is None and data["confidence"] == 0


def test_asking_for_a_person_hands_off(api, consumer):
    data = ask(api(consumer), "转人工").json()
    assert data["handoff"] is True
    assert data["sources"][0]["id"] == "human-agent"


def test_any_signed_in_user_may_ask_but_not_anonymous(api, consumer, merchant, agent):
    assert ask(api(), "运费谁出").status_code == 401
    for user in (merchant, agent):
        assert ask(api(user), "运费谁出").status_code == 200


def test_another_consumers_item_is_a_404_before_anything_else(api, consumer, item):
    stranger = f.ConsumerFactory(username="mallory")
    for body in ({"question": "运费谁出", "order_item": item.pk}, {"order_item": item.pk},
                 {"question": "x" * 5000, "order_item": item.pk}):
        response = api(stranger).post(ASK, body, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "not_your_order"
    merchant_of_shop = item.order.shop.members.first()
    assert ask(api(merchant_of_shop), "运费谁出", order_item=item.pk).status_code == 404
    assert ask(api(consumer), "运费谁出", order_item=10**9).json()["code"] == "not_your_order"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({}, "required", "question"), ({"question": "  "}, "required", "question"),
    ({"question": 5}, "invalid", "question"), ({"question": "x" * 501}, "invalid", "question"),
    ({"question": "运费", "order_item": "abc"}, "invalid", "order_item"),
    ({"question": "运费", "order_item": True}, "invalid", "order_item"),
])
def test_bad_input_is_a_400_naming_the_field(api, consumer, body, code, field):
    response = api(consumer).post(ASK, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["field"] == field


def test_a_non_object_body_is_a_400(api, consumer):
    response = api(consumer).post(ASK, ["运费谁出"], format="json")
    assert response.status_code == 400


def test_every_answer_is_logged_with_its_question(api, consumer, item):
    data = ask(api(consumer), "收到的杯子裂了", order_item=item.pk).json()
    row = Exchange.objects.get()
    assert (row.user, row.order_item, row.question) == (consumer, item, "收到的杯子裂了")
    assert row.answer == data["answer"]
    assert row.sources == data["sources"]
    assert (row.suggested_kind, row.suggested_reason) == (data["suggestion"]["kind"], data["suggestion"]["reason"])
    assert float(row.confidence) == pytest.approx(data["confidence"], abs=1e-4)
    assert row.handoff is False and row.language.startswith("zh")


@pytest.mark.parametrize("body", [
    {"question": "杯子\x00裂了"}, {"question": "运费", "order_item": 1.5}, {"question": "运费", "order_item": [1]},
    {"question": "运费", "order_item": {"id": 1}}, {"question": ["运费"]}, {"question": "运费", "order_item": -3},
    {"question": "运费", "order_item": 10**30}, {"question": "🙂" * 500}, {"question": "<script>alert(1)</script>"},
])
def test_hostile_input_never_500s(api, consumer, body):
    response = api(consumer).post(ASK, body, format="json")
    assert response.status_code in (200, 400, 404)


def test_nul_characters_in_page_forms_and_threads_never_500(client, consumer, item):
    client.force_login(consumer)
    assert client.post("/assistant/", {"question": "杯子\x00裂了"}).status_code == 200
    response = client.post("/assistant/handoff/", {"order_item": item.pk, "message": "a\x00b"})
    assert response.status_code == 302
    assert client.post(response["Location"], {"body": "c\x00d"}).status_code == 302
