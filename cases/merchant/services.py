"""Writes of the merchant desk. Case actions always go through `cases.services.case_act` (the one dispatcher)."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from defusedcsv import csv  # the csv module, with cells that start a spreadsheet formula escaped
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cases import effects
from cases.evidence import evidence_add
from cases.models import AfterSalesCase
from cases.services import case_act
from portal.db_router import replica_reads
from portal.errors import DomainError
from portal.models import Shop, User
from portal.outbox import outbox_put

from .models import ExportJob, RejectReason, ReplyTemplate
from .selectors import EXPORT_COLUMNS, QueueFilters, export_rows, queue_cases

# Actions a merchant may run on many cases at once: they need no input but the decision itself.
BULK_ACTIONS = ("approve", "confirm_receipt")


def error_message(exc: DomainError) -> str:
    """The sentence a service desk reads for a refusal: ours for the common codes, else the service's."""
    messages = {
        "invalid_transition": _("当前状态不能执行此操作（可能已被处理或已超时），请刷新后查看"),
        "not_found": _("找不到该售后单"),
        "permission_denied": _("您无权执行此操作"),
        "conflict": _("操作冲突，请重试"),
    }
    return messages.get(exc.code) or exc.detail


# --- bulk actions ---------------------------------------------------------------------------------

@dataclass
class BulkOutcome:
    case_id: int
    number: str
    ok: bool
    state: str = ""
    code: str = ""
    message: str = ""


def bulk_run(*, action: str, cases: Sequence[AfterSalesCase], user: User) -> list[BulkOutcome]:
    """Run one action on each case through the same service as a single action; each reports alone.

    Each case is its own transaction, so one refusal (a case that changed state meanwhile) does not
    undo the others.
    """
    if action not in BULK_ACTIONS:
        raise DomainError("invalid", _("不支持的批量操作"), field="action")
    outcomes = []
    for case in cases:
        try:
            done = case_act(action=action, case_id=case.pk, actor=user, data={})
        except DomainError as exc:
            outcomes.append(BulkOutcome(case.pk, case.number, False, code=exc.code, message=error_message(exc)))
        else:
            outcomes.append(BulkOutcome(case.pk, case.number, True, state=done.state))
    return outcomes


def bulk_money(action: str, cases: Sequence[AfterSalesCase]) -> Decimal:
    """The money the action would decide on these cases (what the confirmation states)."""
    total = Decimal("0.00")
    for case in cases:
        if action == "approve" and case.kind in ("refund_only", "return_refund"):
            total += case.amount
        elif action == "confirm_receipt" and case.refund_on_receipt:
            total += case.refund_amount if case.refund_amount is not None else case.amount
    return total


# --- single actions with evidence --------------------------------------------------------------

def receipt_decide(*, case_id: int, user: User, action: str, data: dict[str, Any], files: list,
                   note: str = "") -> AfterSalesCase:
    """Confirm or refuse receipt with photos of the parcel; the photos stay only if the action succeeds."""
    if action not in ("confirm_receipt", "refuse_receipt"):
        raise DomainError("invalid", _("不支持的操作"), field="action")
    with transaction.atomic():
        if files:
            evidence_add(case_id=case_id, user=user, files=files, note=note)
        return case_act(action=action, case_id=case_id, actor=user, data=data)


# --- reply templates and reasons -----------------------------------------------------------------

def _clean(value: Any, field: str, max_length: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError("required", _("此项为必填项"), field=field)
    if len(text) > max_length:
        raise DomainError("invalid", _("内容过长"), field=field)
    return text


def reply_template_save(*, shop: Shop, user: User, title: Any, body: Any,
                        template: ReplyTemplate | None = None) -> ReplyTemplate:
    """Create or update a shop's reply template (titles are unique within a shop)."""
    obj = template or ReplyTemplate(shop=shop, created_by=user)
    obj.shop = shop
    obj.title = _clean(title, "title", 100)
    obj.body = _clean(body, "body", 2000)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise DomainError("duplicate", _("该店铺已有同名模板"), field="title") from exc
    return obj


def reply_template_delete(*, template: ReplyTemplate) -> None:
    template.delete()


def reject_reason_add(*, shop: Shop, code: Any, label: Any) -> RejectReason:
    clean_label = _clean(label, "label", 100)
    clean_code = slugify(code if isinstance(code, str) else "", allow_unicode=False)[:48]
    if not clean_code:
        raise DomainError("required", _("代码须为英文字母、数字或连字符"), field="code")
    try:
        with transaction.atomic():
            return RejectReason.objects.create(shop=shop, code=clean_code, label=clean_label)
    except IntegrityError as exc:
        raise DomainError("duplicate", _("该店铺已有相同代码的原因"), field="code") from exc


def reject_reason_delete(*, reason: RejectReason) -> None:
    reason.delete()

log = logging.getLogger(__name__)


# --- exports -------------------------------------------------------------------------------------

class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(shop_ids: Sequence[int], filters: QueueFilters):
    """Yield the CSV text line by line (BOM first so spreadsheet tools read the Chinese as UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(shop_ids, filters):
        yield writer.writerow(row)


def export_job_create(*, user: User, shops: Sequence[Shop], filters: QueueFilters) -> ExportJob:
    """Record a background export; its task is owed through the outbox (published once the row commits)."""
    with transaction.atomic():
        job = ExportJob.objects.create(requested_by=user, filters=filters.as_params(),
                                       total=queue_cases([s.pk for s in shops], filters).count())
        job.shops.set(shops)
        job_id = job.pk
        outbox_put("cases.merchant.tasks.export_queue", [job_id], key=f"export:{job_id}")
    return job


def export_job_run(*, job_id: int, progress_every: int = 1000) -> ExportJob | None:
    """Write the export file; idempotent (a finished job is left alone, a crashed one starts over)."""
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ExportJob.Status.DONE:
        return job
    shop_ids = list(job.shops.values_list("id", flat=True))
    filters = QueueFilters.from_params(job.filters)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, written=0)
    handle = tempfile.NamedTemporaryFile("w+b", suffix=".csv", delete=False)
    try:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow(EXPORT_COLUMNS)
        written = 0
        with replica_reads():  # the rows may come from the read replica; the job's own updates go to the primary
            for row in export_rows(shop_ids, filters):
                writer.writerow(row)
                written += 1
                if written % progress_every == 0:
                    ExportJob.objects.filter(pk=job.pk).update(written=written)
        text.flush()
        handle.seek(0)
        name = default_storage.save(f"exports/{job.pk}/cases-{timezone.localdate():%Y%m%d}-{job.pk}.csv",
                                    File(handle))
        text.close()
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=str(exc)[:255],
                                                   finished_at=timezone.now())
        raise
    finally:
        if not handle.closed:
            handle.close()
        os.unlink(handle.name)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.DONE, written=written,
                                               total=written, file=name,
                                               finished_at=timezone.now())
    log.info("export %s written: %s rows", job.pk, written, extra={"task": "export_queue"})
    job.refresh_from_db()
    return job


def export_jobs_resend(*, now: datetime) -> int:
    """Outbox: queue again exports still `pending` after OUTBOX_RESEND_AFTER_SECONDS (their task never
    reached a worker), so a page never polls a job nobody will run; one still pending past the window is
    marked failed (the merchant asks again) rather than run a day late."""
    ExportJob.objects.filter(
        status=ExportJob.Status.PENDING,
        created_at__lt=now - timedelta(seconds=settings.OUTBOX_RESEND_WINDOW_SECONDS),
    ).update(status=ExportJob.Status.FAILED, error="never ran", finished_at=now)
    ids = list(ExportJob.objects.filter(
        status=ExportJob.Status.PENDING,
        created_at__lte=now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS),
        created_at__gte=now - timedelta(seconds=settings.OUTBOX_RESEND_WINDOW_SECONDS),
    ).values_list("pk", flat=True)[:100])
    for job_id in ids:
        effects.queue_export_enqueue(job_id)
    return len(ids)
