"""The conversation on a case."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import User

from ..choices import ActorRole
from ..models import AfterSalesCase, CaseMessage
from ..notifications import notify_party
from ..permissions import role_of
from .base import CaseError, _parse_bool, _require_text
from .inputs import Flag, Text


def message_post(*, case_id: int, author: User, body: Text, internal: Flag = False) -> CaseMessage:
    with transaction.atomic():
        case = AfterSalesCase.objects.select_related("shop", "consumer").filter(pk=case_id).first()
        role = role_of(author, case) if case is not None else None
        if case is None or role is None or role == ActorRole.SYSTEM:
            raise CaseError("not_found", _("找不到该售后单"), status=404)
        text = _require_text(body, "body", 5000)
        is_internal = _parse_bool(internal, "internal")
        if is_internal and role != ActorRole.STAFF:
            raise CaseError("permission_denied", _("只有平台客服可以添加内部备注"), status=403)
        if role == ActorRole.STAFF and not is_internal and not case.escalated:
            raise CaseError("invalid_transition", _("平台介入后才能向双方发送消息"), status=409)
        message = CaseMessage.objects.create(case=case, author=author, role=role, body=text, internal=is_internal)
        if not is_internal:
            other = {"consumer": "merchant", "merchant": "consumer", "staff": "both"}[role]
            notify_party(case=case, party=other, kind="message", message="new_message")
    return message
