"""The merchant's first response (`AfterSalesCase.first_response_at`): the services set it on the merchant's
first action; a message from the merchant counts too (api.md: "the merchant's first action or message"), so
the scorecard reads one column instead of searching every case's events and messages (docs/quality.md)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from ..choices import ActorRole
from ..models import AfterSalesCase, CaseMessage


def merchant_message_saved(sender: type[CaseMessage], instance: CaseMessage, created: bool = False,
                           raw: bool = False, **kwargs: Any) -> None:
    """post_save of a CaseMessage: a new merchant message moves the case's first response earlier (one
    conditional UPDATE; a later message, or any other author's, changes nothing)."""
    if not created or raw or instance.role != ActorRole.MERCHANT or instance.internal:
        return
    AfterSalesCase.objects.filter(pk=instance.case_id).filter(
        Q(first_response_at__isnull=True) | Q(first_response_at__gt=instance.created_at),
    ).update(first_response_at=instance.created_at)
