"""Workflow versions: adopting a new version of a campaign's workflow, and asking which judges whom.

The versions a campaign knows, and how it learns those another process adopted, are kept
by its :class:`~._core.Core` (every room asks it which version judges a unit); this room
plans and writes an adoption (:func:`~campaignflow.versions.plan_adoption` decides who moves).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from campaignflow._words.checks import one_of, refuse, whole_number
from campaignflow._words.records import Actor, WorkflowVersion
from campaignflow.campaign._checks import check_actor, check_request_id, stage_map_of
from campaignflow.campaign._core import Core
from campaignflow.campaign._items import keep_items
from campaignflow.campaign._records import append, same_requester
from campaignflow.errors import ValidationError
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import workflow_ref
from campaignflow.workflow._versions import (
    POLICIES,
    Adoption,
    Policy,
    adoption_of,
    migrated_state,
    payload_of,
    plan_adoption,
)

__all__ = ["adopt", "workflow_of", "workflow_versions"]


def workflow_versions(core: Core) -> tuple[WorkflowVersion, ...]:
    """``Campaign.workflow_versions``: every version, oldest first."""
    with core.store.transaction(write=False) as tx:
        core.sync_versions(tx)
    if core.adopted:
        return core.adopted
    base = core.versions[core.first_ref]
    return (_base_version(core.first_ref, base),)


def workflow_of(core: Core, unit_id: str) -> Workflow:
    """``Campaign.workflow_of``: the version that judges the unit."""
    with core.store.transaction(write=False) as tx:
        _, state = core.load(tx, unit_id)
        return core.wf(tx, state)


def _base_version(ref: str, workflow: Workflow) -> WorkflowVersion:
    """The campaign's first workflow as version 1."""
    return WorkflowVersion(number=1, ref=ref, definition=workflow.to_dict(), policy="base")


def adopt(
    core: Core,
    workflow: Workflow,
    *,
    policy: Policy,
    stage_map: Mapping[str, str] | None,
    from_batch: int | None,
    dry_run: bool,
    actor: Actor,
    request_id: str | None,
) -> Adoption:
    """``Campaign.adopt``: plan, and unless ``dry_run`` write, a new workflow version."""
    if not isinstance(workflow, Workflow):
        refuse("workflow", workflow, "must be a Workflow")
    one_of("policy", policy, POLICIES)
    if policy == "from_batch":
        if from_batch is None:
            raise ValidationError(code="versions.from_batch_missing")
        whole_number("from_batch", from_batch, minimum=1)
    elif from_batch is not None:
        raise ValidationError(
            code="versions.from_batch_unexpected",
            params={"from_batch": repr(from_batch), "policy": repr(policy)},
        )
    mapping = stage_map_of(stage_map)
    if not isinstance(dry_run, bool):
        refuse("dry_run", dry_run, "must be True or False")
    check_actor(actor)
    check_request_id(request_id)
    ref = workflow_ref(workflow)
    now = core.now()
    with core.store.transaction(write=not dry_run) as tx:
        if request_id is not None:
            first = tx.find_request(request_id)
            if first is not None:
                asked = {"workflow": ref, "policy": policy, "from_batch": from_batch or 1}
                asked["stage_map"] = dict(sorted(mapping.items()))
                if first.command != "adopt" or any(
                    first.payload.get(k) != v for k, v in asked.items()
                ):
                    raise ValidationError(
                        code="campaign.request_id_reused",
                        params={"request_id": repr(request_id), "command": first.command},
                    )
                same_requester(first, actor)
                return adoption_of(first.payload, seq=first.seq)
        core.sync_versions(tx)
        if ref == core.workflow_ref:
            raise ValidationError(code="versions.already_current", params={"ref": ref})
        units = list(tx.iter_units())
        changes, kept, problems = plan_adoption(
            workflow,
            ref,
            units,
            core.versions,
            default=core.workflow,
            first=core.first_ref,
            policy=policy,
            stage_map=mapping,
            from_batch=from_batch or 1,
        )
        if problems:
            # The message lists the first 20; ``problems`` keeps them all.
            hidden = max(0, len(problems) - 20)
            raise ValidationError(
                code="versions.adopt_refused_more" if hidden else "versions.adopt_refused",
                params={"ref": ref, "shown": 20, "hidden": hidden},
                problems=problems,
            )
        adoption = Adoption(
            workflow=ref,
            previous=core.workflow_ref,
            policy=policy,
            from_batch=from_batch or 1,
            stage_map=mapping,
            dry_run=dry_run,
            changes=tuple(changes),
            kept=kept,
        )
        if dry_run:
            return adoption
        stored = list(core.adopted)
        if not stored:
            base = _base_version(core.first_ref, core.versions[core.first_ref])
            tx.add_workflow_version(base)
            stored.append(base)
        before, _ = tx.audit_head()
        seq = append(
            core,
            tx,
            now,
            "adopt",
            actor,
            "ok",
            request_id=request_id,
            payload=payload_of(adoption, workflow.content_hash),
            workflow=ref,
        )
        version = WorkflowVersion(
            number=len(stored) + 1,
            ref=ref,
            definition=workflow.to_dict(),
            policy=policy,
            from_batch=from_batch or 1,
            seq=seq,
        )
        tx.add_workflow_version(version)
        read = {state.unit_id: (unit, state) for unit, state in units}
        changed = []
        for change in changes:
            unit, state = read[change.unit_id]
            moved = migrated_state(workflow, ref, state, change.to_stage)
            tx.update_state(moved, expected_version=state.version)
            changed.append((unit, moved))
            if change.to_stage != change.from_stage:
                for fact in tx.get_facts(change.unit_id, change.from_stage):
                    tx.insert_fact(attrs.evolve(fact, stage=change.to_stage))
        core.versions[ref] = workflow  # the moved units are judged by it from here on
        keep_items(core, tx, now, before, changed)
    core.versions[ref] = workflow
    core.learn((*stored, version))
    return attrs.evolve(adoption, seq=seq)
