from django.urls import path

from . import shop_views, views

app_name = "merchant"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/actions/<str:action>/", views.case_action, name="case-action"),
    path("cases/<int:case_id>/messages/", views.case_message, name="case-message"),
    path("cases/<int:case_id>/evidence/", views.case_evidence, name="case-evidence"),
    path("evidence/<int:evidence_id>/", views.evidence_file, name="evidence-file"),
    path("templates/", shop_views.templates_list, name="templates"),
    path("templates/<int:template_id>/edit/", shop_views.template_edit, name="template-edit"),
    path("templates/<int:template_id>/delete/", shop_views.template_delete, name="template-delete"),
    path("reasons/", shop_views.reason_add, name="reason-add"),
    path("reasons/<int:reason_id>/delete/", shop_views.reason_delete, name="reason-delete"),
    path("metrics/", shop_views.metrics, name="metrics"),
    path("export/", shop_views.export, name="export"),
    path("exports/<int:job_id>/", shop_views.export_job, name="export-job"),
    path("exports/<int:job_id>/download/", shop_views.export_download, name="export-download"),
]
