"""The lifecycle of a case as data (lifecycle.md, "States and actions" and "Deadlines").

One table says, for every action: who may take it, from which states (per role where the contract narrows
it), where it may lead, which fields it takes, whether it moves money; and for every deadline: the state it
guards, the party it binds and the action its expiry takes. Permissions, the sweep, the state chart, the
pages' "what can I do now", the notifications' "who acts next" and the model's django-fsm transitions (checked
by a test) all read this module. It imports nothing of the project but the contract's names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .choices import OPEN_STATES, TERMINAL_STATES, Action, ActorRole, DeadlineName, State

S = State
A = Action
R = ActorRole

TERMINAL: frozenset[str] = TERMINAL_STATES
NON_TERMINAL: frozenset[str] = OPEN_STATES


@dataclass(frozen=True)
class Field:
    """An input an action takes. `kind` says how the edge parses it (text, amount, bool, points, reason, choice)."""

    name: str
    kind: str
    required: bool = False
    max_length: int = 0
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionSpec:
    name: str
    roles: frozenset[str]
    sources: frozenset[str]
    targets: frozenset[str]
    fields: tuple[Field, ...] = ()
    role_sources: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    moves_money: bool = False  # may pay the consumer (the pages ask for a second look)
    irreversible: bool = False  # closes or settles something a party cannot take back
    # where a source leads only to some of the targets (the system's `approve` out of `intercepting` refunds)
    source_targets: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    # also depends on the case's data, not only its state (the appeal window, an interceptable order): the
    # service checks it and answers with its own 400 code; "what can I do now" asks `cases.conditions`
    conditional: bool = False

    def targets_from(self, source: str) -> frozenset[str]:
        """The states the action may lead to from `source`."""
        return self.source_targets.get(source, self.targets)

    def sources_for(self, role: str) -> frozenset[str]:
        """The states this role may take the action from."""
        if role not in self.roles:
            return frozenset()
        return self.role_sources.get(role, self.sources)


def _spec(name: str, roles: set[str], sources: set[str] | frozenset[str], targets: set[str], *fields: Field,
          role_sources: dict[str, set[str]] | None = None, moves_money: bool = False,
          irreversible: bool = False, source_targets: dict[str, set[str]] | None = None,
          conditional: bool = False) -> ActionSpec:  # pragma: no mutate block
    # (runs once, at import, to build ACTIONS: a mutant of it never reaches mutmut's forked test runs; the
    # table's rows are mutated by mutation/table.py instead — docs/mutation.md)
    return ActionSpec(
        name=name, roles=frozenset(roles), sources=frozenset(sources), targets=frozenset(targets), fields=fields,
        role_sources=MappingProxyType({r: frozenset(s) for r, s in (role_sources or {}).items()}),
        moves_money=moves_money, irreversible=irreversible,
        source_targets=MappingProxyType({s: frozenset(t) for s, t in (source_targets or {}).items()}),
        conditional=conditional,
    )


_REASON_TEXT = Field("reason", "text", required=True, max_length=2000)
_REASON_CODE = Field("reason_code", "text", max_length=64)
_CARRIER = Field("carrier", "text", required=True, max_length=64)
_TRACKING = Field("tracking_number", "text", required=True, max_length=64)
_STATEMENT = Field("statement", "text", required=True, max_length=4000)
# the fields of `rule`, which an overturning `decide_appeal` takes too
_RULING = (Field("decision", "choice", choices=("refund", "reject")), Field("amount", "amount"),
           Field("require_return", "bool"), Field("compensation_points", "points"))
RULED_STATES = frozenset({S.REFUNDED, S.CLOSED, S.AWAITING_RETURN})

ACTIONS: Mapping[str, ActionSpec] = MappingProxyType({spec.name: spec for spec in (
    _spec(A.APPROVE, {R.MERCHANT, R.SYSTEM}, {S.PENDING_MERCHANT, S.INTERCEPTING}, {S.REFUNDED, S.AWAITING_RETURN},
          role_sources={R.MERCHANT: {S.PENDING_MERCHANT}, R.SYSTEM: {S.PENDING_MERCHANT, S.INTERCEPTING}},
          source_targets={S.INTERCEPTING: {S.REFUNDED}}, moves_money=True),
    _spec(A.REJECT, {R.MERCHANT}, {S.PENDING_MERCHANT}, {S.REJECTED}, _REASON_TEXT, _REASON_CODE),
    _spec(A.REVISE, {R.CONSUMER}, {S.PENDING_MERCHANT, S.REJECTED}, {S.PENDING_MERCHANT},
          Field("amount", "amount"), Field("reason", "reason"), Field("description", "text", max_length=2000),
          Field("condition_intact", "bool")),
    _spec(A.WITHDRAW, {R.CONSUMER}, {S.PENDING_MERCHANT, S.REJECTED, S.AWAITING_RETURN}, {S.CLOSED},
          irreversible=True),
    _spec(A.ESCALATE, {R.CONSUMER, R.SYSTEM},
          {S.REJECTED, S.REPLACEMENT_IN_TRANSIT, S.AWAITING_REPLACEMENT, S.IN_REPAIR}, {S.IN_ARBITRATION},
          Field("statement", "text", max_length=4000),
          role_sources={R.CONSUMER: {S.REJECTED, S.REPLACEMENT_IN_TRANSIT},
                        R.SYSTEM: {S.AWAITING_REPLACEMENT, S.IN_REPAIR}}),
    _spec(A.SHIP_RETURN, {R.CONSUMER, R.SYSTEM}, {S.AWAITING_RETURN}, {S.RETURN_IN_TRANSIT}, _CARRIER, _TRACKING,
          moves_money=True),
    _spec(A.CONFIRM_RECEIPT, {R.MERCHANT, R.SYSTEM}, {S.RETURN_IN_TRANSIT},
          {S.REFUNDED, S.AWAITING_REPLACEMENT, S.IN_REPAIR}, moves_money=True),
    _spec(A.REFUSE_RECEIPT, {R.MERCHANT}, {S.RETURN_IN_TRANSIT}, {S.REJECTED}, _REASON_TEXT, _REASON_CODE),
    _spec(A.SHIP_REPLACEMENT, {R.MERCHANT}, {S.AWAITING_REPLACEMENT}, {S.REPLACEMENT_IN_TRANSIT}, _CARRIER,
          _TRACKING),
    _spec(A.SHIP_REPAIRED, {R.MERCHANT}, {S.IN_REPAIR}, {S.REPLACEMENT_IN_TRANSIT}, _CARRIER, _TRACKING),
    _spec(A.APPROVE_REFUND, {R.MERCHANT}, {S.AWAITING_REPLACEMENT, S.IN_REPAIR}, {S.REFUNDED}, moves_money=True),
    _spec(A.CONFIRM_COMPLETION, {R.CONSUMER, R.SYSTEM}, {S.REPLACEMENT_IN_TRANSIT}, {S.COMPLETED},
          irreversible=True),
    _spec(A.INTERVENE, {R.STAFF}, NON_TERMINAL - {S.IN_ARBITRATION, S.UNDER_APPEAL}, {S.IN_ARBITRATION},
          Field("note", "text", max_length=4000)),
    _spec(A.CLOSE_EVIDENCE, {R.STAFF, R.SYSTEM}, {S.IN_ARBITRATION}, {S.AWAITING_RULING}),
    _spec(A.RULE, {R.STAFF}, {S.IN_ARBITRATION, S.AWAITING_RULING}, {S.REFUNDED, S.AWAITING_RETURN, S.CLOSED},
          Field("decision", "choice", required=True, choices=("refund", "reject")),
          Field("rationale", "text", required=True, max_length=4000), Field("amount", "amount"),
          Field("require_return", "bool"), Field("compensation_points", "points"),
          moves_money=True, irreversible=True),
    _spec(A.EXPIRE, {R.SYSTEM}, {S.REJECTED, S.AWAITING_RETURN}, {S.CLOSED}),
    # docs/appeals.md: once, by either party, within the appeal window after a ruling
    _spec(A.APPEAL, {R.CONSUMER, R.MERCHANT}, RULED_STATES, {S.UNDER_APPEAL}, _STATEMENT, conditional=True),
    _spec(A.ANSWER_APPEAL, {R.CONSUMER, R.MERCHANT}, {S.UNDER_APPEAL}, {S.UNDER_APPEAL}, _STATEMENT,
          conditional=True),
    _spec(A.DECIDE_APPEAL, {R.STAFF}, {S.UNDER_APPEAL}, {S.REFUNDED, S.AWAITING_RETURN, S.CLOSED},
          Field("outcome", "choice", required=True, choices=("uphold", "overturn")),
          Field("rationale", "text", required=True, max_length=4000), *_RULING,
          moves_money=True, irreversible=True, conditional=True),
    # docs/interception.md: a parcel still on its way is stopped by the courier
    _spec(A.INTERCEPT, {R.CONSUMER, R.MERCHANT}, {S.PENDING_MERCHANT}, {S.INTERCEPTING}, conditional=True),
    _spec(A.INTERCEPT_FAILED, {R.SYSTEM}, {S.INTERCEPTING}, {S.PENDING_MERCHANT}),
    # docs/visits.md: a technician repairs on site instead of the item being sent back
    _spec(A.BOOK_VISIT, {R.CONSUMER}, {S.AWAITING_RETURN}, {S.AWAITING_VISIT},
          Field("slot", "id", required=True), conditional=True),
    _spec(A.CANCEL_VISIT, {R.CONSUMER, R.SYSTEM}, {S.AWAITING_VISIT}, {S.AWAITING_RETURN}),
    _spec(A.VISIT_REPAIRED, {R.SYSTEM}, {S.AWAITING_VISIT}, {S.COMPLETED}, irreversible=True),
    _spec(A.VISIT_NEEDS_WORKSHOP, {R.SYSTEM}, {S.AWAITING_VISIT}, {S.AWAITING_RETURN}),
    _spec(A.VISIT_NOT_REPAIRABLE, {R.SYSTEM}, {S.AWAITING_VISIT}, {S.IN_REPAIR}),
)})

# What a person may ask for by name (the API's and the pages' actions); `expire` is the system's alone.
PERSON_ACTIONS: tuple[str, ...] = tuple(a for a in ACTIONS if ACTIONS[a].roles - {R.SYSTEM})


@dataclass(frozen=True)
class DeadlineSpec:
    name: str
    state: str
    party: str
    on_expiry: str | None  # the action the system takes; None: no state change (ruling_sla flags the case)
    expiry_payload: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # with no expiry action: the case flag the expiry sets and the message supervisors get
    flag: str = ""
    flag_message: str = ""


DEADLINES: Mapping[str, DeadlineSpec] = MappingProxyType({spec.name: spec for spec in (
    DeadlineSpec(DeadlineName.MERCHANT_RESPONSE, S.PENDING_MERCHANT, "merchant", A.APPROVE,
                 MappingProxyType({"auto": True})),
    DeadlineSpec(DeadlineName.CONSUMER_REVISE, S.REJECTED, "consumer", A.EXPIRE),
    DeadlineSpec(DeadlineName.CONSUMER_SHIP, S.AWAITING_RETURN, "consumer", A.EXPIRE),
    DeadlineSpec(DeadlineName.MERCHANT_RECEIVE, S.RETURN_IN_TRANSIT, "merchant", A.CONFIRM_RECEIPT,
                 MappingProxyType({"auto": True})),
    DeadlineSpec(DeadlineName.MERCHANT_SHIP_REPLACEMENT, S.AWAITING_REPLACEMENT, "merchant", A.ESCALATE),
    DeadlineSpec(DeadlineName.MERCHANT_REPAIR, S.IN_REPAIR, "merchant", A.ESCALATE),
    DeadlineSpec(DeadlineName.CONSUMER_CONFIRM, S.REPLACEMENT_IN_TRANSIT, "consumer", A.CONFIRM_COMPLETION),
    DeadlineSpec(DeadlineName.EVIDENCE, S.IN_ARBITRATION, "staff", A.CLOSE_EVIDENCE),
    DeadlineSpec(DeadlineName.RULING_SLA, S.AWAITING_RULING, "staff", None, flag="overdue",
                 flag_message="ruling_overdue"),
    DeadlineSpec(DeadlineName.APPEAL_ANSWER, S.UNDER_APPEAL, "both", None, flag="appeal_ready",
                 flag_message="appeal_ready"),
    DeadlineSpec(DeadlineName.INTERCEPTION, S.INTERCEPTING, "both", A.INTERCEPT_FAILED,
                 MappingProxyType({"expired": True})),
    DeadlineSpec(DeadlineName.TECHNICIAN_VISIT, S.AWAITING_VISIT, "merchant", A.CANCEL_VISIT,
                 MappingProxyType({"expired": True})),
)})
DEADLINE_FOR_STATE: Mapping[str, str] = MappingProxyType({d.state: d.name for d in DEADLINES.values()})

# Who must act once a case is in a state ("both": consumer and merchant), for "what happens next" and who is told.
NEXT_PARTY: Mapping[str, str] = MappingProxyType({
    S.PENDING_MERCHANT: "merchant", S.REJECTED: "consumer", S.AWAITING_RETURN: "consumer",
    S.RETURN_IN_TRANSIT: "merchant", S.AWAITING_REPLACEMENT: "merchant", S.IN_REPAIR: "merchant",
    S.REPLACEMENT_IN_TRANSIT: "consumer", S.IN_ARBITRATION: "both", S.AWAITING_RULING: "both",
    S.REFUNDED: "consumer", S.COMPLETED: "both", S.CLOSED: "both", S.UNDER_APPEAL: "both",
    S.INTERCEPTING: "both", S.AWAITING_VISIT: "merchant",
})


def may_take(role: str, action: str, state: str) -> bool:
    """Whether the role may take the action from the state (the table's answer; django-fsm guards the model)."""
    spec = ACTIONS.get(action)
    return spec is not None and state in spec.sources_for(role)


def arrows() -> list[tuple[str, str, str, frozenset[str]]]:
    """(source, target, action, roles) for every arrow the table allows: the chart is drawn from these."""
    edges = []
    for spec in ACTIONS.values():
        for role in spec.roles:
            for source in spec.sources_for(role):
                for target in spec.targets_from(source):
                    edges.append((source, target, spec.name, role))
    merged: dict[tuple[str, str, str], set[str]] = {}
    for source, target, name, role in edges:
        merged.setdefault((source, target, name), set()).add(role)
    return sorted((s, t, n, frozenset(r)) for (s, t, n), r in merged.items())
