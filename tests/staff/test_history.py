"""History of settings and trust flags (django-simple-history): who changed what from which value to which,
shown in the admin; no copy of a password hash or a courier's signing key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import user_logged_in
from django.test import RequestFactory
from django.urls import reverse

from cases.models import DeadlinePolicy, Holiday, PlatformSetting
from pickups.models import Courier
from tests import factories as f

pytestmark = pytest.mark.django_db


def _changes(obj) -> list[tuple[str, object, object]]:  # type: ignore[no-untyped-def]
    newest = obj.history.first()
    return [(c.field, c.old, c.new) for c in newest.diff_against(newest.prev_record).changes]


def test_platform_setting_change_records_who_and_from_what(client_for, supervisor):
    setting = PlatformSetting.objects.create(fast_refund_limit=Decimal("500.00"))
    client = client_for(supervisor)
    r = client.post(reverse("admin:cases_platformsetting_change", args=[setting.pk]), {"fast_refund_limit": "800.00"})
    assert r.status_code == 302
    newest = setting.history.first()
    assert newest.history_user == supervisor and newest.history_type == "~"
    assert _changes(setting) == [("fast_refund_limit", Decimal("500.00"), Decimal("800.00"))]
    page = client.get(reverse("admin:cases_platformsetting_history", args=[setting.pk]))
    assert page.status_code == 200 and supervisor.username in page.content.decode()


def test_holiday_and_deadline_policy_changes_are_kept(client_for, supervisor, agent):
    client = client_for(supervisor)
    assert client.post(reverse("admin:cases_holiday_add"), {
        "name": "元旦", "start_date": "2027-01-01", "end_date": "2027-01-01"}).status_code == 302
    holiday = Holiday.objects.get()
    assert client.post(reverse("admin:cases_holiday_change", args=[holiday.pk]), {
        "name": "元旦", "start_date": "2027-01-01", "end_date": "2027-01-03"}).status_code == 302
    assert _changes(holiday) == [("end_date", date(2027, 1, 1), date(2027, 1, 3))]
    assert [h.history_type for h in holiday.history.all()] == ["~", "+"]
    policy = DeadlinePolicy.objects.create(name="evidence", variant="", seconds=3600)
    assert policy.history.count() == 1
    # every staff member may read the history, as they may read the settings
    assert client_for(agent).get(reverse("admin:cases_holiday_history", args=[holiday.pk])).status_code == 200


def test_courier_history_keeps_the_terms_but_never_the_signing_key(client_for):
    superuser = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    courier = Courier.objects.get(code="simulated")
    client = client_for(superuser)
    data = {"code": courier.code, "name": courier.name, "active": "on", "is_default": "on", "base_url": courier.base_url,
            "max_weight_grams": "20000", "max_side_cm": courier.max_side_cm,
            "capacity_per_slot": courier.capacity_per_slot, "first_kg_fee": courier.first_kg_fee,
            "extra_kg_fee": courier.extra_kg_fee, "new_secret": "a-brand-new-secret-value",
            "offers_visits": "on", "visit_capacity_per_slot": courier.visit_capacity_per_slot,
            "visit_fee": courier.visit_fee,  # docs/visits.md
            "region_rules-TOTAL_FORMS": "0", "region_rules-INITIAL_FORMS": "0"}
    r = client.post(reverse("admin:pickups_courier_change", args=[courier.pk]), data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    assert ("max_weight_grams", 30000, 20000) in _changes(courier)
    newest = courier.history.first()
    assert newest.history_user == superuser and not hasattr(newest, "secret")


def test_good_standing_change_is_kept_and_a_login_is_not_a_change(client_for, consumer):
    superuser = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    before = consumer.history.count()
    consumer.good_standing = False
    consumer.save()
    assert consumer.history.count() == before + 1
    assert ("good_standing", True, False) in _changes(consumer)
    assert not hasattr(consumer.history.first(), "password")
    request = RequestFactory().get("/")
    user_logged_in.send(sender=type(consumer), request=request, user=consumer)  # stamps last_login
    assert consumer.history.count() == before + 1
    page = client_for(superuser).get(reverse("admin:portal_user_history", args=[consumer.pk]))
    assert page.status_code == 200
