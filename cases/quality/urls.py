from django.urls import path

from . import api

urlpatterns = [
    path("cases/<int:case_id>/rating/", api.CaseRatingView.as_view(), name="api-case-rating"),
    path("cases/<int:case_id>/rating/hide-comment/", api.CaseRatingHideView.as_view(),
         name="api-case-rating-hide"),
    path("shops/<str:code>/scorecard/", api.ShopScorecardView.as_view(), name="api-shop-scorecard"),
]
