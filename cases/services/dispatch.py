"""One action dispatcher for every face: the API, the consumer pages, the merchant desk, the admin and the sweep.

The lifecycle table says which fields an action takes; this module reads them from a request's data and calls
the action's service. An unknown action is a 404; `expire` is the system's alone (403 for anyone who may see
the case, 404 for anyone else).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import cast

from django.utils.translation import gettext as _

from portal.models import User

from ..choices import Action
from ..lifecycle import ACTIONS
from ..models import AfterSalesCase
from ..permissions import role_of
from .appeals import case_answer_appeal, case_appeal, case_decide_appeal
from .arbitration import case_close_evidence, case_intervene, case_rule
from .base import CaseError
from .flow import (
    case_approve,
    case_approve_refund,
    case_confirm_completion,
    case_confirm_receipt,
    case_escalate,
    case_expire,
    case_refuse_receipt,
    case_reject,
    case_revise,
    case_ship_repaired,
    case_ship_replacement,
    case_ship_return,
    case_withdraw,
)
from .inputs import ActionInput
from .interception import case_intercept, case_intercept_failed
from .visits import (
    case_book_visit,
    case_cancel_visit,
    case_visit_needs_workshop,
    case_visit_not_repairable,
    case_visit_repaired,
)

SERVICES: Mapping[str, Callable[..., AfterSalesCase]] = {
    Action.APPROVE: case_approve, Action.REJECT: case_reject, Action.REVISE: case_revise,
    Action.WITHDRAW: case_withdraw, Action.ESCALATE: case_escalate, Action.SHIP_RETURN: case_ship_return,
    Action.CONFIRM_RECEIPT: case_confirm_receipt, Action.REFUSE_RECEIPT: case_refuse_receipt,
    Action.SHIP_REPLACEMENT: case_ship_replacement, Action.SHIP_REPAIRED: case_ship_repaired,
    Action.APPROVE_REFUND: case_approve_refund, Action.CONFIRM_COMPLETION: case_confirm_completion,
    Action.INTERVENE: case_intervene, Action.CLOSE_EVIDENCE: case_close_evidence, Action.RULE: case_rule,
    Action.EXPIRE: case_expire,
    Action.APPEAL: case_appeal, Action.ANSWER_APPEAL: case_answer_appeal, Action.DECIDE_APPEAL: case_decide_appeal,
    Action.INTERCEPT: case_intercept, Action.INTERCEPT_FAILED: case_intercept_failed,
    Action.BOOK_VISIT: case_book_visit, Action.CANCEL_VISIT: case_cancel_visit,
    Action.VISIT_REPAIRED: case_visit_repaired, Action.VISIT_NEEDS_WORKSHOP: case_visit_needs_workshop,
    Action.VISIT_NOT_REPAIRABLE: case_visit_not_repairable,
}
# The actions that take uploaded files with them (`evidence_files`: a list of uploads).
_WITH_FILES = {Action.APPEAL, Action.ANSWER_APPEAL}
# The actions the system takes on a deadline: their services accept the state the clock guarded.
_GUARDED = {Action.APPROVE, Action.EXPIRE, Action.ESCALATE, Action.CONFIRM_RECEIPT, Action.CONFIRM_COMPLETION,
            Action.CLOSE_EVIDENCE, Action.INTERCEPT_FAILED, Action.CANCEL_VISIT}


def action_inputs(action: str, data: Mapping[str, object]) -> ActionInput:
    """The fields the table lists for the action, read from the request's data (absent ones as None), as the
    action's TypedDict (`inputs.INPUTS`).

    Values are checked by the service under the row lock, after who may see and act on the case (so a case
    the user may not see stays a 404 whatever the fields say).
    """
    return cast(ActionInput, {field.name: data.get(field.name) for field in ACTIONS[action].fields})


def case_act(*, action: str, case_id: int, actor: User | None, data: Mapping[str, object],
             now: datetime | None = None, expected_state: str | None = None) -> AfterSalesCase:
    """Run `action` on the case as `actor` (None: the system) with the fields of `data` the action takes."""
    if action not in ACTIONS or action not in SERVICES:
        raise CaseError("not_found", _("未知的操作"), status=404)
    if action == Action.EXPIRE and actor is not None:
        case = AfterSalesCase.objects.filter(pk=case_id).first()
        if case is None or role_of(actor, case) is None:
            raise CaseError("not_found", _("找不到该售后单"), status=404)
        raise CaseError("permission_denied", _("只有系统可以超时关闭售后单"), status=403)
    kwargs: dict[str, object] = {"case_id": case_id, **action_inputs(action, data)}
    if action != Action.EXPIRE:
        kwargs["actor"] = actor
    if action in _WITH_FILES and data.get("evidence_files"):
        kwargs["evidence_files"] = data.get("evidence_files")
    if now is not None:
        kwargs["now"] = now
    if expected_state is not None and action in _GUARDED:
        kwargs["expected_state"] = expected_state
    return SERVICES[action](**kwargs)
