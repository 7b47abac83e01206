"""Writes of the staff workspace that are not case actions: who on the team holds a case.

Assignment is not a lifecycle action (no state moves, so no CaseEvent); the admin records it in
its own LogEntry history. Like every service it locks the row and checks permission itself.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User

from ..models import AfterSalesCase
from ..services import CaseError


def case_assign(*, case_id: int, actor: User, assignee: User | None) -> AfterSalesCase:
    """Give a case to a staff member. Taking an unassigned case (or keeping one's own) is for any
    agent; moving a case someone else holds, or handing one to a colleague, needs `reassign_case`."""
    if not actor.is_platform_staff:
        raise CaseError("not_found", _("找不到该售后单"), status=404)
    if assignee is not None and not assignee.is_platform_staff:
        raise CaseError("invalid", _("只能分配给平台客服"), field="assignee")
    with transaction.atomic():
        case = AfterSalesCase.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise CaseError("not_found", _("找不到该售后单"), status=404)
        taking_free = assignee == actor and case.assignee_id in (None, actor.pk)
        if not taking_free and not actor.has_perm("cases.reassign_case"):
            raise CaseError("permission_denied", _("只有主管可以重新分配已有处理人的售后单"), status=403)
        if case.is_terminal:
            raise CaseError("invalid_transition", _("售后单已结束，无需分配"), status=409)
        if case.assignee_id != (assignee.pk if assignee else None):
            case.assignee = assignee
            AfterSalesCase.objects.filter(pk=case.pk).update(assignee=assignee, updated_at=timezone.now())
    return case
