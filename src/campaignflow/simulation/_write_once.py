"""Writing a simulated campaign once: from the memory store it ran on into a fresh database.

Exact mode runs on a :class:`~campaignflow.store.memory.MemoryStore` when the database it was
asked to fill is its own new file (the CLI's ``campaign.db``), then copies the campaign into
that file in one write transaction through the store protocol: organisations, workflow
versions, units with their last state, facts, the audit chain row by row (each row keeps its
seq, hash and predecessor, so the chain verifies as it did in memory), work items, and the
latest refusals and assessments (an assessment: the unit's last recorded survey, as
``Campaign.backfill_overview`` reads it from the trail).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaignflow.store._protocol import Store, StoreSession
from campaignflow.store.memory import MemoryStore

__all__ = ["copy_campaign"]


def copy_campaign(source: MemoryStore, target: Store, stages: tuple[str, ...]) -> None:
    """Write everything ``source`` keeps into the empty campaign of ``target``, in one go.

    ``stages``: every stage id a fact may belong to (the workflow versions' stages).
    """
    with source.transaction(write=False) as read, target.transaction() as write:
        _copy(read, write, stages)


def _copy(read: StoreSession, write: StoreSession, stages: tuple[str, ...]) -> None:
    for org in read.iter_organisations():
        write.insert_organisation(org)
    for version in read.workflow_versions():
        write.add_workflow_version(version)
    units = list(read.iter_units())
    for unit, state in units:
        write.insert_unit(unit, state)
    for unit, _ in units:
        for stage in stages:
            for fact in read.get_facts(unit.id, stage):
                write.insert_fact(fact)
    # Units read in the session have their audit rows (without request ids) sent in batches.
    write.prefetch([unit.id for unit, _ in units])
    assessments: dict[str, tuple[int, tuple[int, int | None, int, int]]] = {}
    for record in read.iter_audit():
        write.append_audit(record)
        if record.command == "record" and record.outcome == "ok" and record.unit_id:
            data = record.payload.get("fact")
            if isinstance(data, Mapping) and data.get("kind") == "survey":
                assessments[record.unit_id] = (record.seq, _counts(data))
    for unit, _ in units:
        items = read.get_work_items(unit.id)
        if items:
            write.set_work_items(unit.id, items)
        refusal = read.get_refusal(unit.id)
        if refusal is not None:
            write.set_refusal(refusal)
    for unit_id, (seq, counts) in assessments.items():
        write.set_assessment(unit_id, seq, counts)
    seq, on = read.work_items_through()
    if on is not None:
        write.mark_work_items(seq, on)


def _counts(survey: Mapping[str, Any]) -> tuple[int, int | None, int, int]:
    """A recorded survey's counts, as ``Campaign.record`` keeps the unit's assessment."""
    fairly = survey.get("fairly_satisfied")
    return (
        int(survey["satisfied"]),
        None if fairly is None else int(fairly),
        int(survey["basically_satisfied"]),
        int(survey["dissatisfied"]),
    )
