"""The rating form on the closed case page, in Chinese and English."""

from __future__ import annotations

import pytest
from django.test import Client

from cases import services
from cases.quality.models import CaseRating

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(consumer, item):  # type: ignore[no-untyped-def]
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="50.00")
    services.case_withdraw(case_id=case.pk, actor=consumer)
    return case


def test_closed_case_page_offers_the_form_and_shows_the_rating(consumer, closed):
    client = Client()
    client.force_login(consumer)
    page = client.get(f"/cases/{closed.pk}/").content.decode()
    assert "售后服务评价" in page and "提交评价" in page and "响应快" in page
    bad = client.post(f"/cases/{closed.pk}/rating/", {"comment": "x"})
    assert bad.status_code == 400 and "请选择星级" in bad.content.decode()
    ok = client.post(f"/cases/{closed.pk}/rating/", {"stars": "4", "tags": ["polite"], "comment": "满意"})
    assert ok.status_code == 302
    rating = CaseRating.objects.get(case=closed)
    assert (rating.stars, rating.tags, rating.comment) == (4, ["polite"], "满意")
    page = client.get(f"/cases/{closed.pk}/").content.decode()
    assert "★★★★" in page and "态度好" in page and "满意" in page and "提交评价" not in page


def test_the_form_in_english(consumer, closed):
    client = Client()
    client.force_login(consumer)
    page = client.get(f"/cases/{closed.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Rate the after-sales service" in page and "Fast response" in page and "Submit rating" in page


def test_open_case_has_no_form(consumer, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="50.00")
    client = Client()
    client.force_login(consumer)
    assert "提交评价" not in client.get(f"/cases/{case.pk}/").content.decode()
    assert client.post(f"/cases/{case.pk}/rating/", {"stars": "4"}).status_code == 302
    assert not CaseRating.objects.exists()
