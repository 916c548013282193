"""URLs of the OA example: a JSON API per unit, and the logged-in users' 待办 page."""

from django.contrib.auth import views as auth_views
from django.urls import path
from oa import todo, views

urlpatterns = [
    path("campaigns/<str:campaign_id>/units/<str:unit_id>/study", views.record_study),
    path("campaigns/<str:campaign_id>/units/<str:unit_id>/approve", views.approve),
    path("campaigns/<str:campaign_id>/units/<str:unit_id>/why", views.why_blocked),
    path("campaigns/<str:campaign_id>/todo", todo.todo),
    path("campaigns/<str:campaign_id>/todo/act", todo.act),
    path("login", auth_views.LoginView.as_view()),
    path("logout", auth_views.LogoutView.as_view(next_page="/login")),
]
