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


class Membership(models.Model):
    """Who a logged-in user is in the campaign: roles, own unit, organisation (岗位).

    Keyed by user name, not by a foreign key to ``auth.User``: the users may live in
    another database than the campaign and the OA's tables.
    """

    username = models.CharField(max_length=150, unique=True)
    #: Comma-separated roles, e.g. ``supervision_group``.
    roles = models.CharField(max_length=200, blank=True)
    #: The unit the user belongs to (its own work items), or "".
    unit_id = models.CharField(max_length=64, blank=True)
    #: The organisation whose sub-tree the user's role items come from ("" : all of them).
    organisation = models.CharField(max_length=64, blank=True)


class Notification(models.Model):
    """A message for a role or a unit, made from one event of the campaign's feed (消息)."""

    campaign_id = models.CharField(max_length=64)
    event_id = models.CharField(max_length=96)
    cursor = models.BigIntegerField()
    kind = models.CharField(max_length=32)
    recipient = models.CharField(max_length=64)
    unit_id = models.CharField(max_length=64, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # Belt and braces: the cursor already makes delivery exactly once.
            models.UniqueConstraint(fields=["event_id", "recipient"], name="oa_event_once"),
        ]


class FeedCursor(models.Model):
    """How far the notification consumer has read a campaign's event feed."""

    campaign_id = models.CharField(max_length=64, primary_key=True)
    seq = models.BigIntegerField(default=0)
