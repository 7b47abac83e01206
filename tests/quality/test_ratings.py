"""Issue #18, ratings: POST /api/v1/cases/{id}/rating/ with every code of api.md, the rating on the case JSON,
staff hiding a comment (audited), the 15 × 24 h window from when the case last became terminal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import CaseEvent
from cases.quality.models import CaseRating
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def refunded(consumer, merchant, item):  # type: ignore[no-untyped-def]
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="50.00")
    services.case_approve(case_id=case.pk, actor=merchant)
    return case


def url(case) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/cases/{case.pk}/rating/"


def test_consumer_rates_once_and_the_case_shows_it(api, consumer, refunded):
    client = api(consumer)
    r = client.post(url(refunded), {"stars": 4, "tags": ["fast_response", "polite"], "comment": "很快"},
                    format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["stars"] == 4 and body["tags"] == ["fast_response", "polite"] and body["comment"] == "很快"
    assert body["at"] and body["comment_hidden"] is False
    detail = client.get(f"/api/v1/cases/{refunded.pk}/").json()
    assert detail["rating"]["stars"] == 4 and detail["rating"]["comment"] == "很快"
    assert [e["action"] for e in detail["events"]][-1] == "rate"
    listed = client.get("/api/v1/cases/").json()["results"]
    assert listed[0]["rating"]["tags"] == ["fast_response", "polite"]
    again = client.post(url(refunded), {"stars": 5}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "already_rated"


def test_not_terminal_is_not_rateable(api, consumer, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="50.00")
    r = api(consumer).post(url(case), {"stars": 5}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "not_rateable"
    assert api(consumer).get(f"/api/v1/cases/{case.pk}/").json()["rating"] is None


def test_window_is_15_days_from_when_the_case_became_terminal(consumer, refunded):
    became = CaseEvent.objects.filter(case=refunded, to_state="refunded").get().at
    with pytest.raises(services.CaseError) as late:
        from cases.quality.ratings import rating_submit
        rating_submit(case_id=refunded.pk, consumer=consumer, stars=3, now=became + timedelta(days=15, seconds=1))
    assert late.value.code == "rating_window_closed"
    rating = rating_submit(case_id=refunded.pk, consumer=consumer, stars=3, now=became + timedelta(days=15))
    assert rating.stars == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"stars": 0}, "stars"), ({"stars": 6}, "stars"), ({"stars": "x"}, "stars"), ({"stars": True}, "stars"),
    ({}, "stars"), ({"stars": 5, "tags": ["great"]}, "tags"), ({"stars": 5, "tags": "polite,x"}, "tags"),
    ({"stars": 5, "comment": "好" * 501}, "comment"), ({"stars": 5, "pickup_stars": 5}, "pickup_stars"),
])
def test_invalid_fields_name_the_field(api, consumer, refunded, body, field):
    r = api(consumer).post(url(refunded), body, format="json")
    assert r.status_code == 400 and r.json() == {**r.json(), "code": "invalid", "field": field}
    assert not CaseRating.objects.exists()


def test_comment_of_500_characters_is_accepted(api, consumer, refunded):
    assert api(consumer).post(url(refunded), {"stars": 2, "comment": "好" * 500}, format="json").status_code == 201


def test_merchant_and_staff_get_403_strangers_404(api, merchant, agent, refunded):
    assert api(merchant).post(url(refunded), {"stars": 5}, format="json").status_code == 403
    assert api(agent).post(url(refunded), {"stars": 5}, format="json").status_code == 403
    stranger = f.ConsumerFactory(username="mallory")
    other_merchant = f.MerchantFactory(username="eve")
    f.ShopFactory(code="other", members=[other_merchant])
    for user in (stranger, other_merchant):
        r = api(user).post(url(refunded), {"stars": 5}, format="json")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert api(None).post(url(refunded), {"stars": 5}, format="json").status_code == 401
    assert api(stranger).post("/api/v1/cases/999999/rating/", {"stars": 5}, format="json").status_code == 404


def test_staff_hide_a_comment_audited_and_the_stars_still_count(api, consumer, merchant, agent, refunded):
    api(consumer).post(url(refunded), {"stars": 1, "comment": "骂人的话"}, format="json")
    assert api(merchant).post(url(refunded) + "hide-comment/", {"reason": "辱骂"},
                              format="json").status_code == 403
    r = api(agent).post(url(refunded) + "hide-comment/", {"reason": "辱骂"}, format="json")
    assert r.status_code == 200 and r.json()["comment"] is None and r.json()["comment_hidden"] is True
    for user in (consumer, merchant, agent):
        rating = api(user).get(f"/api/v1/cases/{refunded.pk}/").json()["rating"]
        assert rating["comment"] is None and rating["comment_hidden"] is True and rating["stars"] == 1
    event = CaseEvent.objects.filter(case=refunded, action="hide_rating_comment").get()
    assert event.actor_username == "carol" and event.payload == {"reason": "辱骂"}
    assert CaseRating.objects.get(case=refunded).comment == "骂人的话"  # kept for the record


def test_pickup_stars_only_on_a_case_that_used_a_pickup(consumer, refunded):
    from cases.quality.ratings import case_used_pickup

    assert not case_used_pickup(refunded)


def test_list_rows_read_ratings_without_extra_queries(api, consumer, merchant, shop, django_assert_max_num_queries):
    client = api(consumer)
    for _ in range(6):
        order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=timezone.now() - timedelta(days=3))
        it = f.OrderItemFactory(order=order)
        case = services.case_submit(consumer=consumer, order_item_id=it.pk, kind="refund_only", reason="other",
                                    quantity=1, amount="9.00")
        services.case_approve(case_id=case.pk, actor=merchant)
        client.post(url(case), {"stars": 5}, format="json")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as six:
        assert len(client.get("/api/v1/cases/?page_size=6").json()["results"]) == 6
    with CaptureQueriesContext(connection) as two:
        rows = client.get("/api/v1/cases/?page_size=2").json()["results"]
    assert all(row["rating"]["stars"] == 5 for row in rows)
    assert len(six.captured_queries) == len(two.captured_queries)


def test_pickup_stars_on_a_case_whose_parcel_a_courier_took(api, consumer, refunded):
    from datetime import timedelta

    from pickups.models import Courier, Pickup, Slot

    courier = Courier.objects.get(code="simulated")
    start = timezone.now() - timedelta(days=1)
    slot = Slot.objects.create(courier=courier, region_code="310100", start=start, end=start + timedelta(hours=2),
                               capacity=10, booked=1)
    pickup = Pickup.objects.create(case=refunded, courier=courier, slot=slot, state="cancelled",
                                   address_region="310104", weight_grams=500, fee="12.00", payer="consumer")
    bad = api(consumer).post(url(refunded), {"stars": 5, "pickup_stars": 4}, format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "pickup_stars"  # a cancelled pickup was not used
    Pickup.objects.filter(pk=pickup.pk).update(state="delivered")
    assert api(consumer).post(url(refunded), {"stars": 5, "pickup_stars": 9},
                              format="json").json()["field"] == "pickup_stars"
    r = api(consumer).post(url(refunded), {"stars": 5, "pickup_stars": 4}, format="json")
    assert r.status_code == 201 and r.json()["pickup_stars"] == 4
