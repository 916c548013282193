"""The campaign's overview: progress, roll-ups over the organisation tree, stuck lists.

Roll-ups and stuck lists read what commands keep as they run (the latest refusal and
assessment of each unit, counted by the store in a few indexed queries); nothing is
replayed. :func:`build_counted` builds a node's roll-up from the store's counters, which count every
unit at each of its ancestors, so every node's figures are exactly those of the units under it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import attrs

from campaignflow._words.checks import one_of, refuse, rule_problem, whole_number
from campaignflow._words.overview import (
    STUCK_ORDERS,
    GroupCounts,
    OrgProgress,
    Satisfaction,
    StuckOrder,
    StuckPage,
    StuckQuery,
    StuckUnit,
)
from campaignflow._words.records import Actor, Organisation
from campaignflow._words.verdicts import Refusal
from campaignflow.audit import decision_from_data
from campaignflow.campaign._checks import (
    check_actor,
    check_batch,
    check_limit,
    check_org_id,
    check_request_id,
    item_list,
    parents_first,
)
from campaignflow.campaign._core import Core
from campaignflow.campaign._records import append, same_requester
from campaignflow.errors import Problem, ValidationError

__all__ = [
    "Progress",
    "add_organisations",
    "backfill_overview",
    "build_counted",
    "organisations",
    "progress",
    "rollup",
    "stuck",
]


@attrs.frozen
class Progress:
    """Units per batch and stage, and what holds the ones that cannot move.

    ``by_batch[batch][stage]`` counts units; ``blocking`` lists failing verdict codes with
    how many units each holds, most first.
    """

    by_batch: Mapping[int, Mapping[str, int]]
    total: int
    finished: int
    remedial: int
    blocking: tuple[tuple[str, int], ...]

    def by_stage(self) -> dict[str, int]:
        """Units per stage over every batch."""
        counts: Counter[str] = Counter()
        for stages in self.by_batch.values():
            counts.update(stages)
        return dict(counts)


def progress(
    core: Core,
    *,
    batch: int | None,
    top: int,
    under: str | None,
    depth: int | None,
    host: Any = None,
) -> Progress | OrgProgress:
    """``Campaign.progress``: counts per batch and stage, and what holds units back.

    Read from the store's counters (kept by every write), so it costs O(stages) whatever the
    number of units. Blocking reasons are the failing codes of each unit's latest refusal
    while it is current (the unit has not moved since); nothing is judged again, so ``host``
    is no longer read (kept for callers that pass it).
    """
    check_batch(batch)
    whole_number("top", top, minimum=0)
    if under is not None:
        return rollup(core, under, batch=batch, depth=depth, top=top)
    if depth is not None:
        raise ValidationError(code="campaign.depth_needs_under")
    del host
    with core.store.transaction(write=False) as tx:
        core.sync_versions(tx)
        groups = tx.counted_groups(None, batch=batch)
        blocking = tx.counted_blocking(None, batch=batch)
    is_final = _finals(core).__contains__
    by_batch: dict[int, Counter[str]] = {}
    total = finished = remedial = 0
    for group in groups:
        by_batch.setdefault(group.batch, Counter())[group.stage] += group.units
        total += group.units
        if is_final(group.stage):
            finished += group.units
        else:
            remedial += group.remedial
    return Progress(
        by_batch={b: dict(sorted(c.items())) for b, c in sorted(by_batch.items())},
        total=total,
        finished=finished,
        remedial=remedial,
        blocking=_top(Counter({code: n for _, code, n in blocking}), top),
    )


def _finals(core: Core) -> set[str]:
    """The final stages of every workflow version the campaign knows."""
    return {s.id for w in core.versions.values() for s in w.stages if s.kind == "final"}


def add_organisations(
    core: Core, organisations: Iterable[Organisation], *, actor: Actor, request_id: str | None
) -> int:
    """``Campaign.add_organisations``: register organisations of the tree, all or none."""
    check_actor(actor)
    check_request_id(request_id)
    listed = item_list(organisations, Organisation, "organisations")
    problems: list[str] = []
    seen: dict[str, Organisation] = {}
    for i, org in enumerate(listed):
        if not isinstance(org, Organisation):
            problems.append(
                rule_problem(f"organisations[{i}]", org, "must be a campaignflow.Organisation")
            )
        elif org.id in seen:
            problems.append(
                Problem(f"organisations[{i}]", "campaign.org_twice", {"org": repr(org.id)})
            )
        else:
            seen[org.id] = org
    if problems:
        raise ValidationError(code="validation.problems", problems=problems)
    payload = {"organisations": [attrs.asdict(o) for o in listed]}
    now = core.now()
    with core.store.transaction() as tx:
        if request_id is not None:
            first = tx.find_request(request_id)
            if first is not None:
                if first.command != "add_organisations" or first.payload != payload:
                    raise ValidationError(
                        code="campaign.request_id_reused",
                        params={"request_id": repr(request_id), "command": first.command},
                    )
                same_requester(first, actor)
                return len(listed)
        for i, org in enumerate(listed):
            if tx.get_organisation(org.id) is not None:
                problems.append(
                    Problem(f"organisations[{i}]", "campaign.org_exists", {"org": repr(org.id)})
                )
            elif (
                org.parent is not None
                and org.parent not in seen
                and tx.get_organisation(org.parent) is None
            ):
                problems.append(
                    Problem(
                        f"organisations[{i}]",
                        "campaign.org_parent_unknown",
                        {"org": repr(org.id), "parent": repr(org.parent)},
                    )
                )
        ordered = parents_first(listed, problems)
        if problems:
            raise ValidationError(code="validation.problems", problems=problems)
        for org in ordered:
            tx.insert_organisation(org)
        append(
            core, tx, now, "add_organisations", actor, "ok", request_id=request_id, payload=payload
        )
    return len(listed)


def organisations(core: Core, *, under: str | None) -> list[Organisation]:
    """``Campaign.organisations``: the registered organisations, parents first."""
    if under is not None:
        check_org_id("under", under)
    with core.store.transaction(write=False) as tx:
        return list(tx.iter_organisations(under))


def stuck(
    core: Core,
    *,
    under: str | None,
    longer_than: int | None,
    batch: int | None,
    order_by: StuckOrder,
    offset: int,
    limit: int | None,
) -> StuckPage:
    """``Campaign.stuck``: units held in their stage, one page of them."""
    if under is not None:
        check_org_id("under", under)
    if longer_than is not None:
        whole_number("longer_than", longer_than, minimum=0)
    check_batch(batch)
    one_of("order_by", order_by, STUCK_ORDERS)
    whole_number("offset", offset, minimum=0)
    if limit is not None:
        check_limit(limit)
    today = core.now().date()
    # Past the calendar's start nothing can have waited longer: clamp instead of overflowing.
    before = (
        None
        if longer_than is None
        else today - timedelta(days=min(longer_than, (today - date.min).days))
    )
    with core.store.transaction(write=False) as tx:
        total, rows = tx.stuck_units(
            StuckQuery(
                under=under,
                batch=batch,
                stage_before=before,
                order_by=order_by,
                offset=offset,
                limit=limit,
            )
        )
    units = tuple(
        StuckUnit(
            unit=unit,
            state=state,
            refusal=refusal,
            days_in_stage=(today - (state.stage_since or today)).days,
        )
        for unit, state, refusal in rows
    )
    return StuckPage(total=total, offset=offset, units=units)


def rollup(
    core: Core, under: str, *, batch: int | None, depth: int | None, top: int
) -> OrgProgress:
    """``Campaign.progress(under=...)``: the roll-up of the tree under ``under``.

    Each listed organisation's figures are its own counter rows (every unit counts at each
    of its organisation's ancestors), so a node costs O(stages) whatever is under it; only
    the organisations listed (to ``depth`` levels, and their children for ``own``) are read.
    """
    check_org_id("under", under)
    if depth is not None:
        whole_number("depth", depth, minimum=0)
    closes = {b.number: b.closes for b in core.workflow.batches}
    with core.store.transaction(write=False) as tx:
        stale = tx.batch_closes() != closes
    # On-time counts are kept against the batch windows: set once (and after a change), in
    # the transaction that reads them, so a refused ``under`` leaves nothing written.
    with core.store.transaction(write=stale) as tx:
        if stale and tx.batch_closes() != closes:
            tx.set_batch_closes(closes)
        core.sync_versions(tx)
        root = tx.get_organisation(under)
        orgs = tx.organisations_within(under, depth)
        keys = [o.id for o in orgs] if root is not None else [under]
        groups = tx.counted_groups(keys, batch=batch)
        blocking = tx.counted_blocking(keys, batch=batch)
        if root is None and not groups:
            refuse("under", under, "must be a registered organisation or the parent of a unit")
    if root is None:
        root = Organisation(id=under, name=under, level="unregistered")
    return build_counted(
        root, orgs, groups, blocking, is_final=_finals(core).__contains__, depth=depth, top=top
    )


def build_counted(
    root: Organisation,
    organisations: Iterable[Organisation],
    groups: Iterable[GroupCounts],
    blocking: Iterable[tuple[str | None, str, int]],
    *,
    is_final: Callable[[str], bool],
    depth: int | None = None,
    top: int = 10,
) -> OrgProgress:
    """The roll-up under ``root`` from counter rows: ``groups`` and ``blocking`` count, per
    organisation, every unit under it (not only its own), as the stores' counters do.

    ``organisations``: ``root`` and those below it to ``depth`` levels.
    """
    children: dict[str, list[Organisation]] = {}
    known: dict[str, Organisation] = {root.id: root}
    for org in organisations:
        known[org.id] = org
    for org in sorted(known.values(), key=lambda o: o.id):
        if org.id != root.id and org.parent is not None and org.parent in known:
            children.setdefault(org.parent, []).append(org)
    under: dict[str, _Acc] = {}
    own: Counter[str] = Counter()
    for group in groups:
        key = group.parent or ""
        acc = under.get(key)
        if acc is None:
            acc = under[key] = _Acc()
        acc.count(group, is_final)
        own[key] += group.own
    for org_id, code, count in blocking:
        key = org_id or ""
        if key not in under:
            under[key] = _Acc()
        under[key].blocking[code] += count
    empty = _Acc()

    def node(org: Organisation, level: int) -> OrgProgress:
        acc = under.get(org.id, empty)
        listed = () if depth is not None and level >= depth else children.get(org.id, ())
        return OrgProgress(
            id=org.id,
            name=org.name,
            level=org.level,
            depth=level,
            by_batch={b: dict(sorted(c.items())) for b, c in sorted(acc.by_batch.items())},
            own=own[org.id],
            **{name: acc.counts[name] for name in _SUMMED},
            blocking=_top(acc.blocking, top),
            satisfaction=Satisfaction(**{name: acc.counts[name] for name in _SATISFACTION}),
            children=tuple(node(child, level + 1) for child in listed),
        )

    return node(root, 0)


def backfill_overview(core: Core) -> tuple[int, int]:
    """``Campaign.backfill_overview``: latest refusals and assessments from the trail."""
    refusals: dict[str, Refusal] = {}
    surveys: dict[str, tuple[int, tuple[int, int | None, int, int]]] = {}
    with core.store.transaction() as tx:
        for record in tx.iter_audit():
            if record.unit_id is None:
                continue
            if record.outcome == "denied" and record.decision is not None:
                decision = decision_from_data(record.unit_id, record.decision)
                refusals[record.unit_id] = Refusal(
                    unit_id=record.unit_id,
                    stage=decision.source,
                    version=record.version or 0,
                    trigger=decision.trigger,
                    target=decision.target,
                    on=record.on,
                    seq=record.seq,
                    failures=tuple(attrs.evolve(f, children=()) for f in decision.failures()),
                )
            fact = record.payload.get("fact") if record.outcome == "ok" else None
            survey = isinstance(fact, Mapping) and fact.get("kind") == "survey"
            if record.command == "record" and survey:
                assert isinstance(fact, Mapping)
                surveys[record.unit_id] = (
                    record.seq,
                    (
                        int(fact["satisfied"]),
                        fact.get("fairly_satisfied"),
                        int(fact["basically_satisfied"]),
                        int(fact["dissatisfied"]),
                    ),
                )
        for refusal in refusals.values():
            tx.set_refusal(refusal)
        for unit_id, (seq, counts) in surveys.items():
            tx.set_assessment(unit_id, seq, counts)
    return len(refusals), len(surveys)


# --- rolling counts up the tree ------------------------------------------------------------

#: Satisfaction's fields, in order: a roll-up sums them with the other counts.
_SATISFACTION = tuple(f.name for f in attrs.fields(Satisfaction))

#: The counts of an :class:`OrgProgress` that sum its own units' and its children's.
_SUMMED = ("total", "finished", "on_time", "remedial", "remedial_rounds", "stuck")


#: The GroupCounts figures an accumulator adds as they are.
_ADDED = ("remedial", "remedial_rounds", "stuck", *_SATISFACTION)


@attrs.define
class _Acc:
    """A node's running counts: :data:`_SUMMED` and :data:`_SATISFACTION` by name."""

    by_batch: dict[int, Counter[str]] = attrs.field(factory=dict)
    own: int = 0
    counts: Counter[str] = attrs.field(factory=Counter)
    blocking: Counter[str] = attrs.field(factory=Counter)

    def count(self, group: GroupCounts, is_final: Callable[[str], bool]) -> None:
        stages = self.by_batch.get(group.batch)
        if stages is None:
            stages = self.by_batch[group.batch] = Counter()
        stages[group.stage] += group.units
        self.own += group.units
        counts = self.counts
        counts["total"] += group.units
        if is_final(group.stage):
            counts["finished"] += group.units
            counts["on_time"] += group.on_time
        for name in _ADDED:
            counts[name] += getattr(group, name)


def _top(counts: Counter[str], top: int) -> tuple[tuple[str, int], ...]:
    """The ``top`` codes by count, most first (ties by code)."""
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top])
