from django.apps import AppConfig


class MerchantDeskConfig(AppConfig):
    """The merchant dashboard's own models (reply templates, export jobs) live in this sub-app."""

    name = "cases.merchant"
    label = "merchant_desk"
    verbose_name = "商家工作台 Merchant desk"
