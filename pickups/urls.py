"""Included at /api/v1/ by portal/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("cases/<int:case_id>/pickup/options/", api.PickupOptionsView.as_view(), name="api-pickup-options"),
    path("cases/<int:case_id>/visit/options/", api.VisitOptionsView.as_view(), name="api-visit-options"),
    path("cases/<int:case_id>/pickup/", api.PickupBookView.as_view(), name="api-pickup-book"),
    path("pickups/<int:pickup_id>/cancel/", api.PickupCancelView.as_view(), name="api-pickup-cancel"),
    path("pickups/<int:pickup_id>/reschedule/", api.PickupRescheduleView.as_view(), name="api-pickup-reschedule"),
    path("couriers/<slug:courier>/webhook/", api.CourierWebhookView.as_view(), name="api-courier-webhook"),
]
