"""The chat panel on the consumer's pages, the ask page without script, the thread pages."""

from __future__ import annotations

import pytest

from .conftest import open_quality_case

pytestmark = pytest.mark.django_db


def test_orders_page_has_the_panel_with_the_items(client, consumer, item):
    client.force_login(consumer)
    page = client.get("/orders/").content.decode()
    assert "data-assistant" in page and f'<option value="{item.pk}">' in page
    assert "/static/js/assistant.js" in page


def test_case_page_has_the_panel_on_the_cases_item(client, consumer, item):
    case = open_quality_case(item, consumer)
    client.force_login(consumer)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'name="order_item" value="{item.pk}"' in page


def test_ask_page_works_without_script_in_both_languages(client, consumer, item):
    client.force_login(consumer)
    page = client.post("/assistant/", {"question": "收到的杯子裂了", "order_item": item.pk}).content.decode()
    assert 'data-testid="assistant-apply"' in page and "质量问题" in page
    client.cookies["django_language"] = "en"
    page = client.post("/assistant/", {"question": "who pays return shipping"}).content.decode()
    assert "the merchant pays" in page


def test_ask_page_404s_on_someone_elses_item(client, item):
    from tests import factories as f

    client.force_login(f.ConsumerFactory(username="mallory"))
    assert client.post("/assistant/", {"question": "x", "order_item": item.pk}).status_code == 404
    assert client.get(f"/assistant/?order_item={item.pk}").status_code == 404
    assert client.post("/assistant/", {"question": "x", "order_item": "abc"}).status_code == 404


def test_web_handoff_lands_on_the_thread(client, consumer, item):
    client.force_login(consumer)
    response = client.post("/assistant/handoff/", {"order_item": item.pk, "message": "找人工"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "找人工" in page
    assert client.post(response["Location"], {"body": ""}).status_code == 400
