"""Every argument of every public Campaign call, fuzzed on memory, SQLite and PostgreSQL.

The second half of the bad-input suite (``test_bad_input.py`` breaks facts, definitions and
the commands' known arguments on purpose; this module throws anything at everything): each
call of ``Campaign`` — the constructor, commands, reads, the overview, adoption, audit
operations and the workers' ``due_units`` / ``advance_due`` — gets valid values for most of
its arguments and anything at all (wrong types, huge and negative numbers, NaN, lone
surrogates, NUL, a megabyte of text, extreme dates, foreign objects, other records) for one
or more of them. Whatever happens:

- only the documented error tree escapes (``CampaignflowError`` and its subclasses);
- a ``ValidationError`` (``UnknownUnit`` included) leaves the store exactly as it was: the
  dump of every table the campaign owns is byte-identical before and after;
- a ``NotAuthorized`` or ``TransitionRejected`` adds only its audited denial (the chain
  still verifies); any other error (a database driver's complaint, which should have been
  a ``ValidationError``) fails; a call that succeeds may change the store (the next call
  compares with the new state).

The full-size run (slow; ``CF_FUZZ_CALLS`` per store, 3,400 by default: 10,200 calls over the
three stores) prints the figure CI quotes: calls per store, exceptions outside the tree, and
store changes after a refusal — both 0 or the test fails.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.audit import Checkpoint
from tests.store.conftest import BACKENDS, StoreFactory
from tests.store.helpers import INSPECTOR, LEADER, START, SUPERIOR, clerk_of
from tests.store.test_bad_input import UNIT_IDS, checksum_of, profile

#: Calls per store in the full-size (slow) run: 3 stores x 3,400 = 10,200 calls.
FUZZ_CALLS = int(os.environ.get("CF_FUZZ_CALLS", "3400"))
MEGABYTE = "x" * 1_000_000


@attrs.frozen
class Shout:
    """A fact type of the host's own (registered below): the fuzz records it too."""

    words: str


FACT_TYPES = cf.FactTypes()
for _name, _cls in (
    ("study_session", cf.StudySession),
    ("survey", cf.Survey),
    ("milestone", cf.Milestone),
    ("approval", cf.Approval),
    ("shout", Shout),
):
    FACT_TYPES.register(_name, _cls)


@attrs.frozen
class Unregistered:
    """A record no registry knows."""

    x: int = 1


# --- anything at all ----------------------------------------------------------------------

_weird_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "u\x001",
        "\ud800",
        "a\udc80b",
        "\u202eevil",
        "'; DROP TABLE cf_audit; --",
        "🙂" * 50,
        "x" * 201,
        MEGABYTE,
        "u1",
        "advance",
        "defer",
        "start",
        "leading_group",
        "preparation",
    ]
)

anything: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63, 2**63 - 1, -(2**63), 10**400]),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308]),
    st.text(max_size=20),
    _weird_text,
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.text(max_size=3)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.frozensets(st.text(max_size=3), max_size=2),
    st.sampled_from([date.min, date.max, date(2005, 1, 10), date(9999, 12, 31)]),
    st.sampled_from(
        [datetime(2005, 1, 10), datetime(2005, 1, 10, tzinfo=UTC), datetime.max, datetime.min]
    ),
    st.sampled_from(
        [
            cf.SYSTEM,
            cf.Actor(id="anon"),
            cf.Actor(id="x", roles={"leading_group", "records_office"}),
            INSPECTOR,
            cf.Unit(id="u9", name="n", kind="organ", batch=1),
            cf.Organisation(id="o9", name="n", level="district"),
            Checkpoint(seq=1, hash="0" * 64),
            Checkpoint(seq=-5, hash="nope"),
            cf.Milestone("summing_up"),
            cf.StudySession(hours=2),
            Shout("hello"),
            Unregistered(),
            cf.presets.district_2005(),
            cf.presets.no_stages_2019(),
            cf.Actor,
            object,
            len,
        ]
    ),
    st.builds(object),
    st.builds(io.StringIO),
    st.builds(io.BytesIO),
)


# --- each public call: a valid value and anything, per argument -----------------------------

V = st.sampled_from
unit_ids = V(list(UNIT_IDS))
actors = V([clerk_of("u1"), clerk_of("u2"), INSPECTOR, LEADER, SUPERIOR, cf.SYSTEM])
request_ids = st.one_of(st.none(), st.integers(0, 10**6).map(lambda n: f"fz-{n}"))
batches = V([None, 1, 2, 3])
triggers = V(["advance", "start"])
hosts = V([None, {"roster": 30}])
new_units = st.integers(0, 10**6).map(
    lambda n: [cf.Unit(id=f"fz-{n}", name="新支部", kind="organ", batch=1)]
)
new_orgs = st.integers(0, 10**6).map(
    lambda n: [cf.Organisation(id=f"org-{n}", name="区委", level="district")]
)
facts = V([cf.Milestone("implementation_plan"), cf.StudySession(hours=1), Shout("hi")])

#: method -> {argument: valid values}; positional arguments come first, as many as named.
CALLS: dict[str, tuple[int, dict[str, st.SearchStrategy[Any]]]] = {
    "add_units": (1, {"units": new_units, "actor": actors, "request_id": request_ids}),
    "unit": (1, {"unit_id": unit_ids}),
    "state": (1, {"unit_id": unit_ids}),
    "units": (0, {"batch": batches}),
    "history": (1, {"unit_id": unit_ids}),
    "facts": (2, {"unit_id": unit_ids, "stage": V([None, "preparation"])}),
    "record": (2, {"unit_id": unit_ids, "fact": facts, "actor": actors, "request_id": request_ids}),
    "approve": (
        1,
        {
            "unit_id": unit_ids,
            "actor": actors,
            "role": V([None, "supervision_group"]),
            "decision": V(["approved", "rejected"]),
            "comment": V(["", "同意"]),
            "request_id": request_ids,
        },
    ),
    "check": (2, {"unit_id": unit_ids, "trigger": triggers, "actor": actors, "host": hosts}),
    "advance": (
        1,
        {
            "unit_id": unit_ids,
            "actor": actors,
            "request_id": request_ids,
            "trigger": triggers,
            "host": hosts,
        },
    ),
    "defer": (
        1,
        {
            "unit_id": unit_ids,
            "actor": actors,
            "to_batch": V([None, 2, 3]),
            "request_id": request_ids,
            "host": hosts,
        },
    ),
    "start_batch": (
        2,
        {"batch": V([1, 2]), "on": V([None, START]), "actor": actors, "host": hosts},
    ),
    "advance_all": (0, {"batch": batches, "actor": actors, "trigger": triggers, "host": hosts}),
    "progress": (
        0,
        {
            "batch": batches,
            "top": V([1, 10]),
            "under": V([None, "district"]),
            "depth": V([None, 1]),
            "host": hosts,
        },
    ),
    "add_organisations": (
        0,
        {"organisations": new_orgs, "actor": actors, "request_id": request_ids},
    ),
    "organisations": (0, {"under": V([None, "district"])}),
    "stuck": (
        0,
        {
            "under": V([None, "district"]),
            "longer_than": V([None, 0, 30]),
            "batch": batches,
            "order_by": V(["days_in_stage", "refused", "added"]),
            "offset": V([0, 1]),
            "limit": V([None, 5]),
        },
    ),
    "backfill_overview": (0, {}),
    "workflow_versions": (0, {}),
    "workflow_of": (1, {"unit_id": unit_ids}),
    "adopt": (
        1,
        {
            "workflow": V([cf.presets.district_2005(satisfaction_rate=0.5)]),
            "policy": V(["pin", "migrate"]),
            "stage_map": V([None, {}]),
            "from_batch": V([None]),
            "dry_run": V([True]),
            "actor": actors,
            "request_id": request_ids,
        },
    ),
    "audit_trail": (1, {"unit_id": V([None, "u1"])}),
    "audit_checkpoint": (0, {}),
    "verify_audit": (0, {"checkpoints": V([(), [Checkpoint(seq=1, hash="0" * 64)]])}),
    "export_audit": (1, {"stream": st.builds(io.StringIO), "after_seq": V([None, 0, 3])}),
    "purge_audit": (0, {"older_than": V([date(2000, 1, 1)]), "retention_days": V([180, 365])}),
    "due_units": (0, {"batch": batches, "limit": V([1, 100]), "host": hosts}),
    "advance_due": (
        0,
        {
            "sweep": st.integers(0, 99).map(lambda n: f"sweep-{n}"),
            "batch": batches,
            "limit": V([1, 50]),
            "actor": actors,
            "trigger": triggers,
            "host": hosts,
        },
    ),
}
#: The constructor's arguments (the store is the test's own: a junk URL could name any file).
CONSTRUCTOR: dict[str, st.SearchStrategy[Any]] = {
    "workflow": V([cf.presets.district_2005()]),
    "clock": V([cf.FixedClock(START)]),
    "campaign_id": V(["fuzz-other"]),
    "fact_types": V([None, FACT_TYPES]),
    "host": hosts,
}


@attrs.frozen
class FuzzCall:
    """One public call: the method (``__init__`` for the constructor) and its arguments."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    junk: tuple[str, ...]

    def __repr__(self) -> str:
        shown = {k: (v if not (isinstance(v, str) and len(v) > 40) else f"<{len(v)} chars>")
                 for k, v in self.kwargs.items()}  # fmt: skip
        return f"{self.method}{self.args!r:.120} {shown!r:.300} (junk: {', '.join(self.junk)})"

    def run(self, camp: cf.Campaign, store: Any) -> Any:
        """Make the call (a lazy result is read to its end, so its errors surface)."""
        if self.method == "__init__":
            return cf.Campaign(*self.args, store=store, **self.kwargs)
        result = getattr(camp, self.method)(*self.args, **self.kwargs)
        return list(result) if self.method == "audit_trail" else result


@st.composite
def fuzz_call(draw: st.DrawFn) -> FuzzCall:
    """A public call with anything at all in one or more of its arguments (all, sometimes)."""
    method = draw(st.sampled_from([*sorted(CALLS), "__init__"]), label="method")
    positional, params = (1, CONSTRUCTOR) if method == "__init__" else CALLS[method]
    names = list(params)
    junk: set[str] = set()
    if names:
        junk = draw(st.sets(st.sampled_from(names), min_size=1, max_size=len(names)))
    values = [draw(anything if n in junk else params[n], label=n) for n in names]
    args = tuple(values[:positional])
    return FuzzCall(method, args, dict(zip(names[positional:], values[positional:], strict=True)),
                    tuple(sorted(junk)))  # fmt: skip


# --- the property -------------------------------------------------------------------------


@attrs.define
class Tally:
    """What the run saw: calls, refusals by kind, and the two figures that must stay 0."""

    calls: int = 0
    ok: int = 0
    refused: dict[str, int] = attrs.field(factory=dict)
    outside_tree: int = 0
    changed_after_refusal: int = 0
    fuzzed: set[tuple[str, str]] = attrs.field(factory=set)

    def line(self, kind: str) -> str:
        refusals = sum(self.refused.values())
        return (
            f"fuzz[{kind}]: {self.calls} calls over {len(self.fuzzed)} (call, argument) pairs "
            f"({self.ok} succeeded, {refusals} refused: "
            f"{dict(sorted(self.refused.items()))}); exceptions outside the tree: "
            f"{self.outside_tree}; store changes after a refusal: {self.changed_after_refusal}"
        )


def seeded(factory: StoreFactory) -> cf.Campaign:
    """test_bad_input's seeded campaign (u1 started, u2 in study, u3 waiting for batch 2),
    knowing the host's own fact type, with one of them recorded."""
    camp = cf.Campaign(
        cf.presets.district_2005(),
        store=factory.open(fact_types=FACT_TYPES),
        clock=cf.FixedClock(START),
        campaign_id=factory.campaign_id,
        fact_types=FACT_TYPES,
    )
    camp.add_units(
        [
            cf.Unit(id="u1", name="财政局支部", kind="organ", batch=1, members=30),
            cf.Unit(id="u2", name="教育局支部", kind="organ", batch=1, members=20),
            cf.Unit(id="u3", name="东村支部", kind="village", batch=2, members=41),
        ],
        request_id="seed-add",
    )
    camp.start_batch(1, actor=LEADER)
    for name in ("implementation_plan", "leading_group_established"):
        camp.record("u2", cf.Milestone(name), actor=clerk_of("u2"), request_id=f"seed-{name}")
    camp.advance("u2", actor=clerk_of("u2"), request_id="seed-move")
    camp.record("u2", cf.StudySession(hours=8, guided=True), actor=clerk_of("u2"))
    camp.record("u2", Shout("学习心得"), actor=clerk_of("u2"), request_id="seed-shout")
    camp.record(
        "u2", cf.Survey(satisfied=18, basically_satisfied=1, dissatisfied=1), actor=SUPERIOR
    )
    camp.approve("u2", actor=INSPECTOR, request_id="seed-approve")
    with pytest.raises(cf.TransitionRejected):
        camp.advance("u1", actor=clerk_of("u1"), request_id="seed-early")
    return camp


def fuzz(factory: StoreFactory, examples: int) -> Tally:
    """Run ``examples`` fuzzed calls on one seeded campaign of ``factory``'s store."""
    camp = seeded(factory)
    store = camp.store
    checksum: Callable[[], str] = checksum_of(factory, camp)
    tally = Tally()
    state = {"sum": checksum()}

    @profile(examples)
    @given(call=fuzz_call())
    def one(call: FuzzCall) -> None:
        tally.calls += 1
        tally.fuzzed.update((call.method, name) for name in call.junk)
        try:
            call.run(camp, store)
        except cf.ValidationError as exc:
            tally.refused[type(exc).__name__] = tally.refused.get(type(exc).__name__, 0) + 1
            if checksum() != state["sum"]:
                tally.changed_after_refusal += 1
                raise AssertionError(
                    f"{call!r} was refused ({exc.code}) but changed the store"
                ) from exc
        except (cf.NotAuthorized, cf.TransitionRejected) as exc:
            # Audited denials: the record of the refusal is the one change, and it chains.
            tally.refused[type(exc).__name__] = tally.refused.get(type(exc).__name__, 0) + 1
            state["sum"] = checksum()
        except cf.CampaignflowError as exc:
            # In the tree, but not a refusal of the arguments: a database driver's complaint
            # about text or numbers it cannot take (which must be a ValidationError), say.
            tally.refused[type(exc).__name__] = tally.refused.get(type(exc).__name__, 0) + 1
            raise AssertionError(f"{call!r} raised {exc.code}: {exc}") from exc
        except Exception as exc:
            tally.outside_tree += 1
            raise AssertionError(f"{call!r} raised {type(exc).__name__}: {exc!r:.300}") from exc
        else:
            tally.ok += 1
            state["sum"] = checksum()

    one()
    assert camp.verify_audit().ok
    return tally


@pytest.mark.sized(default=40)
@pytest.mark.parametrize("kind", BACKENDS)
def test_every_argument_of_every_public_call_raises_only_the_error_tree(
    kind: str, tmp_path: Path, size: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anything in any argument of any public call raises only CampaignflowError; a ValidationError changes nothing."""
    factory = StoreFactory(kind, tmp_path)
    try:
        tally = fuzz(factory, size or FUZZ_CALLS)
    finally:
        factory.close()
    with capsys.disabled():
        print("\n" + tally.line(kind))
    assert (tally.outside_tree, tally.changed_after_refusal) == (0, 0)
    assert tally.calls >= (size or FUZZ_CALLS)
    if size is None and FUZZ_CALLS >= 1000:  # every argument of every call had its junk
        every = {(m, a) for m, (_, params) in CALLS.items() for a in params}
        every |= {("__init__", a) for a in CONSTRUCTOR}
        assert every - tally.fuzzed == set()
