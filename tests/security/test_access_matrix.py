"""Access-control matrix: every URL of the project × every kind of user, with the allowed status.

Each cell is "GET/POST" for: anonymous, the case's consumer, another consumer, the shop's merchant,
another shop's merchant, a staff agent, a supervisor. A URL pattern missing from the matrix fails
the test until someone decides who may use it. Objects a user may not see answer 404.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.security.matrix_world import build_world

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "consumer", "other_consumer", "merchant", "other_merchant", "agent", "supervisor"]
# The admin is checked at these entry points; every admin view requires an active staff account.
ADMIN_ENTRY_POINTS = ["admin/", "admin/cases/aftersalescase/", "admin/cases/aftersalescase/dashboard/"]

MATRIX: dict[str, str] = {
    'favicon.ico': '301/405 301/405 301/405 301/405 301/405 301/405 301/405',
    'healthz': '200/200 200/200 200/200 200/200 200/200 200/200 200/200',
    'healthz/': '200/200 200/200 200/200 200/200 200/200 200/200 200/200',
    'readyz': '200/200 200/200 200/200 200/200 200/200 200/200 200/200',
    'accounts/login/': '200/200 302/302 302/302 302/302 302/302 302/302 302/302',
    'accounts/logout/': '405/302 405/302 405/302 405/302 405/302 405/302 405/302',
    'i18n/setlang/': '302/302 302/302 302/302 302/302 302/302 302/302 302/302',
    'api/v1/auth/token/': '405/400 405/400 405/400 405/400 405/400 405/400 405/400',
    'api/v1/marketplace/import/': '401/401 405/403 405/403 405/403 405/403 405/403 405/415',
    'api/v1/orders/': '401/401 200/405 200/405 403/405 403/405 403/405 403/405',
    'api/v1/cases/': '401/401 200/400 200/400 200/403 200/403 200/403 200/403',
    'api/v1/cases/<int:case_id>/': '401/401 200/405 404/405 200/405 404/405 200/405 200/405',
    'api/v1/cases/<int:case_id>/actions/<str:action>/': '401/401 405/403 405/404 405/400 405/404 405/403 405/403',
    'api/v1/cases/<int:case_id>/evidence/': '401/401 200/400 404/404 200/400 404/404 200/403 200/403',
    'api/v1/cases/<int:case_id>/messages/': '401/401 200/400 404/404 200/400 404/404 200/400 200/400',
    'api/v1/cases/<int:case_id>/rating/': '401/401 405/400 405/404 405/403 405/404 405/403 405/403',
    'api/v1/cases/<int:case_id>/rating/hide-comment/': '401/401 405/403 405/404 405/403 405/404 405/404 405/404',
    'api/v1/shops/<str:code>/scorecard/': '401/401 404/405 404/405 200/405 404/405 200/405 200/405',
    'api/v1/evidence/<int:evidence_id>/file/': '401/401 200/405 404/405 200/405 404/405 200/405 200/405',
    'api/v1/cases/<int:case_id>/pickup/options/': '401/401 200/405 404/405 403/405 404/405 403/405 403/405',
    'api/v1/cases/<int:case_id>/visit/options/': '401/401 200/405 404/405 403/405 404/405 403/405 403/405',
    'api/v1/cases/<int:case_id>/pickup/': '401/401 405/400 405/404 405/403 405/404 405/403 405/403',
    'api/v1/pickups/<int:pickup_id>/cancel/': '401/401 405/404 405/404 405/404 405/404 405/404 405/404',
    'api/v1/pickups/<int:pickup_id>/reschedule/': '401/401 405/404 405/404 405/404 405/404 405/404 405/404',
    'api/v1/couriers/<slug:courier>/webhook/': '405/401 405/401 405/401 405/401 405/401 405/401 405/401',
    'api/schema/': '200/405 200/405 200/405 200/405 200/405 200/405 200/405',
    'api/docs/': '200/405 200/405 200/405 200/405 200/405 200/405 200/405',
    'api/redoc/': '200/405 200/405 200/405 200/405 200/405 200/405 200/405',
    'simulated-courier/bookings/': '401/401 401/401 401/401 401/401 401/401 401/401 401/401',
    'simulated-courier/bookings/<str:waybill>/': '401/401 401/401 401/401 401/401 401/401 401/401 401/401',
    'simulated-courier/bookings/<str:waybill>/cancel/': '401/401 401/401 401/401 401/401 401/401 401/401 401/401',
    'simulated-courier/control/': '401/401 401/401 401/401 401/401 401/401 401/401 401/401',
    'simulated-courier/interceptions/<str:waybill>/': '401/401 401/401 401/401 401/401 401/401 401/401 401/401',
    'simulated-courier/visits/': '401/401 401/401 401/401 401/401 401/401 401/401 401/401',
    'simulated-courier/visits/<str:reference>/cancel/': '401/401 401/401 401/401 401/401 401/401 401/401 401/401',
    'merchant/': '302/405 404/405 404/405 200/405 200/405 404/405 404/405',
    'merchant/bulk/': '405/302 405/404 405/404 405/302 405/302 405/404 405/404',
    'merchant/cases/<int:case_id>/': '302/405 404/405 404/405 200/405 404/405 404/405 404/405',
    'merchant/cases/<int:case_id>/actions/<str:action>/': '405/302 405/404 405/404 405/400 405/404 405/404 405/404',
    'merchant/cases/<int:case_id>/messages/': '405/302 405/404 405/404 405/302 405/404 405/404 405/404',
    'merchant/cases/<int:case_id>/evidence/': '405/302 405/404 405/404 405/302 405/404 405/404 405/404',
    'merchant/evidence/<int:evidence_id>/': '302/405 404/405 404/405 200/405 404/405 404/405 404/405',
    'merchant/templates/': '302/302 404/404 404/404 200/404 200/404 404/404 404/404',
    'merchant/templates/<int:template_id>/edit/': '302/302 404/404 404/404 404/404 404/404 404/404 404/404',
    'merchant/templates/<int:template_id>/delete/': '405/302 405/404 405/404 405/404 405/404 405/404 405/404',
    'merchant/reasons/': '405/302 405/404 405/404 405/404 405/404 405/404 405/404',
    'merchant/reasons/<int:reason_id>/delete/': '405/302 405/404 405/404 405/404 405/404 405/404 405/404',
    'merchant/metrics/': '302/405 404/405 404/405 200/405 200/405 404/405 404/405',
    'merchant/export/': '302/302 404/404 404/404 200/302 200/302 404/404 404/404',
    'merchant/exports/<int:job_id>/': '302/405 404/405 404/405 404/405 404/405 404/405 404/405',
    'merchant/exports/<int:job_id>/download/': '302/405 404/405 404/405 404/405 404/405 404/405 404/405',
    'orders/': '302/302 200/405 200/405 200/405 200/405 200/405 200/405',
    'orders/items/<int:item_id>/after-sales/new/': '302/302 200/200 404/404 404/404 404/404 404/404 404/404',
    'orders/items/<int:item_id>/after-sales/photos/<str:token>/<str:key>/': '302/302 404/404 404/404 404/404 404/404 404/404 404/404',
    'cases/': '302/302 200/405 200/405 200/405 200/405 200/405 200/405',
    'cases/<int:case_id>/': '302/302 200/405 404/405 200/405 404/405 200/405 200/405',
    'cases/<int:case_id>/actions/<str:action>/': '302/302 405/404 405/404 405/404 405/404 405/404 405/404',
    'cases/<int:case_id>/messages/': '302/302 405/400 405/404 405/400 405/404 405/400 405/400',
    'cases/<int:case_id>/rating/': '302/302 405/400 405/404 405/400 405/404 405/400 405/400',
    'cases/<int:case_id>/evidence/': '302/302 405/400 405/404 405/400 405/404 405/400 405/400',
    'cases/<int:case_id>/evidence/<int:evidence_id>/file/': '302/302 200/405 404/405 200/405 404/405 200/405 200/405',
    'notifications/': '302/302 200/405 200/405 200/405 200/405 200/405 200/405',
    'cases/<int:case_id>/pickup/': '302/302 405/400 405/404 405/302 405/404 405/302 405/302',
    'cases/<int:case_id>/pickup/<int:pickup_id>/cancel/': '302/302 405/404 405/404 405/404 405/404 405/404 405/404',
    'cases/<int:case_id>/pickup/<int:pickup_id>/reschedule/': '302/302 405/404 405/404 405/404 405/404 405/404 405/404',
    'api/v1/assistant/ask/': '401/401 405/400 405/400 405/400 405/400 405/400 405/400',
    'api/v1/assistant/handoff/': '401/401 405/400 405/400 405/403 405/403 405/403 405/403',
    'api/v1/assistant/threads/': '401/401 200/405 200/405 200/405 200/405 200/405 200/405',
    'api/v1/assistant/threads/<int:thread_id>/messages/': '401/401 200/400 404/404 200/400 404/404 200/400 200/400',
    'api/v1/cases/<int:case_id>/reply-suggestions/': '401/401 403/405 404/405 200/405 404/405 403/405 403/405',
    'assistant/': '302/302 200/400 200/400 200/400 200/400 200/400 200/400',
    'assistant/handoff/': '302/302 405/302 405/302 405/302 405/302 405/302 405/302',
    'merchant/service/': '302/302 404/405 404/405 200/405 200/405 404/405 404/405',
    'merchant/service/<int:thread_id>/': '302/302 404/404 404/404 200/400 404/404 404/404 404/404',
    'service/': '302/302 200/405 200/405 200/405 200/405 200/405 200/405',
    'service/<int:thread_id>/': '302/302 200/400 404/404 200/400 404/404 200/400 200/400',
    '': '302/302 302/302 302/302 302/302 302/302 302/302 302/302',
    'admin/': '302/302 302/302 302/302 302/302 302/302 200/200 200/200',
    'admin/cases/aftersalescase/': '302/302 302/302 302/302 302/302 302/302 200/200 200/200',
    'admin/cases/aftersalescase/dashboard/': '302/302 302/302 302/302 302/302 302/302 200/200 200/200',
}


def all_routes() -> list[str]:
    def walk(patterns, prefix=""):  # type: ignore[no-untyped-def]
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return [r for r in walk(get_resolver().url_patterns) if not r.startswith("admin/")]


def test_every_url_is_in_the_matrix():
    missing = sorted(set(all_routes()) - set(MATRIX))
    assert not missing, f"add these URL patterns to the access matrix: {missing}"


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_access(route):
    world = build_world()
    url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(world.ids[m.group(1)]), route)
    expected = MATRIX[route].split()
    for role, cell in zip(ROLES, expected, strict=True):
        user = world.users[role]
        client = Client()
        if user is not None:
            client.force_login(user)
        get_status = client.get(url).status_code
        post_status = client.post(url, {}).status_code
        assert f"{get_status}/{post_status}" == cell, f"{role} on {url}: got {get_status}/{post_status}, want {cell}"
