"""The consumer's and the merchant's case pages for visits (docs/visits.md), in both languages, and the demo."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import AfterSalesCase
from pickups.models import RepairVisit
from pickups.visits import visit_assess

pytestmark = pytest.mark.django_db


def test_the_consumer_books_and_cancels_a_visit_on_the_case_page(client, visit_case, consumer):
    client.force_login(consumer)
    page = client.get(reverse("web:case", args=[visit_case.pk])).content.decode()
    assert 'data-testid="visit-booking"' in page and 'name="slot"' in page and "¥30.00" in page
    slot = visit_assess(case=visit_case).slots[0]
    response = client.post(reverse("web:case_action", args=[visit_case.pk, "book_visit"]), {"slot": slot.pk})
    assert response.status_code == 302
    assert AfterSalesCase.objects.get(pk=visit_case.pk).state == "awaiting_visit"
    page = client.get(reverse("web:case", args=[visit_case.pk])).content.decode()
    assert 'data-testid="visit-booked"' in page and "cancel_visit" in page
    client.post(reverse("web:case_action", args=[visit_case.pk, "cancel_visit"]))
    assert AfterSalesCase.objects.get(pk=visit_case.pk).state == "awaiting_return"


def test_a_bad_slot_on_the_page_is_a_400_and_books_nothing(client, visit_case, consumer):
    client.force_login(consumer)
    url = reverse("web:case_action", args=[visit_case.pk, "book_visit"])
    assert client.post(url, {"slot": "abc"}).status_code == 400
    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"slot": "999999"})
    assert response.status_code in (302, 400)
    assert not RepairVisit.objects.exists()
    assert AfterSalesCase.objects.get(pk=visit_case.pk).state == "awaiting_return"


def test_the_merchant_sees_the_booked_visit_in_english_too(client, visit_case, book, merchant):
    case = book(visit_case)
    client.force_login(merchant)
    page = client.get(reverse("merchant:case", args=[case.pk])).content.decode()
    assert 'data-testid="visit"' in page and "上门维修" in page
    english = client.get(reverse("merchant:case", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "On-site repair visit" in english and "Visit fee" in english


def test_a_stranger_gets_404_on_the_visit_action(client, visit_case):
    from tests import factories as f

    client.force_login(f.ConsumerFactory(username="eve"))
    url = reverse("web:case_action", args=[visit_case.pk, "book_visit"])
    assert client.post(url, {"slot": "1"}).status_code == 404
