"""Workflow versions: which rules judge each unit, adopting a new version, replaying across them.

Pure functions and records, no I/O. A unit's state names the version that judges it
(``UnitState.workflow``: ``name@version#hash``). ``Campaign.adopt`` plans an adoption here
(:func:`plan_adoption`), checks it whole, and applies it as one audited command; the audit's
replay rebuilds every state from the trail across versions with :func:`migrated_state`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

import attrs

from campaignflow._words.records import Unit, UnitState
from campaignflow.errors import Problem
from campaignflow.workflow._definition import Workflow

__all__ = [
    "POLICIES",
    "Adoption",
    "Policy",
    "UnitChange",
    "adoption_of",
    "migrated_state",
    "payload_of",
    "plan_adoption",
]

#: How units in flight meet a new version: ``pin`` (they finish on theirs; units not yet
#: started and new units take the new one), ``migrate`` (every unit moves, through an explicit
#: stage mapping), ``from_batch`` (as ``pin``, for batches from ``from_batch`` on).
Policy = Literal["pin", "migrate", "from_batch"]
POLICIES: tuple[Policy, ...] = get_args(Policy)

_REASONS = {
    "not_started": (
        "尚未开始，改用新版本",
        "has not started: takes the new version",
    ),
    "migrated": ("迁移到新版本，阶段不变", "migrated to the new version in the same stage"),
    "stage_mapped": ("迁移到新版本，阶段按映射调整", "migrated to the new version; stage mapped"),
}


@attrs.frozen
class UnitChange:
    """One unit an adoption moves: from which version and stage, to which, and why.

    ``reason`` is a stable code: ``not_started`` (pin / from_batch: a unit that has not
    started takes the new version), ``migrated`` (same stage id in the new version),
    ``stage_mapped`` (moved through ``stage_map``).
    """

    unit_id: str
    batch: int
    from_workflow: str
    to_workflow: str
    from_stage: str
    to_stage: str
    reason: str

    def explain(self, locale: str = "zh_CN") -> str:
        """One line: the unit, its move, and the reason, in ``locale`` (``zh_CN`` or ``en``)."""
        zh = locale == "zh_CN"
        why = _REASONS[self.reason][0 if zh else 1]
        move = (
            f"{self.from_stage} → {self.to_stage}"
            if self.from_stage != self.to_stage
            else self.to_stage
        )
        return f"{self.unit_id}: {self.from_workflow} → {self.to_workflow} ({move}): {why}"


@attrs.frozen
class Adoption:
    """What ``Campaign.adopt`` did, or would do in a dry run.

    ``changes`` lists every unit that moves to ``workflow`` (the new version's ref) and why;
    ``kept`` counts units that stay on their version; ``seq`` is the adoption's audit record
    (None in a dry run, where nothing was written).
    """

    workflow: str
    previous: str
    policy: Policy
    from_batch: int
    stage_map: Mapping[str, str]
    dry_run: bool
    changes: tuple[UnitChange, ...]
    kept: int
    seq: int | None = None

    def explain(self, locale: str = "zh_CN") -> str:
        """Every change, one line each, under a head line naming the versions and policy."""
        zh = locale == "zh_CN"
        verb = ("将" if self.dry_run else "已") if zh else ("would" if self.dry_run else "did")
        head = (
            f"{verb}采用流程版本 {self.workflow}（原 {self.previous}，策略 {self.policy}）："
            f"{len(self.changes)} 个单位改用新版本，{self.kept} 个单位保持原版本"
            if zh
            else f"{verb} adopt {self.workflow} (was {self.previous}, policy {self.policy}): "
            f"{len(self.changes)} units move to it, {self.kept} stay on their version"
        )
        return "\n".join([head, *(f"  - {c.explain(locale)}" for c in self.changes)])


def migrated_state(new: Workflow, ref: str, state: UnitState, stage: str) -> UnitState:
    """``state`` moved to version ``ref`` of workflow ``new``, in ``stage``.

    Not a transition: the version counter and the dates stay (the unit's stay in the stage
    goes on); the remedial flag follows the new stage's kind.
    """
    remedial = new.stage(stage).kind == "remedial"
    return attrs.evolve(
        state,
        stage=stage,
        workflow=ref,
        remedial=remedial,
        resume_since=state.resume_since if remedial else None,
    )


def plan_adoption(
    new: Workflow,
    ref: str,
    units: Iterable[tuple[Unit, UnitState]],
    workflow_of: Mapping[str, Workflow],
    *,
    default: Workflow,
    first: str,
    policy: Policy,
    stage_map: Mapping[str, str],
    from_batch: int,
) -> tuple[list[UnitChange], int, list[str]]:
    """Every unit's change under ``policy``, how many stay, and every problem found.

    Args:
        new: the workflow to adopt; ``ref`` its ``name@version#hash``.
        units: every unit with its state.
        workflow_of: the known versions by ref (a state's ``workflow``); ``default`` judges
            states whose ref is unknown; an empty ref means ``first`` (the first version).
        stage_map: old stage id -> new stage id for stages renamed or removed.
        from_batch: with ``from_batch``, the first batch the new version applies to.

    Returns:
        ``(changes, kept, problems)``; a non-empty ``problems`` means refuse the whole
        adoption: a unit mapped to a stage the new version does not have, a unit left
        without a stage, a mapping from a stage no version has, a batch the new version
        lacks.
    """
    problems: list[str] = []
    known_stages = {s.id for wf in (*workflow_of.values(), default) for s in wf.stages}
    for old, target in sorted(stage_map.items()):
        if old not in known_stages:
            problems.append(
                Problem("stage_map", "versions.stage_map_unknown_old", {"old": repr(old)})
            )
        if not new.has_stage(target):
            problems.append(
                Problem(
                    "stage_map",
                    "versions.stage_map_unknown_new",
                    {"old": repr(old), "target": repr(target), "ref": ref},
                )
            )
    changes: list[UnitChange] = []
    kept = 0
    for unit, state in units:
        current_ref = state.workflow or first
        current = workflow_of.get(current_ref, default)
        if current_ref == ref:
            kept += 1
            continue
        started = not current.has_stage(state.stage) or current.stage(state.stage).kind != "waiting"
        if policy == "migrate":
            moving = True
        elif policy == "pin":
            moving = not started
        else:
            moving = not started and state.batch >= from_batch
        if not moving:
            kept += 1
            continue
        if state.stage in stage_map:
            target, reason = stage_map[state.stage], "stage_mapped"
            if not new.has_stage(target):
                problems.append(
                    Problem(
                        "",
                        "versions.mapped_stage_missing",
                        {
                            "unit": repr(unit.id),
                            "stage": repr(state.stage),
                            "target": repr(target),
                            "ref": ref,
                        },
                    )
                )
                continue
        elif new.has_stage(state.stage):
            target, reason = state.stage, "migrated"
        elif policy != "migrate":
            target, reason = new.initial, "stage_mapped"
        else:
            problems.append(
                Problem(
                    "",
                    "versions.stage_unmapped",
                    {"unit": repr(unit.id), "stage": repr(state.stage), "ref": ref},
                )
            )
            continue
        if policy != "migrate":
            reason = "not_started"
        if new.batches and new.batch(state.batch) is None:
            problems.append(
                Problem(
                    "",
                    "versions.batch_missing",
                    {"unit": repr(unit.id), "batch": state.batch, "ref": ref},
                )
            )
            continue
        changes.append(
            UnitChange(
                unit_id=unit.id,
                batch=state.batch,
                from_workflow=current_ref,
                to_workflow=ref,
                from_stage=state.stage,
                to_stage=target,
                reason=reason,
            )
        )
    return changes, kept, problems


def adoption_of(payload: Mapping[str, Any], *, seq: int) -> Adoption:
    """The :class:`Adoption` an ``adopt`` audit record's payload describes."""
    return Adoption(
        workflow=payload["workflow"],
        previous=payload["previous"],
        policy=payload["policy"],
        from_batch=int(payload["from_batch"]),
        stage_map=dict(payload["stage_map"]),
        dry_run=False,
        changes=tuple(
            UnitChange(
                unit_id=c[0],
                batch=int(c[1]),
                from_workflow=c[2],
                to_workflow=payload["workflow"],
                from_stage=c[3],
                to_stage=c[4],
                reason=c[5],
            )
            for c in payload["changes"]
        ),
        kept=int(payload["kept"]),
        seq=seq,
    )


def payload_of(adoption: Adoption, definition_hash: str) -> dict[str, Any]:
    """The adoption's audit payload: versions, policy, mapping and every unit's move."""
    return {
        "workflow": adoption.workflow,
        "previous": adoption.previous,
        "content_hash": definition_hash,
        "policy": adoption.policy,
        "from_batch": adoption.from_batch,
        "stage_map": dict(sorted(adoption.stage_map.items())),
        # [unit, batch, from version, from stage, to stage, reason] per unit that moves.
        "changes": [
            [c.unit_id, c.batch, c.from_workflow, c.from_stage, c.to_stage, c.reason]
            for c in adoption.changes
        ],
        "kept": adoption.kept,
    }
