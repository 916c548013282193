"""``Campaign.verify``: the whole store against its audit trail, in bounded memory.

Two passes in one read transaction (one snapshot): the chain in seq order (hashes, the head
pointer, the purge anchor, the checkpoints), keeping only the adoptions' moves; then the
units a page at a time, each unit's rows against the replay of its own records. Memory
holds a page of units and the units an adoption moved, never the trail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from campaignflow._words.records import FactRecord
from campaignflow.audit import (
    PURGE_COMMAND,
    AuditRecord,
    AuditVerification,
    Checkpoint,
    canonical_json,
)
from campaignflow.audit._store_check import (
    AdoptionMove,
    FactView,
    RowDifference,
    StoreVerification,
    check_unit,
)
from campaignflow.campaign._audit_ops import chain_in
from campaignflow.campaign._checks import checkpoint_list
from campaignflow.campaign._core import Core
from campaignflow.errors import CampaignflowError, ValidationError
from campaignflow.i18n import messages
from campaignflow.store._verify_reads import VerifyPage, VerifyReader
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import workflow_ref

__all__ = ["verify_store"]

#: Units per page of the second pass.
PAGE_UNITS = 500


class _Watch:
    """What the chain pass keeps: each adoption's moves by unit, and the last purge's count."""

    def __init__(self) -> None:
        self.moves: dict[str, list[AdoptionMove]] = defaultdict(list)
        self.adoptions: dict[int, Mapping[str, Any]] = {}
        self.purged_units: int | None = None
        self.last = 0  # the seq of the last record read

    def records(self, source: Iterable[AuditRecord]) -> Iterator[AuditRecord]:
        for record in source:
            self.last = record.seq
            yield record
            # Resumed only once verify_chain has checked this record's hash.
            if record.outcome != "ok":
                continue
            if record.command == "adopt":
                ref = str(record.payload["workflow"])
                self.adoptions[record.seq] = record.payload
                for change in record.payload["changes"]:
                    self.moves[change[0]].append(
                        AdoptionMove(
                            seq=record.seq, ref=ref, from_stage=change[3], to_stage=change[4]
                        )
                    )
            elif record.command == PURGE_COMMAND:
                units = record.payload.get("units")
                self.purged_units = units if isinstance(units, int) else None


def _fact(fact: FactView | FactRecord, core: Core) -> FactView:
    if isinstance(fact, FactView):
        return fact
    data = core.fact_types.dump(fact.fact)
    return FactView(
        unit_id=fact.unit_id,
        stage=fact.stage,
        version=fact.version,
        seq=fact.seq,
        kind=str(data["kind"]),
        data=canonical_json(data),
        on=fact.on.isoformat(),
        at=fact.at.isoformat(),
        actor_id=fact.actor_id,
        request_id=fact.request_id,
    )


def _versions_differ(
    core: Core, watch: _Watch, anchor: int, registry: Any
) -> tuple[dict[str, Workflow], RowDifference | None]:
    """The workflows by ref, and the first adopted version that its adoption does not name."""
    workflows = dict(core.versions)
    seen: set[int] = set()
    for version in core.adopted:
        key = f"version {version.number}"
        try:
            built = Workflow.from_dict(version.definition, registry=registry)
        except CampaignflowError:
            built = None
        if built is None or workflow_ref(built) != version.ref:
            found = "unreadable" if built is None else workflow_ref(built)
            return workflows, RowDifference(
                table="cf_workflows",
                key=key,
                field="definition",
                expected=version.ref,
                found=found,
            )
        workflows.setdefault(version.ref, built)
        if version.number == 1 or version.seq <= anchor:
            continue
        payload = watch.adoptions.get(version.seq)
        if payload is None:
            return workflows, RowDifference(
                table="cf_workflows",
                key=key,
                field="seq",
                expected="an adopt record",
                found=repr(version.seq),
            )
        seen.add(version.seq)
        for field, want in (("ref", payload["workflow"]), ("policy", payload["policy"])):
            if getattr(version, field) != want:
                return workflows, RowDifference(
                    table="cf_workflows",
                    key=key,
                    field=field,
                    expected=repr(want),
                    found=repr(getattr(version, field)),
                )
    for seq in sorted(set(watch.adoptions) - seen):
        return workflows, RowDifference(
            table="cf_workflows", key=f"adopt seq {seq}", field="row", expected="row", found="-"
        )
    return workflows, None


#: What a stored row that no longer reads raises: as much a tampering as a wrong value.
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, CampaignflowError)


def _unreadable(
    where: str,
    exc: BaseException,
    seq: int | None,
    checked: int,
    chain: AuditVerification | None = None,
) -> StoreVerification:
    params = {"where": where, "exc": f"{type(exc).__name__}: {exc}"}
    if chain is None:
        text = messages.render("store_check.unreadable", params, "en")
        chain = AuditVerification(
            ok=False,
            checked=checked,
            broken_at=seq,
            reason=text,
            reason_code="store_check.unreadable",
            reason_params=params,
        )
    return StoreVerification(ok=False, chain=chain, code="store_check.unreadable", params=params)


def verify_store(core: Core, checkpoints: Sequence[Checkpoint]) -> StoreVerification:
    """``Campaign.verify``: the chain, its head and anchor, then every unit's rows."""
    points = checkpoint_list(checkpoints)
    watch = _Watch()
    with core.store.transaction(write=False) as tx:
        anchor = tx.audit_anchor()
        try:
            chain = chain_in(tx, points, anchor, watch.records)
        except _UNREADABLE as exc:
            at = watch.last + 1
            return _unreadable(f"cf_audit seq {at}", exc, at, watch.last)
        if not chain.ok:
            return StoreVerification(
                ok=False, chain=chain, code=chain.reason_code, params=chain.reason_params
            )
        if not isinstance(tx, VerifyReader):
            raise ValidationError(code="store_check.unsupported")
        try:
            core.sync_versions(tx)
        except CampaignflowError as exc:  # a stored definition that no longer loads
            unloadable = RowDifference(
                table="cf_workflows",
                key="stored versions",
                field="definition",
                expected="a workflow that loads",
                found=f"{type(exc).__name__}: {exc}",
            )
            return _verdict(chain, unloadable, (0, 0, 0, 0))
        registry = getattr(core.workflow, "_registry", None)
        anchor_seq = anchor.seq if anchor else 0
        workflows, difference = _versions_differ(core, watch, anchor_seq, registry)
        totals = [0, 0, 0, 0]  # units, states, facts, unchecked
        after: str | None = None
        while difference is None:
            try:
                page = tx.verify_page(after, PAGE_UNITS)
                difference = _check_page(core, page, watch, workflows, anchor is not None, totals)
            except _UNREADABLE as exc:
                where = "the first units" if after is None else f"the units after {after!r}"
                return _unreadable(where, exc, None, chain.checked, chain)
            if page.high is None:
                break
            after = page.high
    purged, unchecked = watch.purged_units, totals[3]
    if difference is None and anchor is not None and purged not in (None, unchecked):
        difference = RowDifference(
            table="cf_units",
            key="added before the purge",
            field="count",
            expected=repr(purged),
            found=repr(unchecked),
        )
    return _verdict(chain, difference, totals)


def _verdict(
    chain: AuditVerification, difference: RowDifference | None, totals: Sequence[int]
) -> StoreVerification:
    """The verification of rows counted in ``totals`` (units, states, facts, unchecked) with
    a sound ``chain``: ok without a ``difference``, else failing with its code."""
    units, states, facts, unchecked = totals
    return StoreVerification(
        ok=difference is None,
        chain=chain,
        units=units,
        states=states,
        facts=facts,
        unchecked=unchecked,
        difference=difference,
        code="" if difference is None else difference.code,
        params={} if difference is None else difference.params,
    )


def _check_page(
    core: Core,
    page: VerifyPage,
    watch: _Watch,
    workflows: dict[str, Workflow],
    purged: bool,
    totals: list[int],
) -> RowDifference | None:
    units = {unit.id: unit for unit in page.units}
    states = {state.unit_id: state for state in page.states}
    records: dict[str, list[AuditRecord]] = defaultdict(list)
    for record in page.records:
        records[str(record.unit_id)].append(record)
    facts: dict[str, list[FactView]] = defaultdict(list)
    for fact in page.facts:
        facts[fact.unit_id].append(_fact(fact, core))
    for unit_id in sorted(units.keys() | states.keys() | records.keys() | facts.keys()):
        found = check_unit(
            unit_id,
            records=records.get(unit_id, ()),
            moves=watch.moves.get(unit_id, ()),
            workflows=workflows,
            first=core.first_ref,
            purged=purged,
            unit=units.get(unit_id),
            state=states.get(unit_id),
            facts=facts.get(unit_id, []),
        )
        if found.difference is not None:
            return found.difference
        if found.unchecked:
            totals[3] += 1
        else:
            totals[0] += unit_id in units
            totals[1] += found.states
            totals[2] += found.facts
    return None
