from django.apps import AppConfig


class PickupsConfig(AppConfig):
    name = "pickups"
    verbose_name = "上门取件 Pickup"

    def ready(self) -> None:
        from cases.choices import State
        from cases.hooks import on_leaving

        from . import courier_secrets  # noqa: F401  (registers the deploy check on courier secrets)
        from .services import pickups_cancel_for_cases

        # a withdrawal, expiry or ruling cancels a live pickup in the same transaction (lifecycle.md)
        on_leaving(State.AWAITING_RETURN, pickups_cancel_for_cases)
