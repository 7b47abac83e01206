from django.apps import AppConfig


class PickupsConfig(AppConfig):
    name = "pickups"
    verbose_name = "上门取件 Pickup"
