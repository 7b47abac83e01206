"""Build disputed cases through the real services, as the parties would."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.evidence import evidence_add
from cases.models import AfterSalesCase
from tests import factories as f


def disputed_case(consumer, merchant, item, *, reason: str = "quality_issue", kind: str = "refund_only",
                  amount: str = "94.00", close_evidence_by=None) -> AfterSalesCase:  # type: ignore[no-untyped-def]
    """A case the merchant rejected and the consumer escalated, with photos from both sides."""
    case = services.case_submit(
        consumer=consumer, order_item_id=item.pk, kind=kind, reason=reason, quantity=1, amount=amount,
        description="收到时屏幕有裂痕，开机花屏", condition_intact=True,
        evidence_files=[SimpleUploadedFile("crack.jpg", f.jpeg_bytes(), content_type="image/jpeg")],
    )
    services.case_reject(case_id=case.pk, actor=merchant, reason="出厂检测正常，属于人为损坏")
    evidence_add(case_id=case.pk, user=merchant,
                 files=[SimpleUploadedFile("qc.png", f.png_bytes(), content_type="image/png")], note="出厂质检单")
    services.case_escalate(case_id=case.pk, actor=consumer, statement="商家拒绝承认质量问题，请平台判定")
    if close_evidence_by is not None:
        services.case_close_evidence(case_id=case.pk, actor=close_evidence_by)
    return AfterSalesCase.objects.get(pk=case.pk)
