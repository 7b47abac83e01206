from django.apps import AppConfig


class PickupsConfig(AppConfig):
    name = "pickups"
    verbose_name = "上门取件 Pickup"

    def ready(self) -> None:
        from . import courier_secrets  # noqa: F401  (registers the deploy check on courier secrets)
