"""The OA example's own app: its tables (study logs, notices) and views."""

from django.apps import AppConfig


class OAConfig(AppConfig):
    name = "oa"
    verbose_name = "OA example"
