"""CSV export: streamed up to the limit, a Celery job writing through default storage above it."""

from __future__ import annotations

import csv
import io

from django.core.files.storage import default_storage
from django.urls import reverse

from cases.merchant.models import ExportJob
from cases.merchant.services import export_job_run

EXPORT = reverse("merchant:export")


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_small_export_streams_filtered_queue(merchant_client, make_case, other_shop):
    wanted = make_case(kind="exchange")
    make_case(kind="refund_only")
    make_case(kind="exchange", shop_=other_shop)
    response = merchant_client.get(EXPORT, {"kind": "exchange"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(b"".join(response.streaming_content))
    assert rows[0][:3] == ["number", "order_number", "sku"]
    assert [r[0] for r in rows[1:]] == [wanted.number]
    assert rows[1][rows[0].index("must_act")] == "merchant"
    assert rows[1][rows[0].index("shop")] == "acme"


def test_large_export_runs_as_job_with_progress_and_download(merchant_client, make_case, settings,
                                                             django_capture_on_commit_callbacks):
    settings.MERCHANT_EXPORT_SYNC_LIMIT = 2
    numbers = {make_case().number for _ in range(3)}
    confirm = merchant_client.get(EXPORT)
    assert confirm.status_code == 200 and confirm.context["total"] == 3
    assert not ExportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(EXPORT, {})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("merchant:export-job", args=[job.pk])
    assert job.status == "done" and job.written == 3 and job.total == 3
    assert default_storage.exists(job.file)
    progress = merchant_client.get(reverse("merchant:export-job", args=[job.pk]), HTTP_HX_REQUEST="true")
    html = progress.content.decode()
    assert 'id="export-progress"' in html and "<html" not in html
    assert 'value="100"' in html and reverse("merchant:export-download", args=[job.pk]) in html
    assert "hx-trigger" not in html  # polling stops when done
    download = merchant_client.get(reverse("merchant:export-download", args=[job.pk]))
    assert download.status_code == 200
    rows = _csv(b"".join(download.streaming_content))
    assert {r[0] for r in rows[1:]} == numbers


def test_pending_job_polls_and_has_no_download(merchant_client, merchant, shop):
    job = ExportJob.objects.create(requested_by=merchant, total=10)
    job.shops.set([shop])
    html = merchant_client.get(reverse("merchant:export-job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    assert merchant_client.get(reverse("merchant:export-download", args=[job.pk])).status_code == 404


def test_export_task_is_idempotent(merchant, shop, make_case):
    make_case()
    job = ExportJob.objects.create(requested_by=merchant)
    job.shops.set([shop])
    first = export_job_run(job_id=job.pk)
    second = export_job_run(job_id=job.pk)
    assert first.status == second.status == "done" and first.file == second.file
    assert export_job_run(job_id=999999) is None


def test_export_served_only_to_members_of_every_shop(client, merchant, shop, other_shop, make_case):
    make_case()
    job = ExportJob.objects.create(requested_by=merchant)
    job.shops.set([shop])
    export_job_run(job_id=job.pk)
    eve = other_shop.members.get()
    client.force_login(eve)
    assert client.get(reverse("merchant:export-job", args=[job.pk])).status_code == 404
    assert client.get(reverse("merchant:export-download", args=[job.pk])).status_code == 404
    shop.members.remove(merchant)  # a former member loses access too
    client.force_login(merchant)
    assert client.get(reverse("merchant:export-download", args=[job.pk])).status_code == 404


def test_cells_that_start_a_spreadsheet_formula_are_escaped(merchant_client, merchant, shop, make_case):
    """A product name from the marketplace is data, never a formula, in the streamed and the job export."""
    case = make_case()
    product = case.order_item.product
    product.name = '=HYPERLINK("http://evil.example","x")'
    product.save()
    other = make_case()
    other.order_item.product.name = "+1-2"
    other.order_item.product.save()
    third = make_case()
    third.order_item.product.name = "@SUM(A1)"
    third.order_item.product.save()
    fourth = make_case()
    fourth.order_item.product.name = "-cmd"
    fourth.order_item.product.save()
    streamed = _csv(b"".join(merchant_client.get(EXPORT).streaming_content))
    job = ExportJob.objects.create(requested_by=merchant)
    job.shops.set([shop])
    with default_storage.open(export_job_run(job_id=job.pk).file) as handle:
        written = _csv(handle.read())
    for rows in (streamed, written):
        names = {r[rows[0].index("product")] for r in rows[1:]}
        assert names == {"'=HYPERLINK(\"http://evil.example\",\"x\")", "'+1-2", "'@SUM(A1)", "'-cmd"}
        amounts = {r[rows[0].index("amount")] for r in rows[1:]}
        assert amounts == {"100.00"}  # numbers stay numbers
