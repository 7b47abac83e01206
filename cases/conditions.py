"""What the conditional actions of the lifecycle table need besides the state (docs/appeals.md,
docs/interception.md): pure functions over a case or a plain row, answering the refusal (code, status) or None.

The services call them under the row lock; "what can I do now" (`permissions.available_actions`) calls the same
functions on the list's rows, so a page never offers what the service would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from . import policy
from .choices import TERMINAL_STATES, DeadlineName, Kind, Reason, State

Refusal = tuple[str, int]


def appeal_due(case: Any, holidays: Iterable = ()) -> datetime | None:
    """Until when the case's last ruling may be appealed (None: it was never ruled)."""
    ruled_at = getattr(case, "ruled_at", None)
    return policy.appeal_due(ruled_at, holidays) if ruled_at is not None else None


def appeal_refusal(case: Any, *, now: datetime, holidays: Iterable = ()) -> Refusal | None:
    """Why the case may not be appealed now, checked in this order: a second appeal, a case whose standing
    decision is not a ruling, the window."""
    if getattr(case, "appealed_at", None) is not None:
        return ("already_appealed", 400)
    ruled_state = getattr(case, "ruled_state", "") or ""
    if not ruled_state or case.state != ruled_state:
        return ("not_appealable", 400) if case.state in TERMINAL_STATES else ("invalid_transition", 409)
    due = appeal_due(case, holidays)
    if due is None or now >= due:
        return ("appeal_window_closed", 400)
    return None


def answer_refusal(case: Any, *, role: str, now: datetime) -> Refusal | None:
    """The other party answers once, while the `appeal_answer` clock runs."""
    if role == getattr(case, "appeal_role", ""):
        return ("permission_denied", 403)
    if getattr(case, "appeal_answered_at", None) is not None:
        return ("already_answered", 400)
    due = getattr(case, "deadline_due_at", None)
    if getattr(case, "deadline_name", "") != DeadlineName.APPEAL_ANSWER or due is None or now >= due:
        return ("answer_window_closed", 400)
    return None


def decide_refusal(case: Any, *, user: Any) -> Refusal | None:
    """A supervisor who did not make the ruling under appeal."""
    if user is None or not getattr(user, "is_supervisor", False):
        return ("permission_denied", 403)
    if getattr(case, "ruled_by_id", None) == user.pk:
        return ("permission_denied", 403)
    return None


def intercept_refusal(case: Any, order: Any) -> Refusal | None:
    """A refund-only `not_received` case whose order was shipped with a known courier and waybill and is not
    yet signed for."""
    if case.state != State.PENDING_MERCHANT:
        return ("invalid_transition", 409)
    if (case.kind != Kind.REFUND_ONLY or case.reason != Reason.NOT_RECEIVED or order.shipped_at is None
            or order.signed_at is not None or not order.carrier or not order.waybill):
        return ("not_interceptable", 400)
    return None


def visit_refusal(case: Any, on_site_service: bool) -> Refusal | None:
    """A technician visit is offered to a `repair` case waiting for its item, on a product marked for on-site
    service (docs/visits.md); whether a provider serves the address and a slot has room is the booking's."""
    if case.state != State.AWAITING_RETURN:
        return ("invalid_transition", 409)
    if case.kind != Kind.REPAIR or not on_site_service:
        return ("visit_not_offered", 400)
    return None
