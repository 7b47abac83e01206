"""What other apps must do, in the same transaction, when cases leave a state.

Registered explicitly at start-up (`AppConfig.ready`), called explicitly by the case write paths (the one-case
runner and the sweep's bulk path): the pickups app cancels a live pickup the moment its case leaves
`awaiting_return` (lifecycle.md, Door-to-door pickup), without the case layer importing the pickup layer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

LeaveHook = Callable[[list[int], datetime], None]
_on_leave: dict[str, list[LeaveHook]] = defaultdict(list)


def on_leaving(state: str, hook: LeaveHook) -> None:
    """Run `hook(case_ids, now)` whenever cases leave `state`; registering the same hook twice is a no-op."""
    if hook not in _on_leave[state]:
        _on_leave[state].append(hook)


def cases_left(moves: Iterable[tuple[int, str, str]], now: datetime) -> None:
    """`moves` are (case id, from state, to state) just written; calls each state's hooks once per batch."""
    by_state: dict[str, list[int]] = defaultdict(list)
    for case_id, from_state, to_state in moves:
        if from_state != to_state and _on_leave.get(from_state):
            by_state[from_state].append(case_id)
    for state, case_ids in by_state.items():
        for hook in _on_leave[state]:
            hook(case_ids, now)
