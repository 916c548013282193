"""The OA example on FastAPI and SQLAlchemy 2: record study hours, approve a unit, show why it is blocked.

It also serves each user's work list (待办, ``GET /campaigns/{id}/todo``) and approving or
advancing from it (``POST /campaigns/{id}/todo/act``); ``oa_notify.py`` turns the
campaign's events into rows of the ``oa_api_notification`` table, exactly once.

Each request opens one SQLAlchemy ``Session`` transaction; the OA's own rows (attendance
sheets, notices) and the campaign's state, facts and audit records are written in it, so
they commit together or not at all. A refused command (a missing role, a unit approving
itself) is answered from inside the transaction, so its audit record of the denial commits:
auditors must see refused attempts too (等保 2.0).

Run it (``pip install 'campaignflow[sqlalchemy]' fastapi uvicorn``)::

    OA_TODAY=2005-02-10 uvicorn oa_api:app

Environment: ``OA_DATABASE_URL`` (``sqlite:///oa_api.db`` by default, or
``postgresql://user:password@host:5432/db``, served by psycopg 3), ``OA_TODAY`` (the day the
campaign takes as today; the 2005 preset's batch windows lie in 2005, a live campaign leaves
it unset and runs on the wall clock).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import campaignflow as cf
from campaignflow.contrib.sqlalchemy import SQLAlchemyStore, upgrade_schema
from campaignflow.i18n import messages

#: The rules: the 2005 district preset (a real deployment may load its own TOML file).
WORKFLOW = cf.presets.district_2005()


class Base(DeclarativeBase):
    """The OA's own tables."""


class StudyLog(Base):
    """One attendance sheet of a study session, as the OA keeps it (学习签到表)."""

    __tablename__ = "oa_api_study_log"
    # A paper sheet is entered once; a second entry is a clerk's mistake.
    __table_args__ = (sa.UniqueConstraint("campaign_id", "sheet", name="oa_api_sheet_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(sa.String(64))
    unit_id: Mapped[str] = mapped_column(sa.String(64))
    sheet: Mapped[str] = mapped_column(sa.String(64))
    hours: Mapped[float]
    guided: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=sa.func.now())


class Notice(Base):
    """A message the OA shows a unit (通知), e.g. that its stage transition was approved."""

    __tablename__ = "oa_api_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(sa.String(64))
    unit_id: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.Text)


class Notification(Base):
    """A message for a role or a unit, made from one event of the campaign's feed (消息)."""

    __tablename__ = "oa_api_notification"
    # Belt and braces: the cursor already makes delivery exactly once.
    __table_args__ = (sa.UniqueConstraint("event_id", "recipient", name="oa_api_event_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(sa.String(64))
    event_id: Mapped[str] = mapped_column(sa.String(96))
    cursor: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(32))
    recipient: Mapped[str] = mapped_column(sa.String(64))
    unit_id: Mapped[str] = mapped_column(sa.String(64), default="")
    text: Mapped[str] = mapped_column(sa.Text)


class FeedCursor(Base):
    """How far the notification consumer has read a campaign's event feed."""

    __tablename__ = "oa_api_feed_cursor"

    campaign_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class StudyIn(BaseModel):
    """A study session from an attendance sheet."""

    sheet: str
    hours: float
    guided: bool = False


class ApprovalIn(BaseModel):
    """The approver's decision on the unit's stage transition."""

    decision: str = "approved"
    comment: str = ""


def engine_from_env() -> sa.Engine:
    """The engine ``OA_DATABASE_URL`` names (PostgreSQL through psycopg 3)."""
    url = os.environ.get("OA_DATABASE_URL", "sqlite:///oa_api.db")
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.partition("://")[2]
    return sa.create_engine(url)


def init_db(engine: sa.Engine) -> None:
    """Create the OA's tables and campaignflow's (idempotent; Alembic would do this in production)."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        upgrade_schema(conn)


def actor_of(
    x_oa_user: Annotated[str, Header()] = "",
    x_oa_roles: Annotated[str, Header()] = "",
    x_oa_unit: Annotated[str | None, Header()] = None,
) -> cf.Actor:
    """Who is asking. The example trusts headers; a deployment takes its authenticated user."""
    roles = {r.strip() for r in x_oa_roles.split(",") if r.strip()}
    return cf.Actor(id=x_oa_user, roles=roles, unit=x_oa_unit or None)


def organisation_of(x_oa_organisation: Annotated[str | None, Header()] = None) -> str | None:
    """The organisation whose sub-tree the asker's role items come from (None: all of them)."""
    return x_oa_organisation or None


def _refused(exc: cf.CampaignflowError) -> JSONResponse:
    return JSONResponse({"error": "not_authorized", "detail": str(exc)}, status_code=403)


def get_session(request: Request) -> Iterator[Session]:
    """A session on the app's engine for one request; the endpoint runs its transaction."""
    with Session(request.app.state.engine) as session:
        yield session


def campaign(request: Request, session: Session, campaign_id: str) -> cf.Campaign:
    """The campaign ``campaign_id``, working in this request's session and transaction."""
    store = SQLAlchemyStore(session, campaign_id=campaign_id)
    return cf.Campaign(
        WORKFLOW, store=store, clock=request.app.state.clock, campaign_id=campaign_id
    )


Db = Annotated[Session, Depends(get_session)]
Who = Annotated[cf.Actor, Depends(actor_of)]
Key = Annotated[str | None, Header(alias="Idempotency-Key")]
router = APIRouter()


@router.post("/campaigns/{campaign_id}/units/{unit_id}/study", status_code=201)
def record_study(
    request: Request,
    campaign_id: str,
    unit_id: str,
    body: StudyIn,
    db: Db,
    actor: Who,
    key: Key = None,
) -> Any:
    """Record a study session and its attendance sheet."""
    try:
        with db.begin():
            camp = campaign(request, db, campaign_id)
            try:
                fact = camp.record(
                    unit_id,
                    cf.StudySession(hours=body.hours, guided=body.guided),
                    actor=actor,
                    request_id=key,
                )
            except cf.NotAuthorized as exc:
                return _refused(exc)  # leaving the block commits the denial's record
            db.add(
                StudyLog(
                    campaign_id=campaign_id,
                    unit_id=unit_id,
                    sheet=body.sheet,
                    hours=fact.fact.hours,
                    guided=fact.fact.guided,
                    recorded_by=actor.id,
                )
            )
            db.flush()  # the OA's own constraints are checked here, inside the transaction
    except IntegrityError:
        # The OA refused its own row: the campaign's fact rolled back with it.
        return JSONResponse({"error": "sheet_already_logged", "sheet": body.sheet}, status_code=409)
    return {"unit": unit_id, "stage": fact.stage, "hours": fact.fact.hours, "version": fact.version}


@router.post("/campaigns/{campaign_id}/units/{unit_id}/approve", status_code=201)
def approve(
    request: Request,
    campaign_id: str,
    unit_id: str,
    body: ApprovalIn,
    db: Db,
    actor: Who,
    key: Key = None,
) -> Any:
    """Record the actor's decision on the unit's transition, and notify the unit."""
    with db.begin():
        camp = campaign(request, db, campaign_id)
        try:
            fact = camp.approve(
                unit_id,
                actor=actor,
                decision=body.decision,  # type: ignore[arg-type]  # campaignflow checks it
                comment=body.comment,
                request_id=key,
            )
        except cf.NotAuthorized as exc:
            return _refused(exc)
        db.add(
            Notice(
                campaign_id=campaign_id,
                unit_id=unit_id,
                text=f"{actor.id}: {fact.fact.decision} ({fact.stage})",
            )
        )
    return {
        "unit": unit_id,
        "stage": fact.stage,
        "role": fact.fact.role,
        "decision": fact.fact.decision,
    }


@router.get("/campaigns/{campaign_id}/units/{unit_id}/why")
def why_blocked(
    request: Request, campaign_id: str, unit_id: str, db: Db, locale: str = "zh_CN"
) -> Any:
    """Why the unit cannot move on (or that it can), in ``zh_CN`` or ``en``."""
    decision = campaign(request, db, campaign_id).check(unit_id)
    return {
        "unit": unit_id,
        "stage": decision.source,
        "target": decision.target,
        "allowed": decision.allowed,
        "blocking": [
            {"code": v.code, "params": v.params, "message": v.message(locale)}
            for v in decision.failures()
        ],
        "explain": decision.explain(locale=locale),
    }


# --- the work list (待办) ---------------------------------------------------------------

#: What each kind of work item awaits, in Chinese ({role}: the awaited role's term).
AWAITED = {
    "approval": "待{role}审批转段",
    "assessment": "待{role}组织满意度测评",
    "facts": "本单位尚欠材料或学时",
    "advance": "关口均已满足，可以转段",
}
#: The kinds one may act on from the list, and what acting does.
ACTIONS = {"approval": "approve", "advance": "advance"}


class ActIn(BaseModel):
    """Act on a work item: approve (``approval``) or advance (``advance``) its unit."""

    unit: str
    kind: str
    comment: str = ""


Under = Annotated[str | None, Depends(organisation_of)]


def todo_item(camp: cf.Campaign, item: cf.WorkItem, locale: str) -> dict[str, Any]:
    """One work item as JSON: the unit, what is awaited, since, deadline, the gates."""
    role = messages.term(item.role, locale) if item.role else ""
    return {
        "unit": item.unit_id,
        "unit_name": camp.unit(item.unit_id).name,
        "kind": item.kind,
        "role": item.role,
        "awaited": AWAITED[item.kind].format(role=role) if locale == "zh_CN" else item.kind,
        "stage": item.stage,
        "stage_name": messages.term(item.stage, locale),
        "since": item.since.isoformat() if item.since else None,
        "deadline": item.deadline.isoformat() if item.deadline else None,
        "gates": [
            {"code": v.code, "params": v.params, "message": v.message(locale)}
            for v in item.verdicts
        ],
        "action": ACTIONS.get(item.kind),
    }


@router.get("/campaigns/{campaign_id}/todo")
def todo(
    request: Request,
    campaign_id: str,
    db: Db,
    actor: Who,
    under: Under,
    after: str | None = None,
    limit: int = 20,
    locale: str = "zh_CN",
) -> Any:
    """The asker's work items, a page at a time: pass ``cursor`` as ``after`` while ``more``."""
    with db.begin():  # inbox brings the items up to date in this transaction
        camp = campaign(request, db, campaign_id)
        page = camp.inbox(actor, under=under, limit=limit, after=after)
        items = [todo_item(camp, item, locale) for item in page.items]
    return {"items": items, "cursor": page.cursor, "more": page.more}


def _in_scope(camp: cf.Campaign, actor: cf.Actor, under: str | None, unit_id: str) -> bool:
    """The unit is the asker's own, or under the asker's organisation."""
    if actor.unit == unit_id or under is None:
        return True
    parent = camp.unit(unit_id).parent
    return parent is not None and parent in {o.id for o in camp.organisations(under=under)}


@router.post("/campaigns/{campaign_id}/todo/act", status_code=201)
def act(request: Request, campaign_id: str, body: ActIn, db: Db, actor: Who, under: Under) -> Any:
    """Approve or advance the item's unit as the asker; the library checks the roles."""
    if body.kind not in ACTIONS:
        return JSONResponse({"error": "no_action", "kind": body.kind}, status_code=400)
    with db.begin():
        camp = campaign(request, db, campaign_id)
        if (body.kind == "advance" and actor.unit != body.unit) or not _in_scope(
            camp, actor, under, body.unit
        ):
            return JSONResponse({"error": "out_of_scope", "unit": body.unit}, status_code=403)
        try:
            if body.kind == "approval":
                fact = camp.approve(body.unit, actor=actor, comment=body.comment)
                text = f"{actor.id}: {fact.fact.decision} ({fact.stage})"
                answer = {"unit": body.unit, "stage": fact.stage, "decision": fact.fact.decision}
            else:
                moved = camp.advance(body.unit, actor=actor)
                text = f"{actor.id}: {moved.source} → {moved.dest}"
                answer = {"unit": body.unit, "stage": moved.dest, "from": moved.source}
        except cf.NotAuthorized as exc:
            return _refused(exc)  # leaving the block commits the denial's record
        except cf.TransitionRejected as exc:
            blocking = [v.code for v in exc.decision.failures()]
            return JSONResponse({"error": "rejected", "blocking": blocking}, status_code=409)
        db.add(Notice(campaign_id=campaign_id, unit_id=body.unit, text=text))
    return answer


# What escaped a request's transaction (it rolled back), as JSON.
def _unknown_unit(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "unknown_unit", "detail": str(exc)}, status_code=404)


def _invalid(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "invalid", "detail": str(exc)}, status_code=400)


def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "conflict", "detail": str(exc)}, status_code=409)


def create_app(engine: sa.Engine, *, clock: cf.Clock | None = None) -> FastAPI:
    """The OA's API on ``engine``; the campaign's day comes from ``clock`` (the wall clock if None)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        init_db(engine)
        yield

    app = FastAPI(title="OA example", lifespan=lifespan)
    app.state.engine = engine
    app.state.clock = clock or cf.SystemClock()
    app.include_router(router)
    app.add_exception_handler(cf.UnknownUnit, _unknown_unit)
    app.add_exception_handler(cf.ValidationError, _invalid)
    app.add_exception_handler(cf.ConcurrencyConflict, _conflict)
    return app


_today = os.environ.get("OA_TODAY")
#: The app ``uvicorn oa_api:app`` serves.
app = create_app(
    engine_from_env(), clock=cf.FixedClock(date.fromisoformat(_today)) if _today else None
)
