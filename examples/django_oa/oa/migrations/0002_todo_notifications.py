"""The 待办 page's memberships and the notification consumer's messages and cursor."""

from typing import Any, ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [("oa", "0001_initial")]

    operations: ClassVar[list[Any]] = [
        migrations.CreateModel(
            name="Membership",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("username", models.CharField(max_length=150, unique=True)),
                ("roles", models.CharField(blank=True, max_length=200)),
                ("unit_id", models.CharField(blank=True, max_length=64)),
                ("organisation", models.CharField(blank=True, max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("campaign_id", models.CharField(max_length=64)),
                ("event_id", models.CharField(max_length=96)),
                ("cursor", models.BigIntegerField()),
                ("kind", models.CharField(max_length=32)),
                ("recipient", models.CharField(max_length=64)),
                ("unit_id", models.CharField(blank=True, max_length=64)),
                ("text", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("event_id", "recipient"), name="oa_event_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="FeedCursor",
            fields=[
                ("campaign_id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0)),
            ],
        ),
    ]
