"""Courier quality (docs/quality.md §5): per courier and region (the slot's city code), over the scorecard's
30-day window, from the pickups whose slot started in the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

from pickups.models import Pickup, PickupState

from ..merchant.charts import column_chart
from ..scorecard import mean_hours, rate, window
from .models import QualitySetting


@dataclass
class CourierQuality:
    courier: str
    courier_name: str
    region: str
    booked: int  # pickups not cancelled
    on_time: int  # picked up inside the booked slot
    failed: int  # courier no-show or dispatch exhausted
    inspection_failed: int
    delivery_seconds: list[float]
    ratings: int
    stars: int
    flagged: bool = False

    @property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.on_time, self.booked)

    @property
    def failure_rate(self) -> Decimal | None:
        return rate(self.failed, self.booked)

    @property
    def delivery_hours(self) -> Decimal | None:
        return mean_hours(self.delivery_seconds)

    @property
    def rating_mean(self) -> Decimal | None:
        return None if not self.ratings else (Decimal(self.stars) / self.ratings).quantize(Decimal("0.01"))


def courier_quality(*, now: datetime | None = None) -> list[CourierQuality]:
    """One row per (courier, region) with pickups in the window; flagged when the on-time rate is under the
    threshold (QualitySetting.courier_on_time_threshold)."""
    lo, hi = window(now or timezone.now())
    threshold = QualitySetting.current().courier_on_time_threshold
    pickups = Pickup.objects.filter(slot__start__gte=lo, slot__start__lt=hi).exclude(state=PickupState.CANCELLED)
    rows: dict[tuple[str, str], CourierQuality] = {}
    for code, name, region, booked, on_time, failed, inspection in pickups.order_by().values_list(
            "courier__code", "courier__name", "slot__region_code").annotate(
            n=Count("id"),
            on_time=Count("id", filter=Q(picked_up_at__gte=F("slot__start"), picked_up_at__lte=F("slot__end"))),
            failed=Count("id", filter=Q(state=PickupState.FAILED)),
            inspection=Count("id", filter=Q(state=PickupState.INSPECTION_FAILED))):
        rows[(code, region)] = CourierQuality(courier=code, courier_name=name, region=region, booked=booked,
                                              on_time=on_time, failed=failed, inspection_failed=inspection,
                                              delivery_seconds=[], ratings=0, stars=0)
    # a case's pickup rating counts once for each (courier, region) that took its parcel
    rated = set(pickups.filter(picked_up_at__isnull=False, case__rating__pickup_stars__isnull=False).values_list(
        "courier__code", "slot__region_code", "case_id", "case__rating__pickup_stars"))
    for code, region, _case, stars in rated:
        rows[(code, region)].ratings += 1
        rows[(code, region)].stars += stars
    for code, region, picked, delivered in pickups.filter(picked_up_at__isnull=False, delivered_at__isnull=False) \
            .values_list("courier__code", "slot__region_code", "picked_up_at", "delivered_at"):
        rows[(code, region)].delivery_seconds.append((delivered - picked).total_seconds())
    for row in rows.values():
        on_time = row.on_time_rate
        row.flagged = on_time is not None and on_time < threshold
    return sorted(rows.values(), key=lambda r: (not r.flagged, r.courier, r.region))


@dataclass
class CourierTrend:
    """One courier's on-time pickup rate (all its regions together) over the weekly 30-day windows ending at
    each week's end, oldest first: the chart's columns (percent) and its text alternative's rows."""

    courier: str
    courier_name: str
    weeks: list[tuple[datetime, Decimal | None]]
    chart: dict


def courier_trends(*, now: datetime | None = None, weeks: int = 6) -> list[CourierTrend]:
    """A chart per courier over time (docs/quality.md §5): for each of the last `weeks` week ends, the on-time
    rate of its pickups whose slot started in the 30 days before (the same window and definition as
    `courier_quality`, every region of the courier summed). Couriers with no pickup in any of the windows
    are left out."""
    now = now or timezone.now()
    ends = [now - timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    per: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    for i, end in enumerate(ends):
        for row in courier_quality(now=end):
            name, counts = per.setdefault(row.courier, (row.courier_name, [(0, 0)] * len(ends)))
            booked, on_time = counts[i]
            counts[i] = (booked + row.booked, on_time + row.on_time)
    out = []
    for code in sorted(per):
        name, counts = per[code]
        points = [(end, rate(on_time, booked)) for end, (booked, on_time) in zip(ends, counts, strict=True)]
        chart = column_chart([(f"{end:%m-%d}", (value or 0) * 100) for end, value in points])
        chart["rows"] = [(f"{end:%m-%d}", "—" if value is None else f"{value * 100:.1f}%") for end, value in points]
        out.append(CourierTrend(courier=code, courier_name=name, weeks=points, chart=chart))
    return out
