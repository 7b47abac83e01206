"""The payment provider behind an interface. The simulated gateway is what the demo and tests use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils.module_loading import import_string


class PaymentError(Exception):
    """A transient failure: the payout may be retried with the same idempotency key."""


@dataclass
class Payout:
    reference: str
    amount: Decimal


class PaymentGateway(Protocol):
    def refund(self, *, idempotency_key: str, amount: Decimal, order_number: str) -> Payout:
        """Pay `amount` back; the same key must never pay twice."""


class SimulatedPayout(models.Model):
    """The simulated provider's own ledger (stands in for the provider's side of the world)."""

    idempotency_key = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    order_number = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "cases"

    def __str__(self) -> str:
        return f"{self.idempotency_key} ¥{self.amount}"


class SimulatedGateway:
    """Idempotent by key. `SIMULATED_PAYMENT_FAILURES` (settings or `fail_next`) makes calls fail."""

    fail_next: int = 0
    timeout_next: int = 0

    def refund(self, *, idempotency_key: str, amount: Decimal, order_number: str) -> Payout:
        if SimulatedGateway.fail_next > 0:
            SimulatedGateway.fail_next -= 1
            raise PaymentError("simulated provider error")
        existing = SimulatedPayout.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = SimulatedPayout.objects.create(
                        idempotency_key=idempotency_key, amount=amount, order_number=order_number
                    )
            except IntegrityError:
                existing = SimulatedPayout.objects.get(idempotency_key=idempotency_key)
            else:
                if settings.SIMULATED_PAYMENT_DELAY_SECONDS:
                    # a slow answer after paying: the window in which a crash leaves the refund pending
                    time.sleep(settings.SIMULATED_PAYMENT_DELAY_SECONDS)
        if SimulatedGateway.timeout_next > 0:
            # The provider paid but the answer never arrived: the caller must retry with the same key.
            SimulatedGateway.timeout_next -= 1
            raise PaymentError("simulated timeout after payout")
        return Payout(reference=f"SIM-{existing.pk}", amount=existing.amount)


def gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
