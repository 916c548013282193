"""The OA's JSON API: record study hours, approve a unit, show why a unit is blocked.

(The logged-in users' 待办 page is oa/todo.py.)

Each request's writes (the OA's own row and the campaign's state, fact and audit record)
commit in one ``transaction.atomic()`` or not at all. A refused command (a missing role, a
unit approving itself) is answered inside the block, so its audit record of the denial
commits: auditors must see refused attempts too (等保 2.0).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

import campaignflow as cf
from oa.campaigns import campaign, database
from oa.models import Notice, StudyLog

View = Callable[..., JsonResponse]


def actor_of(request: HttpRequest) -> cf.Actor:
    """Who is asking. The example trusts headers; a deployment maps ``request.user`` instead."""
    user = request.headers.get("X-OA-User", "")
    roles = {r.strip() for r in request.headers.get("X-OA-Roles", "").split(",") if r.strip()}
    return cf.Actor(id=user, roles=roles, unit=request.headers.get("X-OA-Unit") or None)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise cf.ValidationError(f"body: must be JSON, got {exc}") from None
    if not isinstance(body, dict):
        raise cf.ValidationError(f"body: must be a JSON object, got {body!r}")
    return body


def _refused(exc: cf.CampaignflowError) -> JsonResponse:
    if isinstance(exc, cf.TransitionRejected):
        return JsonResponse(
            {"error": "rejected", "blocking": [v.code for v in exc.decision.failures()]},
            status=409,
        )
    return JsonResponse({"error": "not_authorized", "detail": str(exc)}, status=403)


def json_errors(view: View) -> View:
    """Turn what escaped the transaction (it rolled back) into a JSON answer."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except cf.UnknownUnit as exc:
            return JsonResponse({"error": "unknown_unit", "detail": str(exc)}, status=404)
        except cf.ConcurrencyConflict as exc:
            return JsonResponse({"error": "conflict", "detail": str(exc)}, status=409)
        except cf.ValidationError as exc:
            return JsonResponse({"error": "invalid", "detail": str(exc)}, status=400)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@csrf_exempt  # an API authenticated by its headers, not by a browser's cookie
@require_POST
@json_errors
def record_study(request: HttpRequest, campaign_id: str, unit_id: str) -> JsonResponse:
    """Record a study session from an attendance sheet: ``{"sheet", "hours", "guided"}``."""
    body = _body(request)
    actor = actor_of(request)
    camp = campaign(campaign_id)
    try:
        with transaction.atomic(using=database()):
            try:
                fact = camp.record(
                    unit_id,
                    cf.StudySession(hours=body.get("hours"), guided=body.get("guided", False)),
                    actor=actor,
                    request_id=request.headers.get("Idempotency-Key"),
                )
            except cf.NotAuthorized as exc:
                return _refused(exc)
            StudyLog.objects.using(database()).create(
                campaign_id=campaign_id,
                unit_id=unit_id,
                sheet=str(body.get("sheet", "")),
                hours=fact.fact.hours,
                guided=fact.fact.guided,
                recorded_by=actor.id,
            )
    except IntegrityError:
        # The OA refused its own row: the campaign's fact rolled back with it.
        return JsonResponse(
            {"error": "sheet_already_logged", "sheet": body.get("sheet")}, status=409
        )
    return JsonResponse(
        {"unit": unit_id, "stage": fact.stage, "hours": fact.fact.hours, "version": fact.version},
        status=201,
    )


@csrf_exempt
@require_POST
@json_errors
def approve(request: HttpRequest, campaign_id: str, unit_id: str) -> JsonResponse:
    """Record the actor's decision on the unit's transition: ``{"decision", "comment"}``."""
    body = _body(request)
    actor = actor_of(request)
    camp = campaign(campaign_id)
    with transaction.atomic(using=database()):
        try:
            fact = camp.approve(
                unit_id,
                actor=actor,
                decision=body.get("decision", "approved"),
                comment=str(body.get("comment", "")),
                request_id=request.headers.get("Idempotency-Key"),
            )
        except cf.NotAuthorized as exc:
            return _refused(exc)
        Notice.objects.using(database()).create(
            campaign_id=campaign_id,
            unit_id=unit_id,
            text=f"{actor.id}: {fact.fact.decision} ({fact.stage})",
        )
    return JsonResponse(
        {
            "unit": unit_id,
            "stage": fact.stage,
            "role": fact.fact.role,
            "decision": fact.fact.decision,
        },
        status=201,
    )


@require_GET
@json_errors
def why_blocked(request: HttpRequest, campaign_id: str, unit_id: str) -> JsonResponse:
    """Why the unit cannot move on (or that it can), in ``?locale=zh_CN`` (default) or ``en``."""
    locale = request.GET.get("locale", "zh_CN")
    decision = campaign(campaign_id).check(unit_id)
    return JsonResponse(
        {
            "unit": unit_id,
            "stage": decision.source,
            "target": decision.target,
            "allowed": decision.allowed,
            "blocking": [
                {"code": v.code, "params": v.params, "message": v.message(locale)}
                for v in decision.failures()
            ],
            "explain": decision.explain(locale=locale),
        },
        json_dumps_params={"ensure_ascii": False},
    )
