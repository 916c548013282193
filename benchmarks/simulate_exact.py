"""Exact-mode simulation throughput (transitions per second) against its peers, same steps.

The issue's target: exact mode at least 3x the throughput of driving the same units through
raw ``transitions``. Rows:

* ``campaignflow exact``   ``simulate_exact`` on the district scenario scaled to N units: the
                           real ``Campaign`` (in-memory store, audit chain) day by day, facts,
                           refused applications and all. Timed end to end.
* ``transitions (shared)`` one ``Machine(model=None, auto_transitions=False, send_event=True)``
                           built from the same workflow, every unit added with ``add_model``
                           (DESIGN.md's fast options), replaying the exact run's steps.
* ``python-statemachine``  one instance per unit of a machine class built from the workflow.
* ``hand-written table``   ``{(stage, trigger): [(dest, guards)]}`` and a loop: the floor. One
                           guard context per step, guards judged in order until one fails.
* ``table + audit``        the hand-written table, and after each step the audit record the
                           exact run sealed for it encoded and hashed again (``record_hash``:
                           the same body, SHA-256), the run's other records too: the audited
                           floor. Timed in pairs alternated with exact runs (``--pairs``); the
                           closing line gives exact ÷ this floor, the median of per-pair
                           ratios (issue 18's target: ≤ 3x).

"The same steps": the exact run's audit trail, in order — every fact recorded (appended to
the unit's records), every ``start``/``advance``/``defer`` fired, refused ones included. Every
peer judges with the workflow's own guards on a ``GuardContext`` built from those records
(``engine.context_for``) and moves dates with ``engine.next_state``, so the guards and date
rules cost the same everywhere; what differs is the engine around them. Each peer checks it
ends every unit where exact mode did, so no row can look fast by doing nothing.

Setup is timed apart ("setup" column): ``add_model`` on the shared machine (quadratic in the
number of models, DESIGN.md), instance creation for python-statemachine. ``cf/row`` compares
throughput without setup; ``cf/row+setup`` charges the peer its setup too. Progress lines go
to stderr. Run ``python benchmarks/simulate_exact.py --help``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from advance_throughput import _environment

import campaignflow as cf
from campaignflow._words.facts import fact_types
from campaignflow._words.records import FactRecord, UnitState
from campaignflow.audit import record_hash
from campaignflow.guards._registry import BoundGuard
from campaignflow.simulation import Scenario, load_scenario
from campaignflow.simulation.exact import simulate_exact
from campaignflow.workflow._engine import context_for, initial_state, next_state

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = ROOT / "examples" / "district_2005.toml"
REFERENCE = "campaignflow exact"
AT = datetime(2005, 1, 1, tzinfo=UTC)


@dataclass
class Row:
    """One measured row: the median of its timed runs."""

    name: str
    advances: int
    times_s: list[float]
    setup_s: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def setup_median_s(self) -> float:
        return statistics.median(self.setup_s) if self.setup_s else 0.0

    @property
    def per_second(self) -> float:
        return self.advances / self.median_s

    @property
    def per_second_with_setup(self) -> float:
        return self.advances / (self.median_s + self.setup_median_s)


# --- the reference run and its steps ---------------------------------------------------------


@dataclass
class Step:
    """One thing the exact run did to a unit: record a fact, or fire a trigger."""

    unit: str
    on: date
    fact: Any = None
    trigger: str | None = None
    dest: str | None = None  # None: the exact run refused it
    to_batch: int | None = None
    record: Any = None  # the audit record the exact run sealed for it


def scenario_of(units: int) -> Scenario:
    """The district scenario with its roster scaled to about ``units`` units."""
    data = load_scenario(DISTRICT).to_dict()
    counts: dict[str, int] = data["roster"]["counts"]
    total = sum(counts.values())
    data["roster"]["counts"] = {k: max(1, round(v * units / total)) for k, v in counts.items()}
    return Scenario.from_dict(data, source="simulate_exact benchmark", base_dir=DISTRICT.parent)


def run_exact(scenario: Scenario) -> tuple[float, cf.Campaign]:
    gc.collect()
    start = time.perf_counter()
    _, campaign = simulate_exact(scenario)
    return time.perf_counter() - start, campaign


def steps_of(
    campaign: cf.Campaign,
) -> tuple[list[Step], dict[str, cf.Unit], dict[str, str], int, list[Any]]:
    """The run's steps in audit order, its units, where each ended, its advances, and its
    other audit records (units added, refused facts)."""
    steps: list[Step] = []
    others: list[Any] = []
    advances = 0
    for record in campaign.audit_trail():
        uid = record.unit_id
        if uid is None or record.command == "add_unit":
            others.append(record)
            continue
        if record.command in ("record", "approve") and record.outcome == "ok":
            fact = fact_types.load(record.payload["fact"])
            steps.append(Step(uid, record.on, fact=fact, record=record))
        elif record.command in ("advance", "defer"):
            ok = record.outcome == "ok"
            advances += ok
            steps.append(
                Step(
                    uid,
                    record.on,
                    trigger=str(record.payload.get("trigger", "advance")),
                    dest=record.dest if ok else None,
                    to_batch=record.payload.get("to_batch"),
                    record=record,
                )
            )
        else:
            others.append(record)
    units = {u.id: u for u, _ in campaign.units()}
    final = {u.id: s.stage for u, s in campaign.units()}
    return steps, units, final, advances, others


def time_sealing(campaign: cf.Campaign) -> float:
    """Seconds to hash the run's audit records again: the chain's own cost, without the rest."""
    records = list(campaign.audit_trail())
    gc.collect()
    start = time.perf_counter()
    for record in records:
        record_hash(record)
    return time.perf_counter() - start


# --- what every peer shares: a unit's records, state and the workflow's guards ---------------


class PeerUnit:
    """A unit as the peers keep it: the record, its UnitState and its facts by stage."""

    __slots__ = ("facts", "state", "today", "uid", "unit")

    def __init__(self, workflow: cf.Workflow, unit: cf.Unit) -> None:
        self.unit = unit
        self.uid = unit.id
        self.state: UnitState = initial_state(workflow, unit)
        self.facts: dict[str, list[FactRecord]] = {}
        self.today = date.min

    def record(self, fact: Any, on: date) -> None:
        s = self.state
        self.facts.setdefault(s.stage, []).append(
            FactRecord(self.uid, s.stage, s.version, fact, on, AT, "peer", 0)
        )

    def passes(self, workflow: cf.Workflow, guard: BoundGuard) -> bool:
        s = self.state
        ctx = context_for(workflow, self.unit, s, self.facts.get(s.stage, ()), self.today)
        return guard(ctx).passed

    def moved(self, workflow: cf.Workflow, dest: str, batch: int | None) -> None:
        self.state = next_state(workflow, self.state, dest, self.today, batch=batch)


def _check(name: str, peers: dict[str, PeerUnit], final: dict[str, str]) -> None:
    wrong = [u for u, p in peers.items() if p.state.stage != final[u]]
    if wrong:
        raise RuntimeError(f"{name}: {len(wrong)} units did not end where exact mode did")


def _replay(
    workflow: cf.Workflow,
    steps: list[Step],
    peers: dict[str, PeerUnit],
    fire: Callable[[PeerUnit, Step], None],
) -> float:
    gc.collect()
    start = time.perf_counter()
    for step in steps:
        peer = peers[step.unit]
        peer.today = step.on
        if step.trigger is None:
            peer.record(step.fact, step.on)
        else:
            fire(peer, step)
    return time.perf_counter() - start


# --- transitions: one shared machine, add_model ---------------------------------------------


def run_transitions(
    workflow: cf.Workflow, steps: list[Step], units: dict[str, cf.Unit], final: dict[str, str]
) -> tuple[float, float]:
    from transitions import Machine

    def condition(guard: BoundGuard) -> Callable[[Any], bool]:
        return lambda event: event.model.passes(workflow, guard)

    machine = Machine(
        model=None,
        states=[s.id for s in workflow.stages],
        initial=workflow.initial,
        # Candidates per (stage, trigger) in the workflow's order: transitions tries them so.
        transitions=[
            {
                "trigger": trigger,
                "source": stage.id,
                "dest": c.dest,
                "conditions": [condition(g) for g in c.guards],
            }
            for stage in workflow.stages
            for trigger in workflow.triggers(stage.id)
            for c in workflow.candidates(stage.id, trigger)
        ],
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=True,
        # PeerUnit.state is the UnitState; the machine keeps its state name apart.
        model_attribute="state_name",
    )

    class Model(PeerUnit):
        """Without slots: transitions adds trigger methods to each model."""

    peers: dict[str, PeerUnit] = {uid: Model(workflow, u) for uid, u in units.items()}
    start = time.perf_counter()
    machine.add_model(list(peers.values()))
    setup = time.perf_counter() - start

    def fire(peer: PeerUnit, step: Step) -> None:
        before = peer.state_name  # type: ignore[attr-defined]
        getattr(peer, str(step.trigger))()
        after = peer.state_name  # type: ignore[attr-defined]
        if (after != before or step.trigger == "defer") and step.dest is not None:
            peer.moved(workflow, after, step.to_batch)

    elapsed = _replay(workflow, steps, peers, fire)
    _check("transitions", peers, final)
    return elapsed, setup


# --- python-statemachine: one instance per unit ---------------------------------------------


def run_psm(
    workflow: cf.Workflow, steps: list[Step], units: dict[str, cf.Unit], final: dict[str, str]
) -> tuple[float, float]:
    from statemachine import State, StateMachine

    states = {
        s.id: State(s.id, value=s.id, initial=s.id == workflow.initial, final=s.kind == "final")
        for s in workflow.stages
    }

    def condition(guard: BoundGuard) -> Callable[..., bool]:
        def check(machine: Any) -> bool:
            return bool(machine.model.passes(workflow, guard))

        return check

    events: dict[str, Any] = {}
    for stage in workflow.stages:
        for trigger in workflow.triggers(stage.id):
            for c in workflow.candidates(stage.id, trigger):
                tr = states[stage.id].to(
                    states[c.dest], cond=[condition(g) for g in c.guards] or None
                )
                events[trigger] = tr if trigger not in events else events[trigger] | tr
    machine_class = type(
        "WorkflowMachine", (StateMachine,), {"__module__": __name__, **states, **events}
    )

    class Model(PeerUnit):
        __slots__ = ("psm_state",)

    peers: dict[str, PeerUnit] = {uid: Model(workflow, u) for uid, u in units.items()}
    start = time.perf_counter()
    machines = {uid: machine_class(model=p, state_field="psm_state") for uid, p in peers.items()}
    setup = time.perf_counter() - start

    def fire(peer: PeerUnit, step: Step) -> None:
        before = peer.psm_state  # type: ignore[attr-defined]
        try:
            machines[peer.uid].send(str(step.trigger))
        except Exception:  # TransitionNotAllowed: a refused application
            return
        after = peer.psm_state  # type: ignore[attr-defined]
        if step.dest is not None and (after != before or step.trigger == "defer"):
            peer.moved(workflow, after, step.to_batch)

    elapsed = _replay(workflow, steps, peers, fire)
    _check("python-statemachine", peers, final)
    return elapsed, setup


# --- the floor: a dict table and a loop ------------------------------------------------------


def run_floor(
    workflow: cf.Workflow, steps: list[Step], units: dict[str, cf.Unit], final: dict[str, str]
) -> tuple[float, float]:
    table = {
        (s.id, trigger): [(c.dest, c.guards) for c in workflow.candidates(s.id, trigger)]
        for s in workflow.stages
        for trigger in workflow.triggers(s.id)
    }
    peers = {uid: PeerUnit(workflow, u) for uid, u in units.items()}

    def fire(peer: PeerUnit, step: Step) -> None:
        candidates = table.get((peer.state.stage, str(step.trigger)))
        if not candidates:
            return
        # The least judging there is: one context per step, guards in order, stopping at the
        # first that fails.
        s = peer.state
        ctx = context_for(workflow, peer.unit, s, peer.facts.get(s.stage, ()), peer.today)
        for dest, guards in candidates:
            if all(g(ctx).passed for g in guards):
                peer.moved(workflow, dest, step.to_batch)
                return

    elapsed = _replay(workflow, steps, peers, fire)
    _check("hand-written table", peers, final)
    return elapsed, 0.0


def run_floor_audit(
    workflow: cf.Workflow,
    steps: list[Step],
    units: dict[str, cf.Unit],
    final: dict[str, str],
    others: list[Any],
) -> float:
    """The hand-written table, sealing after each step the record the exact run sealed for it
    (its body encoded and hashed with SHA-256: ``record_hash``), and the run's other records
    (units added, refused facts) too: the audited floor."""
    table = {
        (s.id, trigger): [(c.dest, c.guards) for c in workflow.candidates(s.id, trigger)]
        for s in workflow.stages
        for trigger in workflow.triggers(s.id)
    }
    peers = {uid: PeerUnit(workflow, u) for uid, u in units.items()}

    def fire(peer: PeerUnit, step: Step) -> None:
        candidates = table.get((peer.state.stage, str(step.trigger)))
        if candidates:
            s = peer.state
            ctx = context_for(workflow, peer.unit, s, peer.facts.get(s.stage, ()), peer.today)
            for dest, guards in candidates:
                if all(g(ctx).passed for g in guards):
                    peer.moved(workflow, dest, step.to_batch)
                    break
        record_hash(step.record)

    gc.collect()
    start = time.perf_counter()
    for record in others:
        record_hash(record)
    for step in steps:
        peer = peers[step.unit]
        peer.today = step.on
        if step.trigger is None:
            peer.record(step.fact, step.on)
            record_hash(step.record)
        else:
            fire(peer, step)
    elapsed = time.perf_counter() - start
    _check("table + audit", peers, final)
    return elapsed


def floor_ratio(
    scenario: Scenario,
    steps: list[Step],
    units: dict[str, cf.Unit],
    final: dict[str, str],
    others: list[Any],
    pairs: int,
) -> tuple[float, list[float], list[float]]:
    """Exact simulation ÷ the audited floor: the median of per-pair ratios, the two timed
    alternately (which goes first swaps every pair). Returns it, the ratios and floor times."""
    workflow = scenario.load_workflow()
    ratios: list[float] = []
    floors: list[float] = []
    for i in range(pairs):
        if i % 2:
            floor = run_floor_audit(workflow, steps, units, final, others)
            exact, _ = run_exact(scenario)
        else:
            exact, _ = run_exact(scenario)
            floor = run_floor_audit(workflow, steps, units, final, others)
        ratios.append(exact / floor)
        floors.append(floor)
    return statistics.median(ratios), ratios, floors


PEERS: tuple[tuple[str, Any, str], ...] = (
    ("transitions (shared)", run_transitions, "one Machine, add_model, same guards"),
    ("python-statemachine", run_psm, "one instance per unit, same guards"),
    ("hand-written table", run_floor, "dict table + loop, same guards"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1000, help="units (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row (default 3)")
    parser.add_argument(
        "--pairs",
        type=int,
        default=5,
        help="alternated (exact, audited floor) pairs for the floor ratio (default 5)",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    if args.units < 1 or args.repeats < 1:
        parser.error("--units and --repeats must be at least 1")
    scenario = scenario_of(args.units)
    workflow = scenario.load_workflow()
    print(f"  {REFERENCE} on {scenario.unit_count()} units ...", file=sys.stderr, flush=True)
    times: list[float] = []
    campaign: cf.Campaign | None = None
    for _ in range(args.repeats):
        elapsed, campaign = run_exact(scenario)
        times.append(elapsed)
        if not campaign.verify_audit().ok:
            raise RuntimeError("campaignflow: the audit chain does not verify")
    assert campaign is not None
    steps, units, final, advances, others = steps_of(campaign)
    sealing_s = time_sealing(campaign)
    print("  table + audit (paired with exact runs) ...", file=sys.stderr, flush=True)
    floor_x, floor_ratios, floor_times = floor_ratio(
        scenario, steps, units, final, others, args.pairs
    )
    rows = [Row(REFERENCE, advances, times, [], "Campaign + audit chain, facts, refusals")]
    for name, run, note in PEERS:
        print(f"  {name} ...", file=sys.stderr, flush=True)
        row = Row(name, advances, [], [], note)
        for _ in range(args.repeats):
            elapsed, setup = run(workflow, steps, units, final)
            row.times_s.append(elapsed)
            row.setup_s.append(setup)
        rows.append(row)
    rows.append(Row("table + audit", advances, floor_times, [], "table + the same records sealed"))
    ref = rows[0]
    by_name = {r.name: r for r in rows}
    # The target's time budget against what judging the same guards costs with no engine at
    # all: when the budget is below that floor, no engine that judges them can meet it.
    budget_s = by_name["transitions (shared)"].median_s / 3
    guard_floor_s = by_name["hand-written table"].median_s
    if args.json:
        print(
            json.dumps(
                {
                    "environment": _environment(args.units, args.repeats),
                    "steps": len(steps),
                    "target_budget_s": budget_s,
                    "guard_floor_s": guard_floor_s,
                    "sealing_s": sealing_s,
                    "exact_over_audited_floor": floor_x,
                    "exact_over_audited_floor_pairs": floor_ratios,
                    "rows": [
                        {
                            **asdict(r),
                            "median_s": r.median_s,
                            "advances_per_s": r.per_second,
                            "cf_over_row": ref.per_second / r.per_second,
                            "cf_over_row_with_setup": ref.per_second / r.per_second_with_setup,
                        }
                        for r in rows
                    ],
                },
                indent=2,
            )
        )
        return 0
    print(
        f"exact-mode simulation vs peers: district scenario, {len(units)} units, {len(steps):,} "
        f"steps ({advances:,} transitions), median of {args.repeats} runs"
    )
    print()
    head = (
        f"{'row':<22} {'median s':>9} {'setup s':>8} {'advances/s':>11} {'cf/row':>7} "
        f"{'cf/row+setup':>13}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.name:<22} {r.median_s:>9.3f} {r.setup_median_s:>8.3f} {r.per_second:>11,.0f} "
            f"{ref.per_second / r.per_second:>6.2f}x "
            f"{ref.per_second / r.per_second_with_setup:>12.2f}x  {r.note}"
        )
    print()
    print(
        "cf/row = campaignflow exact throughput / the row's (target >= 3x transitions);\n"
        "cf/row+setup charges the row its setup (add_model, instances) as well.\n"
        "campaignflow's time covers the whole simulation (recording every fact through the\n"
        "Campaign API, the store, the SHA-256 audit chain); the peers only replay its steps."
    )
    print(
        f"\n3x transitions means the whole run in {budget_s:.3f} s. The hand-written table,\n"
        f"which only judges the same guards and moves the dates, takes {guard_floor_s:.3f} s "
        f"({guard_floor_s / budget_s:.1f}x that budget);\n"
        f"hashing the run's audit records again, and nothing else, takes {sealing_s:.3f} s "
        f"({sealing_s / budget_s:.1f}x)."
    )
    print(
        f"\nexact simulation / audited floor (table + the same records sealed): {floor_x:.2f}x "
        f"(target <= 3x), median of {len(floor_ratios)} alternated pairs "
        f"[{', '.join(f'{r:.2f}' for r in floor_ratios)}]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
