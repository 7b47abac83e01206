from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from cases import api as case_api

from . import api, health, views
from .openapi.views import SchemaView

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("marketplace/import/", api.MarketplaceImportView.as_view(), name="api-import"),
    path("orders/", api.OrderListView.as_view(), name="api-orders"),
    path("cases/", case_api.CaseListView.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", case_api.CaseDetailView.as_view(), name="api-case"),
    path("cases/<int:case_id>/actions/<str:action>/", case_api.CaseActionView.as_view(), name="api-case-action"),
    path("cases/<int:case_id>/evidence/", case_api.CaseEvidenceView.as_view(), name="api-case-evidence"),
    path("cases/<int:case_id>/messages/", case_api.CaseMessagesView.as_view(), name="api-case-messages"),
    path("evidence/<int:evidence_id>/file/", case_api.EvidenceFileView.as_view(), name="api-evidence-file"),
    path("", include("pickups.urls")),
    path("", include("cases.assistant.api_urls")),
    path("", include("cases.quality.urls")),
]

urlpatterns = [
    path("favicon.ico", views.favicon),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/", health.healthz),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("simulated-courier/", include("pickups.simulator.urls")),
    path("", include("cases.assistant.urls")),
    path("merchant/", include("cases.merchant.urls")),
    path("", include("cases.web.urls")),
    path("", views.home, name="home"),
]

handler400 = "portal.handlers.bad_request"
handler403 = "portal.handlers.permission_denied"
handler404 = "portal.handlers.not_found"
handler500 = "portal.handlers.server_error"
