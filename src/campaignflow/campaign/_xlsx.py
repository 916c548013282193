"""``Campaign.export_xlsx``: the spreadsheet an office sends upward, as sheets of plain values.

The sheets: *About* (campaign, workflow, date, scope), *By batch* (window dates and units
per stage, finished, on time, in make-up), *By organisation* (every node of the roll-up under
each top organisation: the figures of ``progress(under=...)``), *By level* (their sums per
depth and level of the tree), *Organisation by batch* (each node's units per batch and
stage), *Stuck units* (``stuck()``: the gates and why, in the locale) and *Timeline* (units
per stage of each batch on each day its counts changed, read from the audit trail). Headers are the catalogue's ``report.xlsx.*`` words; numbers stay
numbers and dates stay dates. :mod:`._workbook` writes them with openpyxl (extra ``xlsx``).
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO

import campaignflow.campaign._audit_ops as _audit_ops
import campaignflow.campaign._overview as _overview
from campaignflow._words.overview import OrgProgress
from campaignflow.campaign._checks import check_org_id
from campaignflow.campaign._core import Core
from campaignflow.campaign._workbook import Cell, Format, Sheet, load_openpyxl, write_workbook
from campaignflow.errors import ValidationError, check_locale
from campaignflow.i18n import messages

__all__ = ["export_xlsx", "sheets", "timeline"]


def _ints(count: int) -> tuple[Format, ...]:
    whole: Format = "int"
    return (whole,) * count


def _word(key: str, locale: str, **values: object) -> str:
    return messages.render(f"report.xlsx.{key}", values, locale)


def _target(value: object) -> Path | IO[bytes]:
    """``value`` as a file path or a writable binary stream, else ``xlsx.target``."""
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        path = Path(value)
        if str(value) and not path.is_dir():
            return path
    elif callable(getattr(value, "write", None)) and not isinstance(value, io.TextIOBase):
        return value  # type: ignore[return-value]
    raise ValidationError(code="xlsx.target", params={"value": repr(value)})


def export_xlsx(core: Core, target: object, *, locale: str, under: str | None) -> None:
    """``Campaign.export_xlsx``: check the arguments, gather the sheets, write the workbook."""
    check_locale(locale)
    if under is not None:
        check_org_id("under", under)
    where = _target(target)
    load_openpyxl()  # before any work: a missing extra is named at once
    write_workbook(sheets(core, locale=locale, under=under), where, campaign_id=core.campaign_id)


def sheets(core: Core, *, locale: str, under: str | None) -> list[Sheet]:
    """The workbook's sheets for the units ``under`` an organisation (all units when None)."""
    roots = _roots(core, under)
    nodes = [node for root in roots for node in root.walk()]
    scope = None if under is None else _scope(core, under)
    stages = _stage_ids(core)
    return [
        _about(core, locale, under),
        _batches(core, locale, scope, stages),
        _orgs(nodes, locale),
        _levels(nodes, locale),
        _org_batches(nodes, locale, stages, core),
        _stuck(core, locale, under),
        _timeline(core, locale, scope, stages),
    ]


# --- scope ---------------------------------------------------------------------------------


def _roots(core: Core, under: str | None) -> list[OrgProgress]:
    """The roll-up under ``under``, or under each top organisation (parent not registered)."""
    if under is not None:
        return [_overview.rollup(core, under, batch=None, depth=None, top=3)]
    orgs = _overview.organisations(core, under=None)
    known = {o.id for o in orgs}
    tops = [o.id for o in orgs if o.parent is None or o.parent not in known]
    return [_overview.rollup(core, top, batch=None, depth=None, top=3) for top in tops]


def _scope(core: Core, under: str) -> frozenset[str]:
    """The ids of the units under ``under`` (attached to it or to an organisation below)."""
    orgs = {under} | {o.id for o in _overview.organisations(core, under=under)}
    with core.store.transaction(write=False) as tx:
        return frozenset(u.id for u, _ in tx.iter_units() if u.parent in orgs)


def _stage_ids(core: Core) -> list[str]:
    """Stage ids of the current workflow in order, then those only older versions have."""
    ids = [s.id for s in core.workflow.stages]
    for workflow in core.versions.values():
        ids += [s.id for s in workflow.stages if s.id not in ids]
    return ids


def _stage_label(core: Core, stage: str, locale: str) -> str:
    for workflow in (core.workflow, *core.versions.values()):
        if workflow.has_stage(stage):
            return workflow.stage(stage).label(locale)
    return messages.term(stage, locale)


def _stage_headers(core: Core, stages: Iterable[str], locale: str) -> tuple[str, ...]:
    return tuple(_word("stage_units", locale, stage=_stage_label(core, s, locale)) for s in stages)


def _final_stages(core: Core) -> frozenset[str]:
    return frozenset(s.id for w in core.versions.values() for s in w.stages if s.kind == "final")


# --- the sheets ----------------------------------------------------------------------------


def _about(core: Core, locale: str, under: str | None) -> Sheet:
    workflow = core.workflow
    rows: tuple[tuple[Cell, ...], ...] = (
        (_word("campaign", locale), core.campaign_id),
        (_word("workflow", locale), f"{workflow.name}@{workflow.version}"),
        (_word("exported_on", locale), core.now().date()),
        (_word("scope", locale), under if under is not None else _word("scope_all", locale)),
    )
    return Sheet(
        title=_word("sheet.about", locale),
        headers=(_word("item", locale), _word("value", locale)),
        formats=("text", "text"),
        rows=rows,
    )


def _batches(core: Core, locale: str, scope: frozenset[str] | None, stages: list[str]) -> Sheet:
    windows = {w.number: w for w in core.workflow.batches}
    finals = _final_stages(core)
    counts: dict[int, Counter[str]] = {}
    with core.store.transaction(write=False) as tx:
        for unit, state in tx.iter_units():
            if scope is not None and unit.id not in scope:
                continue
            tally = counts.setdefault(state.batch, Counter())
            tally[state.stage] += 1
            tally["\0units"] += 1
            if state.stage in finals:
                tally["\0finished"] += 1
                window = windows.get(state.batch)
                closes = window.closes if window is not None else None
                on_time = closes is not None and (state.entered_on or date.min) <= closes
                tally["\0on_time"] += on_time
            else:
                tally["\0remedial"] += state.remedial
    rows = []
    for number in sorted(set(windows) | set(counts)):
        tally = counts.get(number, Counter())
        window = windows.get(number)
        rows.append(
            (
                number,
                window.title if window is not None and window.title else None,
                window.opens if window is not None else None,
                window.closes if window is not None else None,
                tally["\0units"],
                tally["\0finished"],
                tally["\0on_time"],
                tally["\0remedial"],
                *(tally[s] for s in stages),
            )
        )
    keys = ("batch", "batch_title", "opens", "closes", "units", "finished", "on_time")
    return Sheet(
        title=_word("sheet.batches", locale),
        headers=(
            *(_word(k, locale) for k in keys),
            _word("remedial_now", locale),
            *_stage_headers(core, stages, locale),
        ),
        formats=("int", "text", "date", "date", "int", "int", "int", "int", *_ints(len(stages))),
        rows=tuple(rows),
    )


def _parents(nodes: list[OrgProgress]) -> dict[str, str]:
    return {child.id: node.id for node in nodes for child in node.children}


def _orgs(nodes: list[OrgProgress], locale: str) -> Sheet:
    parents = _parents(nodes)
    sep = "、" if locale == "zh_CN" else ", "
    keys: tuple[str, ...] = ("level", "org_id", "org_name", "parent", "depth", "units", "own")
    keys += ("finished", "on_time", "on_time_share", "remedial_units", "remedial_rounds", "stuck")
    rows = tuple(
        (
            n.level,
            n.id,
            n.name,
            parents.get(n.id),
            n.depth,
            n.total,
            n.own,
            n.finished,
            n.on_time,
            n.on_time_share,
            n.remedial,
            n.remedial_rounds,
            n.stuck,
            n.satisfaction.satisfied_rate,
            sep.join(_gate(code, locale) for code, _ in n.blocking),
        )
        for n in nodes
    )
    return Sheet(
        title=_word("sheet.orgs", locale),
        headers=(
            *(_word(k, locale) for k in keys),
            _word("satisfied_rate", locale),
            _word("top_gates", locale),
        ),
        formats=("text",) * 4 + ("int",) * 5 + ("share", "int", "int", "int", "share", "text"),
        rows=rows,
    )


def _levels(nodes: list[OrgProgress], locale: str) -> Sheet:
    """One row per depth and level of the tree: the sums over its organisations.

    Organisations at one depth hold disjoint sets of units, so their figures add up.
    """
    groups: dict[tuple[int, str], list[OrgProgress]] = {}
    for node in sorted(nodes, key=lambda n: n.depth):
        groups.setdefault((node.depth, node.level), []).append(node)
    rows: list[tuple[Cell, ...]] = []
    for (depth, level), members in groups.items():
        finished = sum(n.finished for n in members)
        on_time = sum(n.on_time for n in members)
        rows.append(
            (
                depth,
                level,
                len(members),
                sum(n.total for n in members),
                finished,
                on_time,
                on_time / finished if finished else None,
                sum(n.remedial for n in members),
                sum(n.stuck for n in members),
            )
        )
    keys = ("depth", "level", "organisations", "units", "finished", "on_time", "on_time_share")
    return Sheet(
        title=_word("sheet.levels", locale),
        headers=(
            *(_word(k, locale) for k in keys),
            *(_word(k, locale) for k in ("remedial_units", "stuck")),
        ),
        formats=("int", "text", *_ints(4), "share", *_ints(2)),
        rows=tuple(rows),
    )


def _org_batches(nodes: list[OrgProgress], locale: str, stages: list[str], core: Core) -> Sheet:
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (n.id, n.name, n.level, batch, sum(counts.values()), *(counts.get(s, 0) for s in stages))
        for n in nodes
        for batch, counts in n.by_batch.items()
    )
    keys = ("org_id", "org_name", "level", "batch", "units")
    return Sheet(
        title=_word("sheet.org_batches", locale),
        headers=(*(_word(k, locale) for k in keys), *_stage_headers(core, stages, locale)),
        formats=("text", "text", "text", "int", "int", *_ints(len(stages))),
        rows=rows,
    )


def _gate(code: str, locale: str) -> str:
    key = f"report.gate.{code}"
    return messages.render(key, {}, locale) if key in messages else code


def _stuck(core: Core, locale: str, under: str | None) -> Sheet:
    page = _overview.stuck(
        core,
        under=under,
        longer_than=None,
        batch=None,
        order_by="days_in_stage",
        offset=0,
        limit=None,
    )
    sep = "；" if locale == "zh_CN" else "; "
    rows = tuple(
        (
            e.unit.id,
            e.unit.name,
            e.unit.parent,
            e.state.batch,
            _stage_label(core, e.state.stage, locale),
            e.days_in_stage,
            e.refusal.on,
            ", ".join(e.codes),
            sep.join(v.message(locale) for v in e.refusal.failures),
        )
        for e in page.units
    )
    keys = ("unit_id", "unit_name", "parent", "batch", "stage", "days_in_stage", "refused_on")
    return Sheet(
        title=_word("sheet.stuck", locale),
        headers=(
            *(_word(k, locale) for k in keys),
            _word("gate_codes", locale),
            _word("reasons", locale),
        ),
        formats=("text", "text", "text", "int", "text", "int", "date", "text", "text"),
        rows=rows,
    )


def _timeline(core: Core, locale: str, scope: frozenset[str] | None, stages: list[str]) -> Sheet:
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (day, batch, *(counts.get(s, 0) for s in stages))
        for day, batch, counts in timeline(core, scope)
    )
    return Sheet(
        title=_word("sheet.timeline", locale),
        headers=(
            _word("date", locale),
            _word("batch", locale),
            *_stage_headers(core, stages, locale),
        ),
        formats=("date", "int", *_ints(len(stages))),
        rows=rows,
    )


def timeline(
    core: Core, scope: frozenset[str] | None = None
) -> Iterator[tuple[date, int, dict[str, int]]]:
    """Units per stage of each batch, on each day its counts changed (from the audit trail).

    The same points as ``summarise(campaign).timeline`` (a unit enters at its ``add_unit``
    record, moves with each applied transition, and changes batch when deferred), for the
    units in ``scope`` (all when None).
    """
    stage_of: dict[str, tuple[str, int]] = {}
    counts: dict[int, Counter[str]] = {}
    shown: dict[int, dict[str, int]] = {}
    dirty: set[int] = set()
    current: date | None = None

    def flush(day: date) -> Iterator[tuple[date, int, dict[str, int]]]:
        for batch in sorted(dirty):
            now = {s: n for s, n in counts[batch].items() if n}
            if shown.get(batch) != now:
                shown[batch] = now
                yield day, batch, now
        dirty.clear()

    for record in _audit_ops.audit_trail(core, None):
        if current is not None and record.on != current:
            yield from flush(current)
        current = record.on
        uid = record.unit_id
        if uid is None or record.outcome != "ok" or (scope is not None and uid not in scope):
            continue
        if record.command == "add_unit":
            batch = int(record.payload.get("unit", {}).get("batch", 1))
            stage = record.dest or core.workflow.initial
        elif record.dest is not None and uid in stage_of:
            old_stage, batch = stage_of[uid]
            counts[batch][old_stage] -= 1
            dirty.add(batch)
            if record.command == "defer":
                payload = record.payload
                batch = int(payload.get("to_batch") or payload.get("batch") or batch)
            stage = record.dest
        else:
            continue
        stage_of[uid] = (stage, batch)
        counts.setdefault(batch, Counter())[stage] += 1
        dirty.add(batch)
    if current is not None:
        yield from flush(current)
