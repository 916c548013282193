"""Exact mode: the real :class:`~campaignflow.Campaign`, driven day by day on a simulated clock.

Every study session, milestone, assessment and approval is recorded through the public API,
every move is an ``advance`` judged by the workflow's own guards, and every command lands in
the store's audit chain: a simulation is a campaign, just faster than real time. What units do
and when is documented in :mod:`campaignflow.simulation.behaviour`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import date
from typing import Any

import attrs

from campaignflow._words.checks import refuse
from campaignflow._words.facts import Approval, Milestone, StudySession
from campaignflow._words.records import Actor, Unit
from campaignflow.campaign import Campaign
from campaignflow.campaign._checks import START, starter_roles
from campaignflow.clock import SimulatedClock
from campaignflow.errors import TransitionRejected, ValidationError
from campaignflow.guards import GuardRegistry, GuardSpec
from campaignflow.guards import registry as default_registry
from campaignflow.guards._recipe import merge_host
from campaignflow.simulation._exact_store import check_fits, open_target
from campaignflow.simulation._gate_warnings import warn_without_recipe
from campaignflow.simulation.behaviour import (
    TIME_CODES,
    StageNeeds,
    UnitDraws,
    draw_unit,
    draw_visit,
    randint,
    stage_needs,
    survey_for,
    unit_stream,
)
from campaignflow.simulation.results import SimulationResult
from campaignflow.simulation.scenario import Scenario
from campaignflow.simulation.summary import _summarise
from campaignflow.store._protocol import Store
from campaignflow.workflow import Workflow

__all__ = ["ProgressCallback", "simulate_exact"]

#: ``progress(day, done_units, total_units)``, called once per simulated day.
ProgressCallback = Callable[[date, int, int], None]

#: A refused application waiting on facts is filed again at the latest this many days later.
RETRY_DAYS = 7

SUPERIOR = Actor(id="superior_org", roles=frozenset({"superior_org"}))
LEADING_GROUP = Actor(id="leading_group", roles=frozenset({"leading_group"}))


class _Unit:
    """The simulator's side of one unit: its stream, draws, stage and pending plans."""

    __slots__ = (
        "clerk",
        "deferred",
        "done",
        "draws",
        "fallback",
        "host",
        "index",
        "next_try",
        "recorded",
        "rng",
        "stage",
        "token",
        "unit",
        "waiting",
    )

    def __init__(self, index: int, unit: Unit, seed: int, scenario: Scenario) -> None:
        self.index = index
        self.unit = unit
        self.rng = unit_stream(seed, "behaviour", unit.id)
        self.draws: UnitDraws = draw_unit(
            scenario.behaviour,
            self.rng,
            unit.members,
            unit_stream(seed, "retired", unit.id),
        )
        self.clerk = Actor(
            id="branch_committee", roles=frozenset({"branch_committee"}), unit=unit.id
        )
        self.stage = ""
        self.token = 0  # bumped at every transition: plans made before it are stale
        self.done = False
        self.host: Any = None  # the merged host data of the recipes played for the unit
        self.deferred = False
        self.waiting = False  # a refused application waits for the next fact
        self.fallback = -1  # the day of the pending fallback application
        self.next_try = 0  # the day a unit waiting to start tries again (0: the next day)
        self.recorded: dict[tuple[str, str], int] = {}


class _Simulator:
    def __init__(
        self,
        scenario: Scenario,
        workflow: Workflow,
        campaign: Campaign,
        clock: SimulatedClock,
        units: list[Unit],
        seed: int,
        host: Any = None,
    ) -> None:
        self.scenario = scenario
        self.host = host
        self.behaviour = scenario.behaviour
        self.workflow = workflow
        self.campaign = campaign
        self.clock = clock
        self.seed = seed
        self.needs: dict[str, StageNeeds] = stage_needs(workflow)
        self.kinds = {s.id: s.kind for s in workflow.stages}
        self.remedial_of = {s.id: s.remedial_of for s in workflow.stages}
        self.units = [_Unit(i, u, seed, scenario) for i, u in enumerate(units)]
        self.by_id = {u.unit.id: u for u in self.units}
        self.events: dict[int, list[tuple[int, int, str, int, Any]]] = {}
        self.seq = 0
        self.today = scenario.start
        self.finished = 0
        self.approvers: dict[str, Actor] = {}
        numbers = sorted(b.number for b in scenario.batches)
        self.next_batch = dict(itertools.pairwise(numbers))
        # The leading group defers late units (the presets' rule); a workflow of one's own
        # may name other roles for its defer transition.
        roles = {r for c in workflow.candidates(workflow.initial, "defer") for r in c.by}
        self.deferrer = (
            Actor(id="leading_group", roles=frozenset(roles)) if roles else LEADING_GROUP
        )
        # The leading group starts the batches (or whom the start transition names).
        self.starter = Actor(id="leading_group", roles=starter_roles(workflow))
        late = scenario.behaviour.late_start.batches
        self.late_batches = set(late) if late else set(numbers[:-1])
        # Units of opened batches whose start gate has not held yet, retried daily.
        self.unstarted: dict[int, list[_Unit]] = {}
        self.opened_on: dict[int, date] = {}
        self.closes = {b.number: b.closes for b in scenario.batches}
        found = getattr(workflow, "_registry", None)
        self.registry = found if isinstance(found, GuardRegistry) else default_registry
        self.recipe_actors: dict[str, Actor] = {}
        self.stage_reads_host: dict[str, bool] = {}
        warn_without_recipe(workflow, self.registry, host=host, stacklevel=5)

    def host_of(self, u: _Unit) -> Any:
        """The host data ``u``'s gates are judged with: the run's, merged with its recipes'."""
        return merge_host(self.host, u.host)

    # --- scheduling ---------------------------------------------------------------------

    def at(self, offset: int, u: _Unit, action: str, arg: Any = None) -> None:
        day = self.today.toordinal() + max(1, offset)
        self.seq += 1
        self.events.setdefault(day, []).append((u.index, self.seq, action, u.token, arg))

    # --- the day loop -------------------------------------------------------------------

    def run(self, progress: ProgressCallback | None, commit: Callable[[], None]) -> date:
        """Play the days that have something to do, in order; ``progress`` sees every day.

        A day is played when an event is due (:meth:`at`), a batch opens, or a unit waiting
        to start is due to try again (:meth:`retry_due`). The days between change nothing,
        so they are only reported.
        """
        openings: dict[int, list[int]] = {}
        for b in self.scenario.batches:
            openings.setdefault(b.opens.toordinal(), []).append(b.number)
        last = self.scenario.last_day.toordinal()
        total = len(self.units)
        ordinal = self.scenario.start.toordinal()
        end = ordinal
        while ordinal <= last:
            day = self.today = date.fromordinal(ordinal)
            self.clock.set(day)
            for number in sorted(openings.get(ordinal, ())):
                self.open_batch(number)
            todays = self.events.pop(ordinal, None)
            if todays:
                todays.sort()
                for index, _, action, token, arg in todays:
                    u = self.units[index]
                    if u.token == token and not u.done:
                        getattr(self, f"do_{action}")(u, arg)
            if self.unstarted:
                self.retry_starts()
            commit()
            if progress is not None:
                progress(day, self.finished, total)
            end = ordinal
            later = [o for o in openings if o > ordinal]
            if self.finished == total and not later:
                break
            if not self.events and not self.unstarted and not later:
                break
            if day == date.max:
                break
            # The next day with something to do; the quiet days between are only reported.
            due = min([*self.events, *later, self.retry_due(), last + 1])
            upto = min(due, last + 1)
            if progress is not None:
                for quiet in range(ordinal + 1, upto):
                    progress(date.fromordinal(quiet), self.finished, total)
            if upto > ordinal + 1:
                end = upto - 1
            ordinal = upto
        return date.fromordinal(end)

    def retry_due(self) -> int:
        """The next day a unit waiting to start tries again, or its window's last day."""
        due = date.max.toordinal()
        tomorrow = self.today.toordinal() + 1
        for number, waiting in self.unstarted.items():
            due = min(due, self.closes[number].toordinal(), *(u.next_try for u in waiting))
        return max(tomorrow, due)

    def open_batch(self, number: int) -> None:
        self.opened_on[number] = self.today
        later = self.next_batch.get(number)
        if later is not None and number in self.late_batches:
            late = [
                u
                for u in self.units
                if u.unit.batch == number and u.draws.late and not u.deferred and not u.stage
            ]
            for u in late:
                # The leading group moves a unit that cannot start to the next batch.
                self.campaign.defer(
                    u.unit.id, actor=self.deferrer, to_batch=later, host=self.host_of(u)
                )
                u.deferred = True
            self.arrived(later, late)
        unstarted: list[_Unit] = []
        for outcome in self.campaign.start_batch(number, on=self.today, actor=self.starter):
            u = self.by_id[outcome.unit_id]
            if outcome.advanced and outcome.record is not None:
                self.moved(u, outcome.record.dest)
            else:
                unstarted.append(u)
        self.arrived(number, unstarted)

    def arrived(self, number: int, units: list[_Unit]) -> None:
        """Units waiting in batch ``number`` after it opened: its daily retries take them."""
        if units and number in self.opened_on:
            for u in units:
                u.next_try = 0  # a new batch: its gates are judged afresh the next day
            waiting = self.unstarted.setdefault(number, [])
            waiting.extend(units)
            waiting.sort(key=lambda u: u.index)

    def retry_starts(self) -> None:
        """After the day's events, a unit whose start gate failed tries ``start`` again.

        Every day after its batch opened, up to the window's last day; then a unit still
        waiting is deferred to the next batch as a late unit would be (when its batch defers
        late units), or it stays pending: never started (behaviour module doc).
        """
        arrivals: dict[int, list[_Unit]] = {}
        for number in sorted(self.unstarted):
            waiting = self.unstarted.pop(number)
            if self.opened_on[number] != self.today:  # the opening itself tried them today
                # A unit whose gate says it cannot start before a later day sleeps till then,
                # except on the window's last day (the deferral's day): all of them try.
                day = self.today.toordinal()
                closing = self.today >= self.closes[number]
                waiting = [
                    u
                    for u in waiting
                    if (u.next_try > day and not closing) or not self.try_start(u)
                ]
            if waiting and self.today >= self.closes[number]:
                later = self.next_batch.get(number)
                if later is not None and number in self.late_batches:
                    moved = [u for u in waiting if self.try_defer(u, later)]
                    arrivals.setdefault(later, []).extend(moved)
                waiting = []
            if waiting:
                self.unstarted[number] = waiting
        for number, units in sorted(arrivals.items()):
            self.arrived(number, units)

    def try_start(self, u: _Unit) -> bool:
        host = self.host_of(u)
        starter = self.starter
        decision = self.campaign.check(u.unit.id, START, actor=starter, host=host)
        if not decision.allowed:
            # A dry run: a gate that has not held yet is not a refusal to audit. The next try:
            # tomorrow when a gate must be judged afresh; else the first day a date alone may
            # let it start; never (but the window's last day) when only facts would, since
            # nothing is recorded for a unit that has not started.
            tomorrow = self.today.toordinal() + 1
            if decision.rejudge:
                u.next_try = tomorrow
            elif decision.earliest is not None:
                u.next_try = max(tomorrow, decision.earliest.toordinal())
            else:
                u.next_try = date.max.toordinal()
            return False
        record = self.campaign.advance(u.unit.id, actor=starter, trigger=START, host=host)
        self.moved(u, record.dest)
        return True

    def try_defer(self, u: _Unit, later: int) -> bool:
        host = self.host_of(u)
        if not self.campaign.check(u.unit.id, "defer", actor=self.deferrer, host=host).allowed:
            return False
        self.campaign.defer(u.unit.id, actor=self.deferrer, to_batch=later, host=host)
        u.deferred = True
        return True

    # --- what happens on a transition ---------------------------------------------------

    def moved(self, u: _Unit, dest: str) -> None:
        previous = u.stage
        u.stage = dest
        u.token += 1
        u.waiting = False
        u.fallback = -1
        kind = self.kinds[dest]
        if kind == "final":
            u.done = True
            self.finished += 1
            return
        if kind == "waiting":
            return
        if kind == "remedial":
            self.at(randint(u.rng.random(), self.behaviour.remedial_days), u, "remedial_done")
            return
        back = self.kinds.get(previous) == "remedial" and self.remedial_of.get(previous) == dest
        span = self.behaviour.reassess_days if back else self.behaviour.days_for(dest)
        visit = draw_visit(self.behaviour, u.rng, span)
        needs = self.needs[dest]
        length = visit.length
        for spec in needs.custom:
            timing = self.behaviour.guards.get(spec.name)
            self.at(length if timing is None else timing.after_days, u, "recipe", spec)
        if needs.study:
            # The week's study counts once brought to retired and frail members' homes.
            self.at(7 + u.draws.home_delay, u, "study")
        members = u.unit.members
        names = [n for n in needs.milestones if (dest, n) not in u.recorded]
        for k, name in enumerate(names, start=1):
            self.at(math.ceil(length * k / len(names)), u, "milestone", name)
        half = math.ceil(length / 2)
        for name in needs.coverage:
            have = u.recorded.get((dest, name))
            if have == members:
                continue
            if have is None and u.draws.mobile > 0:
                self.at(half, u, "coverage", (name, members - u.draws.mobile))
                self.at(half + visit.makeup_delay, u, "coverage", (name, members))
            else:
                self.at(half, u, "coverage", (name, members))
        if needs.survey:
            self.at(
                length,
                u,
                "survey",
                (back, visit.u_troubled, visit.u_dissatisfied, visit.approval_delay),
            )
        elif needs.approvals:
            self.at(length + visit.approval_delay, u, "approve")
        else:
            self.at(length, u, "apply")

    # --- actions ------------------------------------------------------------------------

    def do_study(self, u: _Unit, _: Any) -> None:
        draws = u.draws
        rest = draws.hours_per_week - draws.guided_hours
        if draws.guided_hours > 0:
            self.campaign.record(
                u.unit.id, StudySession(hours=draws.guided_hours, guided=True), actor=u.clerk
            )
        if rest > 0:
            self.campaign.record(u.unit.id, StudySession(hours=rest, guided=False), actor=u.clerk)
        self.at(7, u, "study")
        self.after_fact(u)

    def do_milestone(self, u: _Unit, name: str) -> None:
        self.campaign.record(u.unit.id, Milestone(name=name), actor=u.clerk)
        u.recorded[(u.stage, name)] = 1
        self.after_fact(u)

    def do_coverage(self, u: _Unit, arg: tuple[str, int]) -> None:
        name, done = arg
        total = u.unit.members
        self.campaign.record(
            u.unit.id, Milestone(name=name, done=max(0, done), total=total), actor=u.clerk
        )
        u.recorded[(u.stage, name)] = done
        self.after_fact(u)

    def do_survey(self, u: _Unit, arg: tuple[bool, float, float, int]) -> None:
        back, u_troubled, u_dissatisfied, delay = arg
        survey = survey_for(
            self.behaviour.survey, u.unit.members, u_troubled, u_dissatisfied, retry=back
        )
        self.campaign.record(u.unit.id, survey, actor=SUPERIOR)
        # A failed assessment: the supervision group orders make-up (补课) at once.
        host = self.host_of(u)
        # No host data yet for a host-reading gate (its recipe not played): not allowed yet.
        ready = host is not None or not self.reads_host(u)
        if ready and self.campaign.check(u.unit.id, actor=u.clerk, host=host).allowed:
            self.apply(u)
        elif self.needs[u.stage].approvals:
            self.at(delay, u, "approve")
        else:
            self.apply(u)

    def do_recipe(self, u: _Unit, spec: GuardSpec) -> None:
        """Record the passing recipe of a custom gate: its facts, each by who may record it.

        The recipe's host data (``Recipe.host``) is merged into the unit's, which every later
        command judging the unit's gates passes per call (``host=``).
        """
        if self.play_recipe(u, spec):
            self.after_fact(u)

    def play_recipe(self, u: _Unit, spec: GuardSpec) -> bool:
        """Record ``spec``'s passing recipe for ``u``; False when it has none."""
        found = self.registry.recipe_for(spec, True)
        if found is None:
            return False
        if found.host is not None:
            u.host = merge_host(u.host, found.host)
        for fact in found.facts:
            if isinstance(fact, Approval):
                actor = self._outsider(fact.role)
                self.campaign.approve(
                    u.unit.id, actor=actor, role=fact.role, decision=fact.decision
                )
                continue
            kind = self.campaign.fact_types.name_of(fact)
            role = self.workflow.fact_roles.get(kind) or self.campaign.fact_types.role_for(kind)
            actor = u.clerk if role is None else self._outsider(role)
            self.campaign.record(u.unit.id, fact, actor=actor)
        return True

    def _outsider(self, role: str) -> Actor:
        actor = self.recipe_actors.get(role)
        if actor is None:
            actor = self.recipe_actors[role] = Actor(id=role, roles=frozenset({role}))
        return actor

    def do_approve(self, u: _Unit, _: Any) -> None:
        for role in self.needs[u.stage].approvals:
            actor = self.approvers.get(role)
            if actor is None:
                actor = self.approvers[role] = Actor(id=role, roles=frozenset({role}))
            self.campaign.approve(u.unit.id, actor=actor, role=role)
        self.apply(u)

    def do_remedial_done(self, u: _Unit, _: Any) -> None:
        for spec in self.needs[u.stage].custom:
            self.play_recipe(u, spec)
        for name in self.needs[u.stage].milestones:
            self.campaign.record(u.unit.id, Milestone(name=name), actor=u.clerk)
        self.apply(u)

    def do_apply(self, u: _Unit, _: Any) -> None:
        if self.today.toordinal() == u.fallback:
            u.fallback = -1
        self.apply(u)

    def after_fact(self, u: _Unit) -> None:
        if u.waiting:
            self.apply(u)

    def apply(self, u: _Unit) -> None:
        """The unit files its application to move on (转段申请); a refusal is audited.

        A host-reading gate before the unit has any host data (its recipe not yet played)
        is not filed: the unit waits for the next fact, as after a refusal.
        """
        host = self.host_of(u)
        if host is None and self.reads_host(u):
            u.waiting = True
            return
        try:
            record = self.campaign.advance(u.unit.id, actor=u.clerk, host=host)
        except TransitionRejected as refused:
            failures = refused.decision.failures()
            if failures and all(f.code in TIME_CODES for f in failures):
                wait = max(
                    _int(f.params.get("required")) - _int(f.params.get("actual")) for f in failures
                )
                u.waiting = False
                self.at(wait, u, "apply")
                return
            u.waiting = True
            if u.fallback <= self.today.toordinal():
                u.fallback = self.today.toordinal() + RETRY_DAYS
                self.at(RETRY_DAYS, u, "apply")
            return
        self.moved(u, record.dest)

    def reads_host(self, u: _Unit) -> bool:
        """Whether a way out of the unit's stage reads host data (``reads_host=True``)."""
        found = self.stage_reads_host.get(u.stage)
        if found is None:
            found = any(c.host_guards for c in self.workflow.candidates(u.stage, "advance"))
            self.stage_reads_host[u.stage] = found
        return found


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def simulate_exact(
    scenario: Scenario,
    *,
    seed: int | None = None,
    store: str | Store | None = None,
    progress: ProgressCallback | None = None,
    campaign_id: str | None = None,
    host: Any = None,
) -> tuple[SimulationResult, Campaign]:
    """Run ``scenario`` through a real campaign; returns the result and the campaign.

    ``store``: None (memory), a URL or a :class:`~campaignflow.store.Store`. A SQLite URL
    naming a new (missing or empty) file: the run plays on a memory store and writes the
    file once, at the end, in one transaction; an existing database is written through one
    connection that commits once per simulated day. The campaign id is
    the scenario's name unless given; the store must not already hold units of it.
    ``host``: the campaign's host data (``Campaign(host=...)``) for host-reading gates
    (default: what the scenario's ``host = "module:callable"`` builds, if it names one); the
    host data of the recipes played for a unit is merged into it and passed per call.

    Raises:
        ValidationError: the scenario's workflow or roster does not fit, or the store already
            holds the campaign.
    """
    seed = scenario.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        refuse("seed", seed, "must be a whole number from 0 to 2**63 - 1")
    if seed != scenario.seed:
        # The roster's member counts are seeded too: the run is the scenario with this seed.
        scenario = attrs.evolve(scenario, seed=seed)
    workflow = scenario.load_workflow()
    check_fits(scenario, workflow)
    if host is None:
        host = scenario.make_host()
    units = scenario.units()
    cid = campaign_id or scenario.name
    target = open_target(store, cid)
    clock = SimulatedClock(scenario.start)
    try:
        campaign = Campaign(workflow, target.store, clock=clock, campaign_id=cid, host=host)
        if campaign.units():
            raise ValidationError(code="simulation.store_not_empty", params={"campaign": repr(cid)})
        campaign.add_units(units)
        target.commit()
        sim = _Simulator(scenario, workflow, campaign, clock, units, seed, host)
        end = sim.run(progress, target.commit)
        with target.records(campaign.audit_trail()) as records:
            result = _summarise(
                campaign,
                records,
                scenario_name=scenario.name,
                seed=seed,
                mode="exact",
                start=scenario.start,
                end=end,
            )
        target.finish(tuple(s.id for s in workflow.stages))
    finally:
        target.close()
    if target.store is not store and store is not None:
        # The run's store is closed: hand back the campaign on the database itself.
        campaign = Campaign(workflow, store, clock=clock, campaign_id=cid, host=host)
    return result, campaign
