"""The crash harness's child: applies seeded random commands to a campaign until it is killed.

Run by path with ``sys.executable`` (it imports nothing from the test tree):

    python tests/store/crash_child.py STORE_URL CAMPAIGN_ID SEED DAY
    python tests/store/crash_child.py --zygote

``STORE_URL`` is ``sqlite:////abs/path.db`` or a PostgreSQL DSN; ``DAY`` (ISO date) is where
the child's ``FixedClock`` starts: the parent passes the last day the previous child reported,
so each child lives the next weeks of the campaign where the last one died. The child opens
the campaign (district_2005), prints ``ready``, then loops forever: it keeps a few unfinished
units in play (adding new ones idempotently, by request id) and applies one random command
through the public ``cf.Campaign`` API — record facts, approve, advance, defer, start_batch,
advance_all, a repeated request id; some refused, some invalid — moving the clock forward a
few hours each time, and after each command has returned prints one line::

    <step> <command> <outcome> <request_id or -> <the clock's day>

``outcome`` is ``ok`` (committed), ``denied`` (refused; the refusal is an audit record) or
``invalid`` (``ValidationError``: nothing written); ``repeat_<command>`` is a command of this
child sent again with its request id (it must return the first result and write nothing). A
line is printed only after the command returned, so every ``ok``/``denied`` request id printed
is committed. Anything else the campaign raises ends the child with a ``crash`` line and exit
status 3.

``--zygote`` is a fork server, so a kill cycle does not pay for starting Python and importing
campaignflow (~0.35 s): it imports everything, prints ``zygote``, then for each line
``run STORE_URL CAMPAIGN_ID SEED DAY`` on stdin forks a child that runs the loop above on the
same stdout, prints ``pid <pid>``, waits for the child to die and prints
``exit <pid> <status>`` (a negative status is the signal that killed it). It opens no database
itself, so each forked child starts with no connection, as a new process would.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import campaignflow as cf

with contextlib.suppress(ImportError):  # imported before forking, when the pg extra is there
    import psycopg  # noqa: F401

WORKFLOW = cf.presets.district_2005()
#: Unfinished units the child keeps in play; it adds a unit when fewer remain.
IN_PLAY = 8
FIRST_DAY = date(2005, 1, 1)
LAST_DAY = date(2006, 6, 30)

INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})
SUPERIOR = cf.Actor(id="county-org", roles={"superior_org"})
LEADER = cf.Actor(id="wang", roles={"leading_group"})

#: The evidence each stage's gates ask for (district_2005), plus make-up for remedial stages.
MILESTONES = {
    "preparation": ("implementation_plan", "leading_group_established"),
    "study_mobilization": (
        "mobilization_meeting",
        "advanced_standards_adopted",
        "transition_application",
    ),
    "analysis_review": (
        "opinions_solicited",
        "org_life_meeting",
        "democratic_appraisal",
        "feedback_published",
        "transition_application",
    ),
    "rectification": (
        "rectification_plan_reviewed",
        "rectification_plan_published",
        "rectification_plan_filed",
        "rectification_results_published",
        "transition_application",
    ),
    "closing": ("follow_up_review", "summing_up"),
}
KINDS = ("organ", "village", "enterprise", "school", "community")


def clerk_of(unit_id: str) -> cf.Actor:
    """The unit's own clerk: records its facts and asks to advance."""
    return cf.Actor(id=f"clerk-{unit_id}", roles={"branch_committee"}, unit=unit_id)


def emit(text: str) -> None:
    """One whole line on stdout in one write (atomic on a pipe; no buffer survives a kill)."""
    os.write(1, (text.replace("\n", " | ") + "\n").encode())


class Child:
    """One child's campaign, clock and seeded choices."""

    def __init__(self, url: str, campaign_id: str, seed: int, day: date) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.clock = cf.FixedClock(day)
        self.camp = cf.Campaign(WORKFLOW, store=url, clock=self.clock, campaign_id=campaign_id)
        self.step = 0
        #: Commands of this run that wrote (ok or denied) with a request id, to repeat.
        self.sent: list[tuple[str, str, Callable[[], object]]] = []

    def run(self) -> None:
        """Apply commands forever, one line each."""
        emit("ready")
        while True:
            self.step += 1
            self.tick()
            units = self.camp.units()
            playing = [(u, s) for u, s in units if not WORKFLOW.is_final(s.stage)]
            if len(playing) < IN_PLAY:
                command, rid, call = self.add(len(units))
            else:
                command, rid, call = self.choose(playing)
            outcome = self.apply(call)
            if rid is not None and outcome != "invalid" and not command.startswith("repeat"):
                self.sent.append((command, rid, call))
            emit(f"{self.step} {command} {outcome} {rid or '-'} {self.clock.now().date()}")

    def tick(self) -> None:
        moved = self.clock.now() + timedelta(hours=self.rng.randrange(0, 30))
        if moved.date() > LAST_DAY:
            # The campaign starts over (units keep their stages): a clock going back is
            # allowed, and it keeps every batch window coming round again.
            moved = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
        self.clock.set(moved)

    def open_batch(self) -> int:
        """The batch whose window holds today."""
        today = self.clock.now().date()
        return next(b.number for b in WORKFLOW.batches if b.opens <= today <= b.closes)

    def apply(self, call: Callable[[], object]) -> str:
        try:
            call()
        except (cf.TransitionRejected, cf.NotAuthorized):
            return "denied"
        except cf.ValidationError:
            return "invalid"
        return "ok"

    def rid(self) -> str:
        return f"s{self.seed}-{self.step}"

    def add(self, count: int) -> tuple[str, str | None, Callable[[], object]]:
        rng = self.rng
        units = [
            cf.Unit(
                id=f"u{count + i:04d}",
                name=f"党支部 {count + i}",
                kind=rng.choice(KINDS),
                batch=rng.randint(self.open_batch(), 3),
                members=rng.randint(5, 60),
            )
            for i in range(rng.randint(1, 2))
        ]
        # The request id is the first new unit's: a killed add repeated by the next child
        # with the same units is its replay, never a second add.
        rid = f"add-{units[0].id}-{len(units)}"
        return "add_units", rid, lambda: self.camp.add_units(units, request_id=rid)

    def choose(
        self, playing: list[tuple[cf.Unit, cf.UnitState]]
    ) -> tuple[str, str | None, Callable[[], object]]:
        rng, camp = self.rng, self.camp
        started = [(u, s) for u, s in playing if WORKFLOW.stage(s.stage).kind != "waiting"]
        unit, state = rng.choice(started if started and rng.random() < 0.85 else playing)
        uid, stage, rid = unit.id, state.stage, self.rid()
        clerk = clerk_of(uid)
        roll = rng.random()
        if roll < 0.05 and self.sent:
            command, first, call = rng.choice(self.sent)
            return f"repeat_{command}", first, call
        if roll < 0.30:
            names = MILESTONES.get(stage, ("remedial_completed",))
            fact: object = cf.Milestone(rng.choice(names))
            if stage == "analysis_review" and rng.random() < 0.4:
                total = unit.members or 1
                done = total if rng.random() < 0.8 else total // 2
                name = rng.choice(("heart_to_heart_talks", "party_spirit_report"))
                fact = cf.Milestone(name, done=done, total=total)
            return "record", rid, lambda: camp.record(uid, fact, actor=clerk, request_id=rid)
        if roll < 0.40:
            session = cf.StudySession(hours=rng.choice((4, 8, 16, 24)), guided=rng.random() < 0.6)
            return "record", rid, lambda: camp.record(uid, session, actor=clerk, request_id=rid)
        if roll < 0.50:
            unhappy = rng.random() < 0.15
            survey = cf.Survey(
                satisfied=5 if unhappy else 28,
                basically_satisfied=3,
                dissatisfied=20 if unhappy else 1,
            )
            # Now and then the unit's clerk files the survey: refused, it is the superior's.
            who = clerk if rng.random() < 0.1 else SUPERIOR
            return "record", rid, lambda: camp.record(uid, survey, actor=who, request_id=rid)
        if roll < 0.60:
            # Now and then an inspector from the unit itself: a unit never approves itself.
            who = INSPECTOR
            if rng.random() < 0.15:
                who = cf.Actor(id=f"insp-{uid}", roles={"supervision_group"}, unit=uid)
            return "approve", rid, lambda: camp.approve(uid, actor=who, request_id=rid)
        if roll < 0.85:
            return "advance", rid, lambda: camp.advance(uid, actor=clerk, request_id=rid)
        if roll < 0.91:
            # The leading group defers a late unit (one not yet past preparation) to a later
            # batch; the clerk may not (refused), and batch 4 does not exist (invalid).
            late = [(u, s) for u, s in playing if s.stage in ("pending", "preparation")]
            unit, state = rng.choice(late or playing)
            uid = unit.id
            who = LEADER if rng.random() < 0.85 else clerk_of(uid)
            to_batch = rng.randint(state.batch + 1, 3) if state.batch < 3 else 4
            if rng.random() < 0.1:
                to_batch = 4
            return (
                "defer",
                rid,
                lambda: camp.defer(uid, actor=who, to_batch=to_batch, request_id=rid),
            )
        if roll < 0.97:
            # Mostly the open batch; another one is refused by its window (no audit record).
            batch = self.open_batch() if rng.random() < 0.8 else rng.randint(1, 3)
            day = self.clock.now().date()
            return (
                "start_batch",
                None,
                lambda: camp.start_batch(
                    batch, on=day, actor=cf.Actor(id="leader", roles={"leading_group"})
                ),
            )
        return "advance_all", None, camp.advance_all


def child_main(url: str, campaign_id: str, seed: int, day: date) -> None:
    """Run one child until it is killed; an unexpected error ends it with status 3."""
    try:
        Child(url, campaign_id, seed, day).run()
    except BaseException:
        emit("crash " + traceback.format_exc())
        os._exit(3)


def zygote() -> None:
    """Fork a child per ``run`` line on stdin; report its pid and how it ended."""
    emit("zygote")
    for line in sys.stdin:
        command, *args = line.split()
        if command != "run":
            emit(f"crash unknown zygote command {line.strip()!r}")
            continue
        url, campaign_id, seed, day = args[0], args[1], int(args[2]), date.fromisoformat(args[3])
        pid = os.fork()
        if pid == 0:
            try:
                child_main(url, campaign_id, seed, day)
            finally:
                os._exit(3)
        emit(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        emit(f"exit {pid} {os.waitstatus_to_exitcode(status)}")


def main(argv: list[str]) -> None:
    """``--zygote``, or ``STORE_URL CAMPAIGN_ID SEED DAY`` for one child."""
    if argv == ["--zygote"]:
        zygote()
    elif len(argv) == 4:
        child_main(argv[0], argv[1], int(argv[2]), date.fromisoformat(argv[3]))
    else:
        emit(f"crash usage: crash_child.py (--zygote | STORE_URL CAMPAIGN_ID SEED DAY), got {argv}")
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
