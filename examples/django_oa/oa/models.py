"""The OA's own tables, written in the same transaction as the campaign's."""

from typing import ClassVar

from django.db import models


class StudyLog(models.Model):
    """One attendance sheet of a study session, as the OA keeps it (学习签到表)."""

    campaign_id = models.CharField(max_length=64)
    unit_id = models.CharField(max_length=64)
    sheet = models.CharField(max_length=64)
    hours = models.FloatField()
    guided = models.BooleanField(default=False)
    recorded_by = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # A paper sheet is entered once; a second entry is a clerk's mistake.
            models.UniqueConstraint(fields=["campaign_id", "sheet"], name="oa_sheet_once"),
        ]


class Notice(models.Model):
    """A message the OA shows a unit (通知), e.g. that its stage transition was approved."""

    campaign_id = models.CharField(max_length=64)
    unit_id = models.CharField(max_length=64)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
