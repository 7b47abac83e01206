"""The typed inputs of every action: one TypedDict per action, with the fields `cases.lifecycle` lists for it.

An edge (the API, the pages, the desk, the admin) reads a request's fields into the action's TypedDict
(`cases.services.action_inputs`) and the dispatcher passes them to the action's service, whose keyword
parameters carry the same types. The types say what reaches a service, not what the value means: an
`amount` is still the text or number the request carried, parsed and checked by the service under the row
lock (so a case the user may not see stays a 404 whatever the fields say, lifecycle.md). The field kinds of
the table map to these types (`KIND_TYPES`); `tests/cases/test_events.py` checks that every action of the
table has its TypedDict here with exactly the table's fields, and that each service takes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import TypedDict

from django.core.files.uploadedfile import UploadedFile

from ..choices import Action

# What a field of each kind may be when it reaches a service (None: absent).
Text = str | None  # text, reason, choice: the edge checked it is text within its maximum length
Amount = str | int | float | Decimal | None  # a decimal amount as text or number, parsed by the service
Flag = bool | str | None  # true/false, or a form's "on"/"1"/"true"
Points = int | str | None  # a non-negative integer, or its digits
Id = int | str | None  # a row's id (a visit slot), or its digits
# the files an appeal or its answer brings (beside the fields: not in the table)
EvidenceFiles = Sequence[UploadedFile] | UploadedFile | None

KIND_TYPES: Mapping[str, object] = MappingProxyType({
    "text": Text, "reason": Text, "choice": Text, "amount": Amount, "bool": Flag, "points": Points, "id": Id,
})


class NoInput(TypedDict, total=False):
    """An action that takes no fields."""


class RejectInput(TypedDict, total=False):
    reason: Text
    reason_code: Text


class ReviseInput(TypedDict, total=False):
    amount: Amount
    reason: Text
    description: Text
    condition_intact: Flag


class EscalateInput(TypedDict, total=False):
    statement: Text


class ShipInput(TypedDict, total=False):
    """`ship_return`, `ship_replacement`, `ship_repaired`: the parcel's carrier and tracking number."""

    carrier: Text
    tracking_number: Text


class RefuseReceiptInput(TypedDict, total=False):
    reason: Text
    reason_code: Text


class InterveneInput(TypedDict, total=False):
    note: Text


class RuleInput(TypedDict, total=False):
    decision: Text
    rationale: Text
    amount: Amount
    require_return: Flag
    compensation_points: Points


class AppealInput(TypedDict, total=False):
    """`appeal` and `answer_appeal` (their evidence files travel beside the fields)."""

    statement: Text


class DecideAppealInput(TypedDict, total=False):
    outcome: Text
    rationale: Text
    decision: Text
    amount: Amount
    require_return: Flag
    compensation_points: Points


class BookVisitInput(TypedDict, total=False):
    """`book_visit` (docs/visits.md): one of the open visit slots."""

    slot: Id


ActionInput = (NoInput | RejectInput | ReviseInput | EscalateInput | ShipInput | RefuseReceiptInput
               | InterveneInput | RuleInput | AppealInput | DecideAppealInput
               | BookVisitInput)

A = Action
# Every action of the lifecycle table → its input's TypedDict.
INPUTS: Mapping[str, type] = MappingProxyType({
    A.APPROVE: NoInput, A.REJECT: RejectInput, A.REVISE: ReviseInput, A.WITHDRAW: NoInput,
    A.ESCALATE: EscalateInput, A.SHIP_RETURN: ShipInput, A.CONFIRM_RECEIPT: NoInput,
    A.REFUSE_RECEIPT: RefuseReceiptInput, A.SHIP_REPLACEMENT: ShipInput, A.SHIP_REPAIRED: ShipInput,
    A.APPROVE_REFUND: NoInput, A.CONFIRM_COMPLETION: NoInput, A.INTERVENE: InterveneInput,
    A.CLOSE_EVIDENCE: NoInput, A.RULE: RuleInput, A.EXPIRE: NoInput, A.APPEAL: AppealInput,
    A.ANSWER_APPEAL: AppealInput, A.DECIDE_APPEAL: DecideAppealInput, A.INTERCEPT: NoInput,
    A.INTERCEPT_FAILED: NoInput, A.BOOK_VISIT: BookVisitInput, A.CANCEL_VISIT: NoInput,
    A.VISIT_REPAIRED: NoInput, A.VISIT_NEEDS_WORKSHOP: NoInput, A.VISIT_NOT_REPAIRABLE: NoInput,
})
