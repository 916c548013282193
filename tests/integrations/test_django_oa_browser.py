"""The Django OA example's 待办 page in a real headless Chromium: log in, read the item, approve it.

The example is served in-process by Django's threaded WSGI server on a free port (SQLite);
Chromium is driven over the DevTools pipe exactly as the report's browser test does
(tests/report/browser.py: Debian's ``chromium``, no WebDriver). Skipped locally when
Chromium is absent; in CI its absence fails the test.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import campaignflow as cf
from tests.integrations.conftest import fresh_campaign_id
from tests.report.browser import _browser, _describe, chromium_path
from tests.report.conftest import need
from tests.store.helpers import START, clerk_of, satisfy

#: Hashing passwords at full strength costs a second; the test's one user needs none of it.
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def served(django_site: None) -> Iterator[str]:
    """The example's site on http://127.0.0.1:PORT (SQLite), for the length of one test."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.test.utils import override_settings

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    with override_settings(OA_DATABASE="default", OA_TODAY=START, PASSWORD_HASHERS=FAST_HASHER):
        server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
        server.set_app(WSGIHandler())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


class Page:
    """One browser tab: navigate, run JavaScript, submit a form and wait for the next page."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe
        target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            pipe.call(f"{domain}.enable", self.session)
        self.errors: list[str] = []

    def _loaded(self) -> None:
        self.pipe.wait_for("Page.loadEventFired")
        self.errors += [e for e in map(_describe, self.pipe.events) if e]

    def go(self, url: str) -> None:
        self.pipe.events.clear()
        self.pipe.call("Page.navigate", self.session, url=url)
        self._loaded()

    def js(self, expression: str) -> Any:
        reply = self.pipe.call(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        return reply["result"].get("value")

    def click_and_wait(self, selector: str) -> None:
        """Click the element (a form's submit button) and wait for the page it leads to."""
        self.pipe.events.clear()
        assert self.js(f"document.querySelector({json.dumps(selector)}) !== null"), selector
        self.js(f"document.querySelector({json.dumps(selector)}).click()")
        self._loaded()

    def text(self) -> str:
        return str(self.js("document.body.innerText"))


@pytest.mark.slow
def test_an_inspector_logs_in_reads_the_item_and_approves_it(served: str) -> None:
    """Log in as the east inspector, see fin-01's approval with its gate in Chinese, click, it is gone."""
    import oa.campaigns
    from django.core.management import call_command

    executable = chromium_path()
    need(executable, "chromium", "apt-get install chromium")
    assert executable is not None
    campaign_id = fresh_campaign_id()
    camp = oa.campaigns.campaign(campaign_id)
    camp.add_organisations(
        [cf.Organisation("east", "东区", "district"), cf.Organisation("west", "西区", "district")]
    )
    camp.add_units(
        [
            cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, parent="east"),
            cf.Unit(id="vil-03", name="西村党支部", kind="village", batch=1, parent="west"),
        ]
    )
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    for unit_id in ("fin-01", "vil-03"):
        satisfy(camp, camp.clock, unit_id)  # type: ignore[arg-type]
        camp.advance(unit_id, actor=clerk_of(unit_id))
    user = f"zhang-{campaign_id}"
    call_command(
        "oa_member",
        user,
        roles="supervision_group",
        organisation="east",
        password="督导-2005",
        stdout=io.StringIO(),
    )

    with _browser(executable) as pipe:
        page = Page(pipe)
        page.go(f"{served}/campaigns/{campaign_id}/todo")
        assert page.js("location.pathname") == "/login"
        page.js(f"document.getElementById('username').value = {json.dumps(user)}")
        page.js("document.getElementById('password').value = '督导-2005'")
        page.click_and_wait("#login")
        assert page.js("location.pathname") == f"/campaigns/{campaign_id}/todo"
        seen = page.text()
        for text in ("待办", "区财政局机关党支部（fin-01）", "待督导组审批转段", "学习动员",
                     "2005-06-30", "尚未经督导组批准转段"):  # fmt: skip
            assert text in seen, (text, seen)
        assert "西村党支部" not in seen  # another district's unit
        page.click_and_wait("#act-fin-01-approval")
        assert page.js("location.pathname") == f"/campaigns/{campaign_id}/todo"
        assert page.js("document.querySelectorAll('tr.item').length") == 0
        assert "暂无待办事项" in page.text()
        assert page.errors == []
    (fact,) = camp.facts("fin-01", "study_mobilization")
    assert (fact.fact.role, fact.fact.decision, fact.actor_id) == (
        "supervision_group",
        "approved",
        user,
    )
