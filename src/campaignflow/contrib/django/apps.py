"""The installable Django app: ``INSTALLED_APPS = [..., "campaignflow.contrib.django"]``."""

from django.apps import AppConfig  # type: ignore[import-untyped]

__all__ = ["CampaignflowConfig"]


class CampaignflowConfig(AppConfig):  # type: ignore[misc]  # Django ships no type hints
    """The app whose migrations create campaignflow's tables (app label ``campaignflow``)."""

    name = "campaignflow.contrib.django"
    # The default label would be "django", the last part of the module path.
    label = "campaignflow"
    verbose_name = "campaignflow"
