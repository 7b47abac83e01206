"""Isolation: shop B's merchant, consumers and anonymous users get nothing of shop A's desk."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import services
from cases.merchant import urls as merchant_urls
from cases.merchant.models import ExportJob, RejectReason, ReplyTemplate
from cases.merchant.services import export_job_run
from cases.models import CaseEvidence
from tests import factories as f


@pytest.fixture
def shop_a(make_case, merchant, shop):  # type: ignore[no-untyped-def]
    """Everything shop A (acme, merchant bob) has: a case with a photo, templates, reasons, an export."""
    case = make_case(kind="return_refund", reason="quality_issue", photo=True)
    template = ReplyTemplate.objects.create(shop=shop, title="t", body="b")
    reason = RejectReason.objects.create(shop=shop, code="c", label="l")
    job = ExportJob.objects.create(requested_by=merchant)
    job.shops.set([shop])
    export_job_run(job_id=job.pk)
    return {"case": case, "evidence": CaseEvidence.objects.get(case=case), "template": template,
            "reason": reason, "job": job}


def _requests(a):  # type: ignore[no-untyped-def]
    """(url name, method, url, data) for every merchant URL, aimed at shop A's things."""
    case = a["case"]
    photo = SimpleUploadedFile("x.jpg", f.jpeg_bytes(), "image/jpeg")
    yield "queue", "get", reverse("merchant:queue") + "?shop=acme", {}
    yield "bulk", "post", reverse("merchant:bulk"), {"action": "approve", "ids": [case.pk], "confirm": "1"}
    yield "case", "get", reverse("merchant:case", args=[case.pk]), {}
    for action in ("approve", "reject", "confirm_receipt", "refuse_receipt", "ship_replacement", "ship_repaired",
                   "approve_refund"):
        yield "case-action", "post", reverse("merchant:case-action", args=[case.pk, action]), {
            "reject-reason_code": "other", "refuse-reason_code": "other", "carrier": "x", "tracking_number": "y"}
    yield "case-message", "post", reverse("merchant:case-message", args=[case.pk]), {"body": "hi"}
    yield "case-evidence", "post", reverse("merchant:case-evidence", args=[case.pk]), {"files": [photo]}
    yield "evidence-file", "get", reverse("merchant:evidence-file", args=[a["evidence"].pk]), {}
    yield "templates", "get", reverse("merchant:templates") + "?shop=acme", {}
    yield "templates", "post", reverse("merchant:templates"), {"shop": "acme", "title": "x", "body": "y"}
    yield "template-edit", "get", reverse("merchant:template-edit", args=[a["template"].pk]), {}
    yield "template-edit", "post", reverse("merchant:template-edit", args=[a["template"].pk]), {"title": "x", "body": "y"}
    yield "template-delete", "post", reverse("merchant:template-delete", args=[a["template"].pk]), {}
    yield "reason-add", "post", reverse("merchant:reason-add"), {"shop": "acme", "code": "z", "label": "z"}
    yield "reason-delete", "post", reverse("merchant:reason-delete", args=[a["reason"].pk]), {}
    yield "metrics", "get", reverse("merchant:metrics") + "?shop=acme", {}
    yield "export", "get", reverse("merchant:export") + "?shop=acme", {}
    yield "export", "post", reverse("merchant:export"), {"shop": "acme"}
    yield "export-job", "get", reverse("merchant:export-job", args=[a["job"].pk]), {}
    yield "export-download", "get", reverse("merchant:export-download", args=[a["job"].pk]), {}


def _assert_untouched(a) -> None:  # type: ignore[no-untyped-def]
    a["case"].refresh_from_db()
    assert a["case"].state == "pending_merchant"
    assert a["case"].messages.count() == 0 and a["case"].evidence.count() == 1
    assert ReplyTemplate.objects.filter(pk=a["template"].pk, title="t").exists()
    assert RejectReason.objects.filter(pk=a["reason"].pk).exists() and RejectReason.objects.count() == 1
    assert ReplyTemplate.objects.count() == 1 and ExportJob.objects.count() == 1


def test_every_merchant_url_is_covered(shop_a):
    names = {p.name for p in merchant_urls.urlpatterns}
    assert names == {name for name, *_ in _requests(shop_a)}


def test_merchant_of_another_shop_gets_404_everywhere(client, shop_a, other_shop):
    client.force_login(other_shop.members.get())
    for name, method, url, data in _requests(shop_a):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (name, method, url, response.status_code)
    assert client.get(f"/api/v1/evidence/{shop_a['evidence'].pk}/file/").status_code == 404
    _assert_untouched(shop_a)


def test_consumers_get_404_even_for_their_own_case(client, shop_a, consumer):
    client.force_login(consumer)  # alice owns the case, but the desk is not hers
    for name, method, url, data in _requests(shop_a):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (name, method, url, response.status_code)
    _assert_untouched(shop_a)


def test_staff_are_not_merchants(client, shop_a, agent):
    client.force_login(agent)
    assert client.get(reverse("merchant:queue")).status_code == 404
    assert client.get(reverse("merchant:case", args=[shop_a["case"].pk])).status_code == 404


def test_anonymous_users_are_sent_to_login(client, shop_a):
    for name, method, url, data in _requests(shop_a):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (name, url)
        assert response["Location"].startswith("/accounts/login/?next="), (name, url)
    _assert_untouched(shop_a)


def test_own_shop_still_works_after_the_isolation_checks(client, shop_a, merchant):
    client.force_login(merchant)
    assert client.get(reverse("merchant:case", args=[shop_a["case"].pk])).status_code == 200
    assert client.get(reverse("merchant:evidence-file", args=[shop_a["evidence"].pk])).status_code == 200
    services.case_approve(case_id=shop_a["case"].pk, actor=merchant)
    assert client.get(reverse("merchant:export-download", args=[shop_a["job"].pk])).status_code == 200
