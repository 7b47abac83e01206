"""One service per action: lock, check, transition, save, audit, side effects after commit.

`from cases import services` then `services.case_approve(...)`: every service is importable from here.
"""

from .appeals import case_answer_appeal, case_appeal, case_decide_appeal
from .arbitration import case_close_evidence, case_intervene, case_rule
from .base import CaseError, event_append
from .dispatch import action_inputs, case_act
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
from .interception import case_intercept, case_intercept_failed, case_intercept_result
from .messages import message_post
from .submit import case_submit
from .visits import (
    case_book_visit,
    case_cancel_visit,
    case_visit_needs_workshop,
    case_visit_not_repairable,
    case_visit_outcome,
    case_visit_repaired,
)

__all__ = [
    "CaseError", "action_inputs", "case_act", "case_approve", "case_approve_refund", "case_close_evidence", "case_confirm_completion",
    "case_confirm_receipt", "case_escalate", "case_expire", "case_intervene", "case_refuse_receipt", "case_reject",
    "case_revise", "case_rule", "case_ship_repaired", "case_ship_replacement", "case_ship_return", "case_submit",
    "case_withdraw", "event_append", "message_post", "case_appeal", "case_answer_appeal", "case_decide_appeal",
    "case_intercept", "case_intercept_failed", "case_intercept_result", "case_book_visit", "case_cancel_visit",
    "case_visit_outcome", "case_visit_repaired", "case_visit_needs_workshop", "case_visit_not_repairable",
]
