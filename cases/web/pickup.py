"""Door-to-door pickup on the case page, through the pickups app's own functions (filled in when it lands)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cases.choices import State
from cases.models import AfterSalesCase


def panel(request: HttpRequest, case: AfterSalesCase) -> dict[str, Any] | None:
    if case.state != State.AWAITING_RETURN:
        return None
    return {"ready": False}
