"""In-memory ``advance`` throughput: campaignflow against its peers on the same four-step path.

Every row moves N units along the same path ``a -> b -> c -> d -> e``; each step has two
guards (at least 1 study hour, milestone ``x`` done). Only the advances are timed: facts,
units, machines and models are set up outside the clock, and the setup costs that matter
(``add_model`` on a shared ``transitions`` machine, one python-statemachine instance per
unit) are reported on their own.

Rows:

* ``campaignflow advance``      ``camp.advance(unit_id, actor=..., request_id=...)``, 4 per unit
* ``campaignflow advance_all``  ``camp.advance_all(actor=...)``, 4 sweeps over every unit
* ``transitions (shared)``      one ``Machine`` (auto_transitions=False, send_event=False),
                                models via ``add_model``, ``model.advance()``
* ``python-statemachine``       one ``StateMachine`` instance per unit, ``cond=``, ``sm.advance()``
* ``hand-written table``        ``{(state, trigger): [(dest, (guard, ...))]}`` and a loop
* ``transitions + audit``       the shared ``Machine`` row, and after each move the same audit
                                record campaignflow seals: the same body (decision with both
                                verdicts and their numbers) encoded by campaignflow's
                                ``Encoder`` and chained with SHA-256 (``Encoder.row_hash``)
* ``table + audit``             the hand-written table, and the same sealed record: the
                                audited floor

The closing line gives ``campaignflow advance ÷ transitions + audit`` as the median of
per-pair ratios, the two rows timed alternately (``--pairs``, default 7; issue 18's target is
≤ 1.5x).

Not like for like: a campaignflow advance also re-reads the unit in a store transaction,
checks the request id (idempotency), judges every guard into a full ``Decision`` with
verdicts (codes and numbers), computes the next state, and writes an audit record sealed
into a SHA-256 hash chain. The peers only flip a state field. The ratios price that work.

Facts in campaignflow belong to the stage a unit is in, so they cannot all be recorded
before the first advance: each step first records that stage's two facts for every unit
(untimed), then times that step's advances. Every row uses the same step-by-step shape.

Run ``python benchmarks/advance_throughput.py --help``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from importlib.metadata import version
from itertools import pairwise
from typing import Any

import campaignflow as cf
from campaignflow.audit import AuditRow
from campaignflow.audit._encode import Encoder, canonical_json
from campaignflow.audit._row import GENESIS_HASH

PATH: tuple[str, ...] = ("a", "b", "c", "d", "e")
STEPS = len(PATH) - 1
TRIGGER = "advance"
MIN_HOURS = 1.0
MILESTONE = "x"
DAY = date(2005, 3, 1)
REFERENCE = "campaignflow advance"
WARMUP_UNITS = 50

# --------------------------------------------------------------------------------------
# Timing harness
# --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One measured row: the median of ``repeats`` timed runs of ``advances`` advances."""

    name: str
    advances: int
    times_s: list[float]
    setup_s: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def per_second(self) -> float:
        return self.advances / self.median_s

    @property
    def us_per_advance(self) -> float:
        return self.median_s / self.advances * 1e6


@dataclass
class Run:
    """What one timed run of a row needs: untimed preparation per step, then the timed step."""

    prepare: Callable[[int], None]
    step: Callable[[int], None]
    check: Callable[[], None]
    setup_s: dict[str, float]


def _time_run(run: Run) -> float:
    """Seconds spent in ``run.step`` over the four steps (preparation is not counted)."""
    total = 0.0
    for step in range(STEPS):
        run.prepare(step)
        gc.collect()
        start = time.perf_counter()
        run.step(step)
        total += time.perf_counter() - start
    run.check()
    return total


def measure(name: str, build: Callable[[int], Run], units: int, repeats: int, note: str) -> Row:
    """Build a fresh run ``repeats`` times (untimed) and time its advances; keep every time."""
    times: list[float] = []
    setups: list[dict[str, float]] = []
    _time_run(build(min(units, WARMUP_UNITS)))  # untimed: first-call and import costs
    for _ in range(repeats):
        gc.collect()
        run = build(units)
        times.append(_time_run(run))
        setups.append(run.setup_s)
        del run
    setup = {k: statistics.median(s[k] for s in setups) for k in setups[0]} if setups else {}
    return Row(name, units * STEPS, times, setup, note)


def _noop(_: int) -> None:
    return None


# --------------------------------------------------------------------------------------
# campaignflow
# --------------------------------------------------------------------------------------


def build_workflow() -> cf.Workflow:
    """The path ``a -> b -> c -> d -> e``, two guards per step."""
    guards = (
        cf.use("min_study_hours", hours=MIN_HOURS),
        cf.use("milestones_done", names=(MILESTONE,)),
    )
    stages = [cf.Stage(id=s, kind="final" if s == PATH[-1] else "stage") for s in PATH]
    transitions = [
        cf.Transition(source=(src,), dest=dst, trigger=TRIGGER, guards=guards)
        for src, dst in pairwise(PATH)
    ]
    return cf.Workflow(name="bench_path", stages=stages, transitions=transitions)


CLERK = cf.Actor(id="clerk", roles=frozenset({"branch_committee"}))


def _campaign(units: int) -> tuple[cf.Campaign, list[str], float]:
    camp = cf.Campaign(build_workflow(), clock=cf.FixedClock(DAY))
    ids = [f"u{i:06d}" for i in range(units)]
    start = time.perf_counter()
    camp.add_units(cf.Unit(id=u, name=u, kind="organ", batch=1, members=10) for u in ids)
    return camp, ids, time.perf_counter() - start


def _record_stage_facts(camp: cf.Campaign, ids: list[str]) -> None:
    study = cf.StudySession(hours=MIN_HOURS)
    milestone = cf.Milestone(MILESTONE)
    for unit_id in ids:
        camp.record(unit_id, study, actor=CLERK)
        camp.record(unit_id, milestone, actor=CLERK)


def _check_campaign(camp: cf.Campaign, ids: list[str]) -> None:
    stuck = [u for u in ids if camp.state(u).stage != PATH[-1]]
    if stuck:
        raise RuntimeError(f"campaignflow: {len(stuck)} units did not finish, e.g. {stuck[0]}")
    if not camp.verify_audit().ok:
        raise RuntimeError("campaignflow: the audit chain does not verify")


def build_cf_advance(units: int) -> Run:
    """``camp.advance`` per unit per step, each with its own request id (as a host would)."""
    camp, ids, add_s = _campaign(units)
    request_ids = [[f"{u}-s{step}" for u in ids] for step in range(STEPS)]

    def step(n: int) -> None:
        advance = camp.advance
        for unit_id, request_id in zip(ids, request_ids[n], strict=True):
            advance(unit_id, actor=CLERK, request_id=request_id)

    return Run(
        prepare=lambda _: _record_stage_facts(camp, ids),
        step=step,
        check=lambda: _check_campaign(camp, ids),
        setup_s={"add_units": add_s},
    )


def build_cf_advance_all(units: int) -> Run:
    """One ``camp.advance_all`` sweep per step."""
    camp, ids, add_s = _campaign(units)

    def step(_: int) -> None:
        outcomes = camp.advance_all(actor=CLERK)
        # The summary, not the outcomes: each outcome is rebuilt from the store when read.
        if outcomes.summary.refused:
            raise RuntimeError("campaignflow advance_all: a unit did not advance")

    return Run(
        prepare=lambda _: _record_stage_facts(camp, ids),
        step=step,
        check=lambda: _check_campaign(camp, ids),
        setup_s={"add_units": add_s},
    )


# --------------------------------------------------------------------------------------
# transitions: one shared Machine, models added with add_model
# --------------------------------------------------------------------------------------


class TransitionsModel:
    """A unit as a ``transitions`` model; the machine adds ``state`` and ``advance``."""

    state: str
    advance: Callable[[], bool]

    def __init__(self) -> None:
        self.hours = MIN_HOURS
        self.milestones = frozenset({MILESTONE})

    def hours_ok(self) -> bool:
        return self.hours >= MIN_HOURS

    def milestone_ok(self) -> bool:
        return MILESTONE in self.milestones


def _transitions_models(units: int) -> tuple[list[TransitionsModel], float]:
    """``units`` models on one shared ``Machine``; and the seconds ``add_model`` took."""
    from transitions import Machine

    machine = Machine(
        model=None,
        states=list(PATH),
        initial=PATH[0],
        transitions=[
            {
                "trigger": TRIGGER,
                "source": src,
                "dest": dst,
                "conditions": ["hours_ok", "milestone_ok"],
            }
            for src, dst in pairwise(PATH)
        ],
        auto_transitions=False,
        send_event=False,
    )
    models = [TransitionsModel() for _ in range(units)]
    start = time.perf_counter()
    machine.add_model(models)
    return models, time.perf_counter() - start


def _check_transitions(models: list[TransitionsModel]) -> None:
    if any(m.state != PATH[-1] for m in models):
        raise RuntimeError("transitions: a unit did not finish")


def build_transitions(units: int) -> Run:
    models, add_s = _transitions_models(units)

    def step(_: int) -> None:
        for model in models:
            model.advance()

    return Run(_noop, step, lambda: _check_transitions(models), {"add_model": add_s})


# --------------------------------------------------------------------------------------
# python-statemachine: one instance per unit
# --------------------------------------------------------------------------------------


class PsmUnit:
    """The domain model a python-statemachine instance keeps its ``state`` on."""

    def __init__(self) -> None:
        self.hours = MIN_HOURS
        self.milestones = frozenset({MILESTONE})
        self.state: str | None = None


def _psm_class() -> type[Any]:
    from statemachine import State, StateMachine

    cond = ["hours_ok", "milestone_ok"]

    class PathMachine(StateMachine):
        a = State(initial=True)
        b = State()
        c = State()
        d = State()
        e = State(final=True)

        advance = a.to(b, cond=cond) | b.to(c, cond=cond) | c.to(d, cond=cond) | d.to(e, cond=cond)

        def hours_ok(self) -> bool:
            return bool(self.model.hours >= MIN_HOURS)

        def milestone_ok(self) -> bool:
            return MILESTONE in self.model.milestones

    return PathMachine


def build_psm(units: int) -> Run:
    machine_class = _psm_class()
    start = time.perf_counter()
    machines = [machine_class(model=PsmUnit()) for _ in range(units)]
    create_s = time.perf_counter() - start

    def step(_: int) -> None:
        for sm in machines:
            sm.advance()

    def check() -> None:
        if any(sm.model.state != PATH[-1] for sm in machines):
            raise RuntimeError("python-statemachine: a unit did not finish")

    return Run(_noop, step, check, {"create_instances": create_s})


# --------------------------------------------------------------------------------------
# hand-written floor: a dict table and a loop
# --------------------------------------------------------------------------------------


class FloorUnit:
    __slots__ = ("hours", "milestones", "state")

    def __init__(self) -> None:
        self.state = PATH[0]
        self.hours = MIN_HOURS
        self.milestones = frozenset({MILESTONE})


Guard = Callable[[FloorUnit], bool]


def _hours_ok(unit: FloorUnit) -> bool:
    return unit.hours >= MIN_HOURS


def _milestone_ok(unit: FloorUnit) -> bool:
    return MILESTONE in unit.milestones


FLOOR_TABLE: dict[tuple[str, str], list[tuple[str, tuple[Guard, ...]]]] = {
    (src, TRIGGER): [(dst, (_hours_ok, _milestone_ok))] for src, dst in pairwise(PATH)
}


def floor_fire(unit: FloorUnit, trigger: str) -> bool:
    """First candidate whose guards all pass wins (transitions' semantics)."""
    for dest, guards in FLOOR_TABLE.get((unit.state, trigger), ()):
        for guard in guards:
            if not guard(unit):
                break
        else:
            unit.state = dest
            return True
    return False


def build_floor(units: int) -> Run:
    rows = [FloorUnit() for _ in range(units)]

    def step(_: int) -> None:
        for unit in rows:
            if not floor_fire(unit, TRIGGER):
                raise RuntimeError("hand-written table: a unit did not advance")

    def check() -> None:
        if any(u.state != PATH[-1] for u in rows):
            raise RuntimeError("hand-written table: a unit did not finish")

    return Run(_noop, step, check, {})


# --------------------------------------------------------------------------------------
# the audited peers: the same sealed audit record after each move
# --------------------------------------------------------------------------------------


class Chain:
    """The audit record campaignflow seals for a move, built and chained by hand.

    Per move: the decision (both verdicts with their numbers) as data, a row of the same
    columns, its body encoded by campaignflow's :class:`Encoder` and hashed with SHA-256
    onto the previous record's hash. The constant columns are taken from a real record.
    """

    def __init__(self) -> None:
        self.encoder = Encoder()
        self.seq = 0
        self.prev = GENESIS_HASH
        self.workflow = _workflow_ref()
        self.roles = self.encoder.roles_text(tuple(sorted(CLERK.roles)))
        self.payload = canonical_json({"batch": 1, "trigger": TRIGGER})
        self.at = f"{DAY.isoformat()}T00:00:00+00:00"

    def seal(self, unit_id: str, source: str, dest: str, version: int, hours: float) -> str:
        """Seal the move's record onto the chain; its hash."""
        decision = {
            "allowed": True,
            "candidates": [
                {
                    "dest": dest,
                    "passed": True,
                    "verdicts": [
                        {
                            "code": "study_hours.sufficient",
                            "guard": "min_study_hours",
                            "params": {"actual": hours, "required": MIN_HOURS},
                            "passed": True,
                        },
                        {
                            "code": "milestones.done",
                            "guard": "milestones_done",
                            "params": {"missing": [], "required": [MILESTONE]},
                            "passed": True,
                        },
                    ],
                }
            ],
            "judged_on": DAY.isoformat(),
            "source": source,
            "target": dest,
            "trigger": TRIGGER,
        }
        self.seq += 1
        row = AuditRow(
            seq=self.seq,
            at=self.at,
            on=DAY.isoformat(),
            campaign="default",
            command="advance",
            actor_id=CLERK.id,
            actor_roles=self.roles,
            outcome="ok",
            unit_id=unit_id,
            source=source,
            dest=dest,
            version=version,
            request_id=f"{unit_id}-s{version - 1}",
            workflow=self.workflow,
            payload=self.payload,
            decision=self.encoder.text(decision),
            reason=None,
            prev_hash=self.prev,
        )
        self.prev = self.encoder.row_hash(row)
        return self.prev


def _workflow_ref() -> str:
    workflow = build_workflow()
    return f"{workflow.name}@{workflow.version}#{workflow.content_hash[:12]}"


def same_body_as_campaignflow() -> None:
    """Check once that :class:`Chain` writes the body campaignflow seals for the same move."""
    camp, ids, _ = _campaign(1)
    _record_stage_facts(camp, ids)
    camp.advance(ids[0], actor=CLERK, request_id=f"{ids[0]}-s0")
    [ours] = [r for r in camp.history(ids[0]) if r.command == "advance"]
    chain = Chain()
    chain.seq, chain.prev = ours.seq - 1, ours.prev_hash
    if chain.seal(ids[0], PATH[0], PATH[1], 1, MIN_HOURS) != ours.hash:
        raise RuntimeError("the audited peers' record differs from campaignflow's")


def build_transitions_audit(units: int) -> Run:
    """The shared ``transitions`` machine, and the same sealed record after each move."""
    models, add_s = _transitions_models(units)
    chain = Chain()
    ids = [f"u{i:06d}" for i in range(units)]

    def step(n: int) -> None:
        source, dest, seal = PATH[n], PATH[n + 1], chain.seal
        for unit_id, model in zip(ids, models, strict=True):
            if not model.advance():
                raise RuntimeError("transitions + audit: a unit did not advance")
            seal(unit_id, source, dest, n + 1, model.hours)

    return Run(_noop, step, lambda: _check_transitions(models), {"add_model": add_s})


def build_floor_audit(units: int) -> Run:
    """The hand-written table, and the same sealed record after each move."""
    chain = Chain()
    rows = [FloorUnit() for _ in range(units)]
    ids = [f"u{i:06d}" for i in range(units)]

    def step(n: int) -> None:
        seal = chain.seal
        for unit_id, unit in zip(ids, rows, strict=True):
            source = unit.state
            if not floor_fire(unit, TRIGGER):
                raise RuntimeError("table + audit: a unit did not advance")
            seal(unit_id, source, unit.state, n + 1, unit.hours)

    def check() -> None:
        if any(u.state != PATH[-1] for u in rows):
            raise RuntimeError("table + audit: a unit did not finish")

    return Run(_noop, step, check, {})


def paired_ratio(units: int, pairs: int) -> tuple[float, list[float]]:
    """``campaignflow advance`` ÷ ``transitions + audit``: the median of per-pair ratios.

    Each pair times one run of each, alternating which goes first.
    """
    ratios = []
    for i in range(pairs):
        builds = [build_cf_advance, build_transitions_audit]
        if i % 2:
            builds.reverse()
        times = {b: _time_run(b(units)) for b in builds}
        ratios.append(times[build_cf_advance] / times[build_transitions_audit])
    return statistics.median(ratios), ratios


# --------------------------------------------------------------------------------------
# Suite, report, profile
# --------------------------------------------------------------------------------------

SUITE: tuple[tuple[str, Callable[[int], Run], str], ...] = (
    (
        REFERENCE,
        build_cf_advance,
        "store txn + idempotency check + Decision with verdicts + SHA-256 audit record",
    ),
    (
        "campaignflow advance_all",
        build_cf_advance_all,
        "4 sweeps; same work per unit, no request ids",
    ),
    ("transitions (shared)", build_transitions, "one Machine, add_model, state flip only"),
    ("python-statemachine", build_psm, "one instance per unit, state flip only"),
    ("hand-written table", build_floor, "dict table + loop, state flip only"),
    (
        "transitions + audit",
        build_transitions_audit,
        "shared Machine + the same record: Encoder body + SHA-256 chain",
    ),
    ("table + audit", build_floor_audit, "dict table + the same sealed record: audited floor"),
)


def run_suite(units: int, repeats: int, only: set[str] | None = None) -> list[Row]:
    rows = []
    for name, build, note in SUITE:
        if only and not any(o in name for o in only):
            continue
        print(f"  measuring {name} ...", file=sys.stderr, flush=True)
        rows.append(measure(name, build, units, repeats, note))
    return rows


def _environment(units: int, repeats: int) -> dict[str, Any]:
    def ver(dist: str) -> str:
        try:
            return version(dist)
        except Exception:
            return "not installed"

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "campaignflow": cf.__version__,
        "transitions": ver("transitions"),
        "python-statemachine": ver("python-statemachine"),
        "units": units,
        "repeats": repeats,
        "advances_per_run": units * STEPS,
    }


def _ratio(reference: Row | None, row: Row) -> float | None:
    """campaignflow's throughput as a multiple of ``row``'s (< 1: campaignflow is slower)."""
    if reference is None:
        return None
    return reference.per_second / row.per_second


def to_json(rows: list[Row], units: int, repeats: int) -> dict[str, Any]:
    reference = next((r for r in rows if r.name == REFERENCE), None)
    return {
        "environment": _environment(units, repeats),
        "reference": REFERENCE,
        "rows": [
            {
                **asdict(r),
                "median_s": r.median_s,
                "advances_per_s": r.per_second,
                "us_per_advance": r.us_per_advance,
                "campaignflow_throughput_ratio": _ratio(reference, r),
            }
            for r in rows
        ],
    }


def print_table(rows: list[Row], units: int, repeats: int) -> None:
    env = _environment(units, repeats)
    reference = next((r for r in rows if r.name == REFERENCE), None)
    print(
        f"advance throughput, in memory: {units} units x {STEPS} guarded steps "
        f"= {units * STEPS} advances per run, median of {repeats} runs"
    )
    print(
        f"Python {env['python']} ({env['implementation']}, {env['machine']}); "
        f"campaignflow {env['campaignflow']}, transitions {env['transitions']}, "
        f"python-statemachine {env['python-statemachine']}"
    )
    print()
    header = f"{'row':<26} {'median s':>9} {'advances/s':>11} {'us/advance':>11} {'cf/row':>8}  setup (untimed)"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = _ratio(reference, r)
        ratio_text = f"{ratio:.3g}x" if ratio is not None else "-"
        setup = ", ".join(f"{k} {v:.3f}s" for k, v in r.setup_s.items()) or "-"
        print(
            f"{r.name:<26} {r.median_s:>9.4f} {r.per_second:>11,.0f} "
            f"{r.us_per_advance:>11.2f} {ratio_text:>8}  {setup}"
        )
    print()
    print(
        "cf/row = campaignflow advance throughput / this row's (below 1: campaignflow is slower)."
    )
    cf_rows = [r for r in rows if r.name.startswith("campaignflow")]
    for ours in cf_rows:
        for r in rows:
            if r is ours or (r in cf_rows and ours.name != REFERENCE):
                continue
            ratio = ours.per_second / r.per_second
            how = (
                f"{r.per_second / ours.per_second:.1f}x slower"
                if ratio < 1
                else f"{ratio:.1f}x faster"
            )
            print(f"  {ours.name} is {ratio:.3g}x {r.name} ({how})")
    print()
    print(
        "Not like for like: each campaignflow advance also runs a store transaction, an\n"
        "idempotency (request id) check, judges both guards into a full Decision with verdicts\n"
        "(codes + numbers), computes the next state, and appends an audit record sealed into a\n"
        "SHA-256 hash chain. The peers only check two callables and flip a state field.\n"
        "Facts are recorded per stage before each timed step; setup is reported separately\n"
        "(transitions' add_model on a shared machine grows quadratically with the model count)."
    )


def profile_advance(units: int, top: int = 15) -> str:
    """cProfile of the timed part of one ``campaignflow advance`` run; top entries by cumtime."""
    run = build_cf_advance(units)
    profiler = cProfile.Profile()
    for step in range(STEPS):
        run.prepare(step)
        gc.collect()
        profiler.enable()
        run.step(step)
        profiler.disable()
    run.check()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="In-memory advance throughput: campaignflow vs transitions, "
        "python-statemachine and a hand-written table, on the same 4-step guarded path."
    )
    parser.add_argument("--units", type=int, default=2000, help="units per run (default 2000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per row (default 5)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one campaignflow advance run (top 15 by cumulative time)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=7,
        help="alternated pairs for the advance / transitions + audit ratio (default 7; 0: skip)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="measure only rows whose name contains TEXT (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.units < 1 or args.repeats < 1:
        parser.error("--units and --repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    same_body_as_campaignflow()
    rows = run_suite(args.units, args.repeats, set(args.only) if args.only else None)
    ratio, ratios = paired_ratio(args.units, args.pairs) if args.pairs else (None, [])
    if args.json:
        data = to_json(rows, args.units, args.repeats)
        data["advance_over_transitions_audit"] = {"median": ratio, "pairs": ratios}
        print(json.dumps(data, indent=2))
    else:
        print_table(rows, args.units, args.repeats)
        if ratio is not None:
            print(
                f"in-memory advance / (transitions + the same audit record): {ratio:.2f}x, "
                f"median of {len(ratios)} alternated pairs (target <= 1.5x)"
            )
    if args.profile:
        report = profile_advance(args.units)
        print(report, file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
