"""The periodic pickup sweep: the database, not the broker, is what guarantees progress."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from cases.choices import State

from . import conf, effects
from .models import CANCELLABLE_STATES, Pickup, PickupState
from .services import pickup_cancel_orphaned, pickup_fail
from .simulator.service import simulator_advance


def dispatches_resend(*, now: datetime) -> int:
    """Outbox: dispatch again pickups left `requested` (their task lost) while their slot is still ahead."""
    stuck = list(Pickup.objects.filter(
        state=PickupState.REQUESTED, updated_at__lte=now - timedelta(seconds=conf.redispatch_after_seconds()),
        slot__end__gt=now,
    ).values_list("pk", flat=True)[:500])
    for pickup_id in stuck:
        effects.pickup_dispatch_enqueue(pickup_id)  # idempotent: state re-checked, the courier dedupes by key
    return len(stuck)


def courier_cancellations_resend(*, now: datetime) -> int:
    """Outbox: tell the courier again about cancelled bookings it has not acknowledged (cancelling twice is
    harmless at the courier), for pickups cancelled within OUTBOX_RESEND_WINDOW_SECONDS."""
    owed = list(Pickup.objects.filter(
        state=PickupState.CANCELLED, courier_cancelled_at__isnull=True,
        closed_at__lte=now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS),
        closed_at__gte=now - timedelta(seconds=settings.OUTBOX_RESEND_WINDOW_SECONDS),
    ).exclude(waybill="").values_list("pk", flat=True)[:500])
    for pickup_id in owed:
        effects.courier_cancel_enqueue(pickup_id)
    return len(owed)


def pickups_sweep(now: datetime | None = None) -> dict[str, int]:
    """Fail courier no-shows, cancel pickups whose case moved on without them, and let the simulated courier
    move. (Lost dispatches and cancellations are re-sent by the one outbox sweep, portal.outbox.)"""
    now = now or timezone.now()
    no_shows = list(Pickup.objects.filter(
        state__in=[PickupState.REQUESTED, PickupState.DISPATCHED],
        slot__end__lte=now - timedelta(seconds=conf.no_show_grace_seconds()),
    ).values_list("pk", flat=True)[:500])
    for pickup_id in no_shows:
        pickup_fail(pickup_id=pickup_id, reason="no_show", now=now)
    orphaned = list(Pickup.objects.filter(state__in=CANCELLABLE_STATES).exclude(
        case__state=State.AWAITING_RETURN).values_list("pk", flat=True)[:500])
    for pickup_id in orphaned:
        pickup_cancel_orphaned(pickup_id=pickup_id, now=now)
    moved = 0
    if conf.simulated_enabled():
        moved = simulator_advance(now)
    return {"no_shows": len(no_shows), "orphans_cancelled": len(orphaned),
            "simulated_steps": moved}
