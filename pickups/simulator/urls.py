"""Mounted at /simulated-courier/ by portal/urls.py."""

from django.urls import path

from . import views

app_name = "simulated_courier"

urlpatterns = [
    path("bookings/", views.book, name="book"),
    path("bookings/<str:waybill>/", views.track, name="track"),
    path("bookings/<str:waybill>/cancel/", views.cancel, name="cancel"),
    path("interceptions/<str:waybill>/", views.intercept, name="intercept"),
    path("visits/", views.book_visit, name="book-visit"),
    path("visits/<str:reference>/cancel/", views.cancel_visit, name="cancel-visit"),
    path("control/", views.control, name="control"),
]
