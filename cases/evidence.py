"""Evidence uploads: checked by content (not name), size-capped, counted; stored under random names."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.models import User

from .choices import State
from .models import AfterSalesCase, CaseEvidence
from .permissions import role_of

ALLOWED_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
# What counts as a photo for `evidence_required` (lifecycle.md): a PDF may accompany one but is not one.
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass
class CheckedFile:
    name: str
    content_type: str
    data: bytes


def sniff(head: bytes) -> str | None:
    """The content type from the file's own bytes, or None when it is none we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _looks_polyglot(data: bytes, content_type: str) -> bool:
    """Refuse images that also carry markup or script an old browser might sniff and run."""
    if content_type == "application/pdf":
        return b"<script" in data[:4096].lower() or b"<html" in data[:4096].lower()
    lowered = data.lower()
    return any(marker in lowered for marker in (b"<script", b"<html", b"<?php", b"<svg"))


def evidence_validate(files: list) -> list[CheckedFile]:
    if len(files) > settings.EVIDENCE_MAX_FILES:
        raise DomainError("too_many_files", _("每次最多上传 %(n)s 个文件") % {"n": settings.EVIDENCE_MAX_FILES},
                          field="evidence", status=400)
    checked = []
    for upload in files:
        size = getattr(upload, "size", None)
        if size is not None and size > settings.EVIDENCE_MAX_BYTES:
            raise DomainError("file_too_large", _("单个文件不能超过 10 MB"), field="evidence", status=413)
        data = upload.read(settings.EVIDENCE_MAX_BYTES + 1)
        if len(data) > settings.EVIDENCE_MAX_BYTES:
            raise DomainError("file_too_large", _("单个文件不能超过 10 MB"), field="evidence", status=413)
        if not data:
            raise DomainError("empty_file", _("文件为空"), field="evidence", status=400)
        content_type = sniff(data[:16])
        if content_type is None or _looks_polyglot(data, content_type):
            raise DomainError("unsupported_file_type", _("仅支持 JPEG、PNG、WebP 图片和 PDF 文件"),
                              field="evidence", status=415)
        name = str(getattr(upload, "name", "") or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200]
        checked.append(CheckedFile(name=name, content_type=content_type, data=data))
    return checked


def evidence_store(*, case: AfterSalesCase, files: list[CheckedFile], uploaded_by: User | None, role: str,
                   note: str = "") -> list[CaseEvidence]:
    stored = []
    for f in files:
        evidence = CaseEvidence(case=case, uploaded_by=uploaded_by, role=role, original_name=f.name,
                                content_type=f.content_type, size=len(f.data), note=note[:500])
        evidence.file.save(f.name, ContentFile(f.data), save=False)
        evidence.save()
        stored.append(evidence)
    return stored


def evidence_add(*, case_id: int, user: User, files: list, note: str = "") -> list[CaseEvidence]:
    """Add evidence to a case the user is a party of (consumer or merchant)."""
    case = AfterSalesCase.objects.filter(pk=case_id).first()
    role = role_of(user, case) if case is not None else None
    if case is None or role is None:
        raise DomainError("not_found", _("找不到该售后单"), status=404)
    if role not in ("consumer", "merchant"):
        raise DomainError("permission_denied", _("只有买卖双方可以上传凭证"), status=403)
    if not files:
        raise DomainError("required", _("请选择要上传的文件"), field="files")
    if case.is_terminal:
        raise DomainError("invalid_transition", _("售后单已结束，不能再上传凭证"), status=409)
    if case.state == State.AWAITING_RULING:
        raise DomainError("invalid_transition", _("举证期已结束，平台正在裁决，不能再上传凭证"), status=409)
    checked = evidence_validate(files)
    with transaction.atomic():
        return evidence_store(case=case, files=checked, uploaded_by=user, role=role, note=(note or "")[:500])


def photo_count(files: list[CheckedFile]) -> int:
    """How many of the checked files are photos (images), the only evidence that satisfies `evidence_required`."""
    return sum(1 for f in files if f.content_type in PHOTO_TYPES)
