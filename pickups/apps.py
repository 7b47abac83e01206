from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PickupsConfig(AppConfig):
    name = "pickups"
    verbose_name = _("上门取件")

    def ready(self) -> None:
        from cases.choices import State
        from cases.hooks import on_entering, on_leaving, register_visit_booker

        from . import (
            courier_secrets,  # noqa: F401  (registers the deploy check on courier secrets)
            tasks,  # noqa: F401  (registers the task names pickups.effects queues)
        )
        from .interception import interceptions_request_later
        from .services import pickups_cancel_for_cases
        from .visits import visit_book_locked, visits_close_for_cases

        register_visit_booker(visit_book_locked)  # docs/visits.md: case_book_visit takes a slot through it
        # a withdrawal, expiry or ruling cancels a live pickup in the same transaction (lifecycle.md)
        on_leaving(State.AWAITING_RETURN, pickups_cancel_for_cases)
        # a case entering `intercepting` asks the order's courier to stop the parcel (docs/interception.md)
        on_entering(State.INTERCEPTING, interceptions_request_later)
        # a case leaving `awaiting_visit` without an outcome cancels its live visit (docs/visits.md)
        on_leaving(State.AWAITING_VISIT, visits_close_for_cases)
