"""``python manage.py oa_member NAME --roles R1,R2 [--unit U] [--organisation ORG] [--password P]``.

Creates (or updates) a user of the 待办 page and what the user is in the campaign. A
deployment fills ``Membership`` from its personnel system instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from oa.campaigns import database
from oa.models import Membership


class Command(BaseCommand):
    help = "Create or update a user of the 待办 page with roles, unit and organisation."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--roles", default="")
        parser.add_argument("--unit", default="")
        parser.add_argument("--organisation", default="")
        parser.add_argument("--password", default=None)

    def handle(
        self,
        *args: Any,
        username: str,
        roles: str,
        unit: str,
        organisation: str,
        password: str | None,
        **options: Any,
    ) -> None:
        user, _ = User.objects.get_or_create(username=username)
        if password is not None:
            user.set_password(password)
            user.save()
        Membership.objects.using(database()).update_or_create(
            username=username,
            defaults={"roles": roles, "unit_id": unit, "organisation": organisation},
        )
        self.stdout.write(
            f"{username}: roles {roles or '-'}, unit {unit or '-'}, under {organisation or '-'}"
        )
