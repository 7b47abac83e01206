from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("orders/", views.orders, name="orders"),
    path("notifications/", views.orders, name="notifications"),
]
