"""What other apps must do, in the same transaction, when cases leave a state.

Registered explicitly at start-up (`AppConfig.ready`), called explicitly by the case write paths (the one-case
runner and the sweep's bulk path): the pickups app cancels a live pickup the moment its case leaves
`awaiting_return` (lifecycle.md, Door-to-door pickup), without the case layer importing the pickup layer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

LeaveHook = Callable[[list[int], datetime], None]
_on_leave: dict[str, list[LeaveHook]] = defaultdict(list)
_on_enter: dict[str, list[LeaveHook]] = defaultdict(list)


def on_entering(state: str, hook: LeaveHook) -> None:
    """Run `hook(case_ids, now)` whenever cases enter `state` (the pickups app asks the courier to intercept
    a parcel when a case enters `intercepting`); registering the same hook twice is a no-op."""
    if hook not in _on_enter[state]:
        _on_enter[state].append(hook)


def on_leaving(state: str, hook: LeaveHook) -> None:
    """Run `hook(case_ids, now)` whenever cases leave `state`; registering the same hook twice is a no-op."""
    if hook not in _on_leave[state]:
        _on_leave[state].append(hook)


def cases_left(moves: Iterable[tuple[int, str, str]], now: datetime) -> None:
    """`moves` are (case id, from state, to state) just written; calls each state's hooks once per batch."""
    by_state: dict[str, list[int]] = defaultdict(list)
    into: dict[str, list[int]] = defaultdict(list)
    for case_id, from_state, to_state in moves:
        if from_state != to_state and _on_leave.get(from_state):
            by_state[from_state].append(case_id)
        if from_state != to_state and _on_enter.get(to_state):
            into[to_state].append(case_id)
    for state, case_ids in by_state.items():
        for hook in _on_leave[state]:
            hook(case_ids, now)
    for state, case_ids in into.items():
        for hook in _on_enter[state]:
            hook(case_ids, now)


# The booker of on-site repair visits (docs/visits.md): the pickups app owns couriers and slots and registers
# it at start-up; `case_book_visit` calls it inside the case's locked transaction. It answers the visit row.
VisitBooker = Callable[..., Any]
_visit_booker: list[VisitBooker] = []


def register_visit_booker(booker: VisitBooker) -> None:
    """Set the function that takes a visit slot's place for a case (`booker(case=, slot_id=, now=)`)."""
    _visit_booker[:] = [booker]


def visit_book(**kwargs: Any) -> Any:
    """Book a visit through the registered booker (the pickups app's `visit_book_locked`)."""
    if not _visit_booker:
        raise RuntimeError("no visit booker registered (is the pickups app installed?)")
    return _visit_booker[0](**kwargs)
