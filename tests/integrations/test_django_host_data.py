"""A host-reading guard inside Django's transaction: the gate reads a Django model table.

The host data is a roster provider over the host's own ``Employee`` model (current employees
of a branch), read through the same database alias the :class:`DjangoStore` joins: the gate
sees the host's uncommitted rows in ``transaction.atomic()``, the campaign's writes commit or
roll back with the host's, and the audit keeps the host values the verdict used. Runs on
SQLite and PostgreSQL, as test_django_store.py does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import campaignflow as cf
from tests.integrations.test_django_store import DjangoCase, dj  # noqa: F401  (fixture)
from tests.test_host_data import CLERK, Attendance, workflow

LEADER = cf.Actor(id="wang", roles={"leading_group"})

DAY = date(2005, 3, 1)


@pytest.fixture(scope="session")
def employee_model(django_site: None) -> Any:
    """The host's ``Employee`` model (an OA table of its own), created on every alias."""
    from django.db import connections, models

    from tests.integrations.conftest import DJANGO_ALIAS

    class Employee(models.Model):
        """A current or former employee of a branch (the OA's roster table)."""

        employee_id = models.CharField(max_length=64, unique=True)
        branch = models.CharField(max_length=64)
        active = models.BooleanField(default=True)

        class Meta:
            app_label = "oa"
            db_table = "cf_test_host_employee"

    for alias in DJANGO_ALIAS.values():
        if alias in connections.databases:
            with connections[alias].schema_editor() as editor:
                editor.create_model(Employee)
    return Employee


class DjangoRoster:
    """The host's roster read through Django's ORM on ``using`` (its transaction included)."""

    def __init__(self, model: Any, using: str) -> None:
        self.model = model
        self.using = using

    def current(self, branch: str) -> tuple[str, ...]:
        """The branch's current employee ids, as this connection sees them."""
        rows = self.model.objects.using(self.using).filter(branch=branch, active=True)
        return tuple(rows.order_by("employee_id").values_list("employee_id", flat=True))


def _campaign(case: DjangoCase, host: Any = None) -> cf.Campaign:
    return cf.Campaign(
        workflow(),
        store=case.store(),
        clock=cf.FixedClock(DAY),
        campaign_id=case.campaign_id,
        host=host,
    )


def _hire(model: Any, case: DjangoCase, branch: str, ids: list[str]) -> None:
    prefix = case.campaign_id  # employee ids unique per test: the table is shared
    model.objects.using(case.alias).bulk_create(
        [model(employee_id=f"{prefix}-{i}", branch=branch) for i in ids]
    )


def test_a_guard_reads_the_host_model_in_the_same_transaction(
    dj: DjangoCase,  # noqa: F811  (the fixture)
    employee_model: Any,
) -> None:
    """Uncommitted hires count; a rolled-back hire leaves nothing; the audit keeps the numbers."""
    branch = f"{dj.campaign_id}-b1"
    unit = cf.Unit(id=branch, name="一支部", kind="enterprise", batch=1, members=10)
    roster = DjangoRoster(employee_model, dj.alias)
    camp = _campaign(dj, host=roster)
    with dj.atomic():
        _hire(employee_model, dj, branch, [str(i) for i in range(10)])
        camp.add_units([unit])
        camp.start_batch(1, actor=LEADER)
        for i in range(9):
            camp.record(branch, Attendance(f"{dj.campaign_id}-{i}"), actor=CLERK)
        # 9 of the 10 uncommitted employees: read inside the host's own transaction.
        assert camp.check(branch).allowed

    def hire_then_apply() -> None:
        with dj.atomic():
            _hire(employee_model, dj, branch, ["new"])
            held = camp.check(branch)
            assert not held.allowed
            assert held.verdicts[0].params["employees"] == 11
            camp.advance(branch, actor=CLERK)  # refused: its denial rolls back with the hire

    with pytest.raises(cf.TransitionRejected):
        hire_then_apply()
    assert dj.committed(lambda: len(roster.current(branch))) == 10
    assert camp.state(branch).stage == "study_mobilization"
    with dj.atomic():
        moved = camp.advance(branch, actor=CLERK, host=DjangoRoster(employee_model, dj.alias))
    assert moved.dest == "accepted"
    last = dj.committed(lambda: _campaign(dj).history(branch)[-1])
    assert last.decision is not None
    params = last.decision["candidates"][0]["verdicts"][0]["params"]
    assert (params["attended"], params["employees"]) == (9, 10)
    assert camp.verify_audit().ok


def test_without_host_data_the_call_is_refused_and_the_host_commits(
    dj: DjangoCase,  # noqa: F811  (the fixture)
    employee_model: Any,
) -> None:
    """guard.host_missing inside the atomic block; the host's own write still commits."""
    branch = f"{dj.campaign_id}-b1"
    camp = _campaign(dj)
    with dj.atomic():
        camp.add_units([cf.Unit(id=branch, name="一支部", kind="enterprise", batch=1)])
        camp.start_batch(1, actor=LEADER)
        _hire(employee_model, dj, branch, ["0"])
        with pytest.raises(cf.ValidationError, match="host") as refused:
            camp.advance(branch, actor=CLERK)
        assert refused.value.code == "guard.host_missing"
    assert dj.committed(lambda: len(DjangoRoster(employee_model, dj.alias).current(branch))) == 1
    assert camp.state(branch).stage == "study_mobilization"
    assert [r.dest for r in camp.history(branch)] == ["pending", "study_mobilization"]
