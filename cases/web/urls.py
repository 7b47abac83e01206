from django.urls import path

from . import pickup_actions, request_form, views

app_name = "web"
urlpatterns = [
    path("orders/", views.orders, name="orders"),
    path("orders/items/<int:item_id>/after-sales/new/", request_form.case_new, name="case_new"),
    path("orders/items/<int:item_id>/after-sales/photos/<str:token>/<str:key>/", request_form.stash_file,
         name="stash_file"),
    path("cases/", views.cases, name="cases"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/actions/<str:action>/", views.case_action, name="case_action"),
    path("cases/<int:case_id>/rating/", views.case_rate, name="case_rate"),
    path("cases/<int:case_id>/messages/", views.case_message, name="case_message"),
    path("cases/<int:case_id>/evidence/", views.case_evidence, name="case_evidence"),
    path("cases/<int:case_id>/evidence/<int:evidence_id>/file/", views.evidence_file, name="evidence_file"),
    path("notifications/", views.notifications, name="notifications"),
]
urlpatterns += [
    path("cases/<int:case_id>/pickup/", pickup_actions.pickup_book, name="pickup_book"),
    path("cases/<int:case_id>/pickup/<int:pickup_id>/cancel/", pickup_actions.pickup_cancel, name="pickup_cancel"),
    path("cases/<int:case_id>/pickup/<int:pickup_id>/reschedule/", pickup_actions.pickup_reschedule, name="pickup_reschedule"),
]
