"""URLs of the OA example: three endpoints per unit of a campaign."""

from django.urls import path
from oa import views

urlpatterns = [
    path("campaigns/<str:campaign_id>/units/<str:unit_id>/study", views.record_study),
    path("campaigns/<str:campaign_id>/units/<str:unit_id>/approve", views.approve),
    path("campaigns/<str:campaign_id>/units/<str:unit_id>/why", views.why_blocked),
]
