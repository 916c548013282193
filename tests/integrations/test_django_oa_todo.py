"""The Django OA example's 待办 page, acting from it, and its notification consumer (SQLite, PostgreSQL).

Three units under two districts: fin-01 (east) and vil-03 (west) await the supervision
group's approval, edu-02 (east) may advance. Each test has its own campaign and users.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import campaignflow as cf
from tests.integrations.conftest import BACKENDS, DJANGO_ALIAS, backend_param, fresh_campaign_id
from tests.store.helpers import START, clerk_of, satisfy

LEADER = cf.Actor(id="leader", roles={"leading_group"})


class TodoSite:
    """The example on one backend: a campaign with three units, and users with memberships."""

    def __init__(self, kind: str) -> None:
        import oa.campaigns
        from django.test import Client

        self.alias = DJANGO_ALIAS[kind]
        self.campaign_id = fresh_campaign_id()
        self.camp = oa.campaigns.campaign(self.campaign_id)
        self.client = Client()
        self.setup_campaign()

    def setup_campaign(self) -> None:
        camp = self.camp
        camp.add_organisations(
            [
                cf.Organisation("east", "东区", "district"),
                cf.Organisation("west", "西区", "district"),
            ]
        )
        camp.add_units(
            [
                cf.Unit(
                    id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, parent="east"
                ),
                cf.Unit(
                    id="edu-02", name="区教育局机关党支部", kind="organ", batch=1, parent="east"
                ),
                cf.Unit(id="vil-03", name="西村党支部", kind="village", batch=1, parent="west"),
            ]
        )
        camp.start_batch(1, actor=LEADER)
        for unit_id in ("fin-01", "edu-02", "vil-03"):
            satisfy(camp, camp.clock, unit_id)  # type: ignore[arg-type]
        for unit_id in ("fin-01", "vil-03"):
            camp.advance(unit_id, actor=clerk_of(unit_id))

    def user(self, name: str, roles: str = "", unit: str = "", organisation: str = "") -> str:
        """A user with a membership, logged in on the site's client; returns the user name."""
        from django.contrib.auth.models import User
        from oa.models import Membership

        username = f"{name}-{self.campaign_id}"
        user = User.objects.create_user(username)
        Membership.objects.using(self.alias).create(
            username=username, roles=roles, unit_id=unit, organisation=organisation
        )
        self.client.force_login(user)
        return username

    def page(self, after: str | None = None) -> Any:
        query = {"after": after} if after else {}
        return self.client.get(f"/campaigns/{self.campaign_id}/todo", query)

    def act(self, unit_id: str, kind: str, client: Any = None, **extra: str) -> Any:
        return (client or self.client).post(
            f"/campaigns/{self.campaign_id}/todo/act", {"unit": unit_id, "kind": kind, **extra}
        )

    def notifications(self) -> list[tuple[str, str]]:
        from oa.models import Notification

        rows = Notification.objects.using(self.alias).filter(campaign_id=self.campaign_id)
        return list(rows.order_by("cursor", "recipient").values_list("event_id", "recipient"))


def shown(answer: Any) -> list[tuple[str, str]]:
    """The (unit, kind) of each item row of a 待办 page."""
    return re.findall(r'<tr class="item" data-unit="([^"]+)" data-kind="([^"]+)">', answer.text)


@pytest.fixture(params=BACKENDS)
def todo_site(request: pytest.FixtureRequest, django_site: None) -> Iterator[TodoSite]:
    """The example on one backend, its campaign's day fixed in 2005 (the preset's windows)."""
    from django.test.utils import override_settings

    kind = backend_param(request)
    with override_settings(OA_DATABASE=DJANGO_ALIAS[kind], OA_TODAY=START):
        yield TodoSite(kind)


def test_the_page_shows_exactly_the_users_items_in_chinese(todo_site: TodoSite) -> None:
    """The east inspector sees fin-01's approval with its stage, days and gate; not the west's unit, not edu-02's own item."""
    todo_site.user("zhang", roles="supervision_group", organisation="east")
    answer = todo_site.page()
    assert answer.status_code == 200
    assert shown(answer) == [("fin-01", "approval")]
    for text in ("区财政局机关党支部（fin-01）", "待督导组审批转段", "学习动员", "2005-01-10",
                 "2005-06-30", "尚未经督导组批准转段", "批准转段"):  # fmt: skip
        assert text in answer.text, text
    assert "vil-03" not in answer.text
    assert "edu-02" not in answer.text


def test_a_units_clerk_sees_its_own_items_only(todo_site: TodoSite) -> None:
    """edu-02's clerk sees that edu-02 may advance, and nothing of other units."""
    todo_site.user("clerk", roles="branch_committee", unit="edu-02")
    answer = todo_site.page()
    assert shown(answer) == [("edu-02", "advance")]
    assert "关口均已满足，可以转段" in answer.text


def test_the_page_is_paged_by_cursor(todo_site: TodoSite) -> None:
    """One item a page: the first page links to the next, the last one does not."""
    from django.test.utils import override_settings

    todo_site.user("chen", roles="supervision_group")  # the whole district: both approvals
    with override_settings(OA_TODO_PAGE=1):
        first = todo_site.page()
        assert shown(first) == [("fin-01", "approval")]
        (after,) = re.findall(r'id="next" href="\?after=([^"]+)"', first.text)
        from urllib.parse import unquote

        second = todo_site.page(unquote(after))
        assert shown(second) == [("vil-03", "approval")]
        assert 'id="next"' not in second.text
    assert todo_site.page("not a cursor").status_code == 400


def test_approving_from_the_page_moves_the_unit_and_the_item_goes(todo_site: TodoSite) -> None:
    """The approval posts with the CSRF token; it is recorded, noticed, and the page no longer lists it."""
    from django.test import Client
    from oa.models import Notice

    user = todo_site.user("zhang", roles="supervision_group", organisation="east")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(_user(user))
    page = strict.get(f"/campaigns/{todo_site.campaign_id}/todo")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    assert todo_site.act("fin-01", "approval", client=strict).status_code == 403  # no token
    assert todo_site.camp.facts("fin-01", "study_mobilization") == ()

    answer = todo_site.act(
        "fin-01", "approval", client=strict, csrfmiddlewaretoken=token.group(1), comment="同意"
    )
    assert answer.status_code == 303, answer.content
    (fact,) = todo_site.camp.facts("fin-01", "study_mobilization")
    assert (fact.fact.role, fact.fact.decision, fact.actor_id) == (
        "supervision_group",
        "approved",
        user,
    )
    assert "approval.missing" not in {v.code for v in todo_site.camp.check("fin-01").failures()}
    notices = Notice.objects.using(todo_site.alias).filter(campaign_id=todo_site.campaign_id)
    assert [n.text for n in notices] == [f"{user}: approved (study_mobilization)"]
    assert shown(strict.get(f"/campaigns/{todo_site.campaign_id}/todo")) == []


def _user(username: str) -> Any:
    from django.contrib.auth.models import User

    return User.objects.get(username=username)


def test_an_inspector_cannot_approve_another_districts_unit(todo_site: TodoSite) -> None:
    """The west inspector posting fin-01's approval is refused; nothing is recorded."""
    todo_site.user("wang", roles="supervision_group", organisation="west")
    answer = todo_site.act("fin-01", "approval")
    assert answer.status_code == 403
    assert "该单位不在您的范围内" in answer.text
    assert todo_site.camp.facts("fin-01", "study_mobilization") == ()


def test_a_clerk_cannot_approve_and_the_refusal_is_audited(todo_site: TodoSite) -> None:
    """The library refuses an approval by a user without the role; its denial record commits."""
    user = todo_site.user("li", roles="branch_committee", unit="fin-01")
    answer = todo_site.act("fin-01", "approval")
    assert answer.status_code == 403, answer.text
    assert todo_site.camp.facts("fin-01", "study_mobilization") == ()
    (denied,) = [r for r in todo_site.camp.history("fin-01") if r.command == "approve"]
    assert (denied.outcome, denied.actor_id) == ("denied", user)


def test_the_clerk_advances_the_unit_from_the_page(todo_site: TodoSite) -> None:
    """edu-02's advance item moves it to study; another unit's clerk may not advance it."""
    todo_site.user("other", roles="branch_committee", unit="fin-01")
    assert todo_site.act("edu-02", "advance").status_code == 403
    todo_site.user("clerk", roles="branch_committee", unit="edu-02")
    answer = todo_site.act("edu-02", "advance")
    assert answer.status_code == 303, answer.content
    assert todo_site.camp.state("edu-02").stage == "study_mobilization"
    assert ("edu-02", "advance") not in shown(todo_site.page())
    assert todo_site.act("edu-02", "facts").status_code == 400


def test_the_page_asks_anonymous_visitors_to_log_in(todo_site: TodoSite) -> None:
    """Without a session the page redirects to the login form."""
    from django.test import Client

    answer = Client().get(f"/campaigns/{todo_site.campaign_id}/todo")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login?next=")


def expected_messages(camp: cf.Campaign) -> list[tuple[str, str]]:
    """Every (event id, recipient) the consumer should have written, read straight from the feed."""
    from oa.notifications import recipients

    page = camp.events(after=0, limit=10_000)
    assert not page.more
    return sorted(
        ((e.id, r) for e in page.events for r in recipients(e)),
        key=lambda m: (int(m[0].rpartition(":")[2]), m[1]),
    )


def test_the_consumer_delivers_each_event_once_when_run_twice(todo_site: TodoSite) -> None:
    """A second run writes nothing; every event's messages are there once."""
    from oa.notifications import deliver

    todo_site.camp.inbox(LEADER)  # work-item events too
    written = deliver(todo_site.campaign_id, page_size=3)
    assert written == len(expected_messages(todo_site.camp)) > 5
    assert deliver(todo_site.campaign_id) == 0
    assert todo_site.notifications() == expected_messages(todo_site.camp)


def test_the_consumer_delivers_each_event_once_after_a_crash_before_commit(
    todo_site: TodoSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after writing a page's messages, before the commit, loses and repeats nothing."""
    from oa.models import FeedCursor
    from oa.notifications import deliver

    saves = {"n": 0}
    save = FeedCursor.save

    def crashing_save(self: Any, *args: Any, **kwargs: Any) -> None:
        saves["n"] += "update_fields" in kwargs  # the cursor moving, not its first creation
        if saves["n"] == 2:  # the second page: its messages are written, the cursor not yet
            raise RuntimeError("the consumer's process died")
        save(self, *args, **kwargs)

    monkeypatch.setattr(FeedCursor, "save", crashing_save)
    with pytest.raises(RuntimeError, match="died"):
        deliver(todo_site.campaign_id, page_size=2)
    first_page = todo_site.notifications()
    assert 0 < len(first_page) < len(expected_messages(todo_site.camp))
    deliver(todo_site.campaign_id, page_size=2)
    deliver(todo_site.campaign_id, page_size=2)
    assert todo_site.notifications() == expected_messages(todo_site.camp)


def test_the_management_command_sends_reminders_and_delivers(todo_site: TodoSite) -> None:
    """``oa_notify`` runs send_reminders and the consumer; run again it delivers nothing."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("oa_notify", todo_site.campaign_id, stdout=out)
    written = int(out.getvalue().split(": ")[1].split()[0])
    assert written == len(expected_messages(todo_site.camp))
    out = StringIO()
    call_command("oa_notify", todo_site.campaign_id, stdout=out)
    assert out.getvalue() == f"{todo_site.campaign_id}: 0 notifications\n"
