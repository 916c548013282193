"""The 待办 page: each logged-in user's work items, and approving or advancing from it.

The user's roles, own unit and organisation come from the OA's ``Membership`` table; the
page lists ``Campaign.inbox`` for that actor under that organisation, a page at a time
(``?after=`` the page's cursor). A button on an item posts (with Django's CSRF token) to
``act``, which approves (the supervision group's ``approval`` items) or advances (the
unit's own ``advance`` items) as that actor: the library checks the actor's roles and
audits a refusal, the OA checks the unit is in the actor's sub-tree or is the actor's own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

import campaignflow as cf
from campaignflow.i18n import messages
from oa.campaigns import campaign, database
from oa.models import Membership, Notice

#: What each kind of work item awaits, in Chinese ({role}: the awaited role's term).
AWAITED = {
    "approval": "待{role}审批转段",
    "assessment": "待{role}组织满意度测评",
    "facts": "本单位尚欠材料或学时",
    "advance": "关口均已满足，可以转段",
}
#: The kinds the page offers a button for, and the button's label.
ACTIONS = {"approval": "批准转段", "advance": "转入下一环节"}


def who(request: HttpRequest) -> tuple[cf.Actor, str | None]:
    """The logged-in user as the campaign's actor, and the organisation of its sub-tree."""
    name = request.user.get_username()
    member = Membership.objects.using(database()).filter(username=name).first()
    if member is None:
        return cf.Actor(id=name), None
    roles = {r.strip() for r in member.roles.split(",") if r.strip()}
    return cf.Actor(id=name, roles=roles, unit=member.unit_id or None), member.organisation or None


def row(camp: cf.Campaign, item: cf.WorkItem) -> dict[str, Any]:
    """What the page shows of one work item, in Chinese."""
    role = messages.term(item.role) if item.role else ""
    return {
        "unit_id": item.unit_id,
        "unit_name": camp.unit(item.unit_id).name,
        "kind": item.kind,
        "awaited": AWAITED.get(item.kind, item.kind).format(role=role),
        "stage": messages.term(item.stage),
        "since": item.since,
        "deadline": item.deadline,
        "gates": item.explain("zh_CN").splitlines(),
        "action": ACTIONS.get(item.kind),
    }


def _page(
    request: HttpRequest, campaign_id: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    actor, under = who(request)
    camp = campaign(campaign_id)
    after = request.GET.get("after") or None
    try:
        with transaction.atomic(using=database()):  # inbox brings the items up to date
            page = camp.inbox(actor, under=under, limit=settings.OA_TODO_PAGE, after=after)
            rows = [row(camp, item) for item in page.items]
    except cf.ValidationError as exc:  # a forged cursor
        return HttpResponse(exc.message("zh_CN"), status=400, content_type="text/plain")
    context = {
        "campaign_id": campaign_id,
        "user": actor.id,
        "rows": rows,
        "next": page.cursor if page.more else None,
        "error": error,
    }
    return render(request, "oa/todo.html", context, status=status)


@login_required
@require_GET
def todo(request: HttpRequest, campaign_id: str) -> HttpResponse:
    """The logged-in user's 待办, a page at a time."""
    return _page(request, campaign_id)


def _in_scope(camp: cf.Campaign, actor: cf.Actor, under: str | None, unit_id: str) -> bool:
    if actor.unit == unit_id:
        return True
    if under is None:
        return True
    parent = camp.unit(unit_id).parent
    return parent is not None and parent in {o.id for o in camp.organisations(under=under)}


@login_required
@require_POST
def act(request: HttpRequest, campaign_id: str) -> HttpResponse:
    """Approve or advance the posted item's unit as the logged-in user, then show the page."""
    unit_id = request.POST.get("unit", "")
    kind = request.POST.get("kind", "")
    if kind not in ACTIONS:
        return _page(request, campaign_id, error=f"无法在此处理“{kind}”事项", status=400)
    actor, under = who(request)
    camp = campaign(campaign_id)
    try:
        with transaction.atomic(using=database()):
            if kind == "advance" and actor.unit != unit_id:
                return _page(request, campaign_id, error="只能推进本单位", status=403)
            if not _in_scope(camp, actor, under, unit_id):
                return _page(request, campaign_id, error="该单位不在您的范围内", status=403)
            try:
                if kind == "approval":
                    fact = camp.approve(
                        unit_id, actor=actor, comment=request.POST.get("comment", "")
                    )
                    text = f"{actor.id}: {fact.fact.decision} ({fact.stage})"
                else:
                    moved = camp.advance(unit_id, actor=actor)
                    text = f"{actor.id}: {moved.source} → {moved.dest}"
            # A refusal is answered inside the block, so the denial's audit record commits.
            except cf.NotAuthorized as exc:
                return _page(request, campaign_id, error=exc.message("zh_CN"), status=403)
            except cf.TransitionRejected as exc:
                return _page(
                    request, campaign_id, error=exc.decision.explain(locale="zh_CN"), status=409
                )
            Notice.objects.using(database()).create(
                campaign_id=campaign_id, unit_id=unit_id, text=text
            )
    except (cf.UnknownUnit, cf.ValidationError, cf.ConcurrencyConflict) as exc:
        return _page(request, campaign_id, error=exc.message("zh_CN"), status=409)
    return HttpResponseRedirect(f"/campaigns/{campaign_id}/todo", status=303)
