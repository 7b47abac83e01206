from django.urls import path

from . import views

app_name = "assistant"
urlpatterns = [
    path("assistant/", views.ask_page, name="ask"),
    path("assistant/handoff/", views.handoff, name="handoff"),
    path("service/", views.threads, name="threads"),
    path("service/<int:thread_id>/", views.thread, name="thread"),
    path("merchant/service/", views.merchant_threads, name="merchant-threads"),
    path("merchant/service/<int:thread_id>/", views.merchant_thread, name="merchant-thread"),
]
