"""Bad input: malformed facts, commands and workflow definitions are refused cleanly and write nothing.

Hypothesis generates (seeded, ``derandomize``) fact payloads for ``cf.fact_types.load``,
command calls on a seeded district campaign, and workflow dicts for ``Workflow.from_dict``,
each broken on purpose: wrong kinds, missing and extra keys, wrong types, negative numbers,
NaN and infinities, huge numbers, unicode junk (controls, marks, bidi, emoji, look-alikes),
bad unit ids, actors, request ids, batches and triggers. Each must raise ``ValidationError``
(``UnknownUnit`` included) or, for definitions, ``DefinitionError``; any other exception
fails. After every command the database checksum (every row of the campaign's tables) is
unchanged, on memory, SQLite and PostgreSQL.

``test_fuzz_calls.py`` goes further: anything at all in every argument of every public
``Campaign`` call, on the same seeded campaign and the same checksums.

The explicit cases at the end pin the bugs these properties found, one regression case each:
wrong types the converter used to coerce instead of refusing (``"false"`` → True, 2.9 → 2),
non-text unit ids and integers beyond 64 bits that reached the database driver, text a
database cannot store (lone surrogates everywhere, NUL on PostgreSQL), and argument checks
that let builtin exceptions escape.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.store import MemoryStore
from tests.store.conftest import BACKENDS, StoreFactory
from tests.store.helpers import INSPECTOR, LEADER, START, SUPERIOR, clerk_of

#: Examples per property: facts + workflows + commands on each backend (2,000 per backend).
FACT_EXAMPLES = 800
WORKFLOW_EXAMPLES = 700
COMMAND_EXAMPLES = 500


def profile(examples: int) -> settings:
    """Seeded and repeatable: the same examples on every run, no example database."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# --- junk ---------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

#: Text any store can hold: no lone surrogates, no NUL (those are the known bugs below).
junk_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\t\n",
            "None",
            "null",
            "NaN",
            "ＡＢＣ",  # full-width look-alikes
            "fin\u2011\u200b01",  # non-breaking hyphen, zero-width space
            "\u202eevil",  # right-to-left override
            "🙂🙂",
            "'; DELETE FROM cf_audit; --",
            "x" * 250,
            "中文单位",
        ]
    ),
)


def not_identifier(text: str) -> bool:
    """Whether ``text`` fails the id rule (letters, digits, '_', '-', '.'; 200 at most)."""
    return not _IDENTIFIER.match(text) or len(text) > 200


def fails(convert: Callable[[Any], Any], value: Any) -> bool:
    """Whether ``convert(value)`` raises, i.e. the converter cannot coerce ``value``."""
    try:
        convert(value)
    except (TypeError, ValueError, OverflowError):
        return True
    return False


containers = st.one_of(
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers())
)


# --- facts --------------------------------------------------------------------------------

VALID_FACTS: dict[str, dict[str, Any]] = {
    "study_session": {"hours": 4.0, "guided": True},
    "survey": {"satisfied": 28, "basically_satisfied": 3, "dissatisfied": 1},
    "milestone": {"name": "summing_up"},
    "approval": {"role": "supervision_group", "decision": "approved", "comment": ""},
}
REQUIRED = {
    "study_session": ("hours",),
    "survey": ("satisfied", "basically_satisfied", "dissatisfied"),
    "milestone": ("name",),
    "approval": ("role",),
}
INTS = {
    "survey": ("satisfied", "basically_satisfied", "dissatisfied", "fairly_satisfied", "ballots"),
    "milestone": ("done", "total"),
}
IDS = {"milestone": ("name",), "approval": ("role",)}
FACT_NAMES = cf.fact_types.names()
#: Which defects apply to each kind: 0 not a mapping, 1 bad kind, 2 missing key, 3 extra key,
#: 4 bad number, 5 bad id, 6 inconsistent counts, 7 inconsistent coverage, 8 bad decision.
FACT_DEFECTS = {
    "study_session": (0, 1, 2, 2, 3, 3, 4, 4, 4),
    "survey": (0, 1, 2, 2, 3, 3, 4, 4, 4, 6, 6),
    "milestone": (0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 7, 7),
    "approval": (0, 1, 2, 2, 3, 3, 5, 5, 8, 8),
}
FIELDS = {
    kind: {a.name for a in attrs.fields(cf.fact_types.class_of(kind))} for kind in VALID_FACTS
}


def bad_float() -> st.SearchStrategy[Any]:
    """Values no float field may take: negatives, NaN, infinities, too big, not numbers."""
    return st.one_of(
        st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
        st.integers(max_value=-1),
        st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -(10**400)]),
        st.none(),
        containers,
        junk_text.filter(lambda t: fails(float, t)),
    )


def bad_int(*, required: bool) -> st.SearchStrategy[Any]:
    """Values no count may take: negatives, NaN, infinities, not numbers (None if required)."""
    return st.one_of(
        st.integers(max_value=-1),
        st.sampled_from([math.nan, math.inf, -math.inf, -(10**30)]),
        containers,
        junk_text.filter(lambda t: fails(int, t)),
        *([st.none()] if required else []),
    )


def bad_id() -> st.SearchStrategy[Any]:
    """Values no id field may take: text breaking the id rule, numbers, containers."""
    return st.one_of(
        junk_text.filter(not_identifier),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        containers,
    )


@st.composite
def broken_fact(draw: st.DrawFn) -> Any:
    """A fact payload with one or more defects, each enough for the loader to refuse it."""
    kind = draw(st.sampled_from(sorted(VALID_FACTS)))
    data: dict[Any, Any] = {"kind": kind, **VALID_FACTS[kind]}
    for field in ("fairly_satisfied", "ballots") if kind == "survey" else ():
        if draw(st.booleans()):
            data[field] = None  # optional fields may be null: still valid
    # Field defects are listed twice: a wrong kind is found first and would hide them.
    defects = draw(st.lists(st.sampled_from(FACT_DEFECTS[kind]), min_size=1, max_size=3))
    for defect in defects:
        if defect == 0:
            return draw(st.one_of(st.none(), st.integers(), junk_text, containers))
        if defect == 1 and draw(st.booleans()):
            data.pop("kind", None)
        elif defect == 1:
            data["kind"] = draw(
                st.one_of(junk_text, st.integers(), containers).filter(
                    lambda k: str(k) not in FACT_NAMES
                )
            )
        elif defect == 2:
            data.pop(draw(st.sampled_from(REQUIRED[kind])), None)
        elif defect == 3:
            extra = draw(junk_text.filter(lambda k: k not in FIELDS[kind] and k != "kind"))
            data[extra] = draw(st.one_of(st.none(), st.integers(), junk_text))
        elif defect == 4 and kind == "study_session":
            data["hours"] = draw(bad_float())
        elif defect == 4:
            field = draw(st.sampled_from(INTS[kind]))
            value = draw(bad_int(required=field in REQUIRED[kind]))
            data[field] = value
            if kind == "milestone":  # done and total come together; the partner stays valid
                data["total" if field == "done" else "done"] = 3
        elif defect == 5:
            data[draw(st.sampled_from(IDS[kind]))] = draw(bad_id())
        elif defect == 6:
            zero = dict.fromkeys(REQUIRED["survey"], 0)
            data.update(draw(st.sampled_from([zero, {"ballots": 29}, {"ballots": 33}])))
        elif defect == 7:
            alone = draw(st.sampled_from(["done", "total", None]))
            if alone is None:
                data.update(done=4, total=3)
            else:  # one without the other
                data[alone] = 3
                data.pop("total" if alone == "done" else "done", None)
        elif defect == 8:
            data["decision"] = draw(
                st.one_of(
                    junk_text.filter(lambda d: d not in ("approved", "rejected")),
                    st.none(),
                    st.integers(),
                    containers,
                )
            )
    return data


@pytest.mark.sized(default=100)
@profile(FACT_EXAMPLES)
@given(payload=broken_fact())
def test_malformed_fact_payloads_raise_validation_error(payload: Any) -> None:
    """A fact payload with wrong kind, keys, types, signs, NaN/inf, huge numbers or junk text raises ValidationError."""
    with pytest.raises(cf.ValidationError):
        cf.fact_types.load(payload)


def test_the_fact_defects_start_from_valid_payloads() -> None:
    """The payloads the defects are applied to load as they are, so every refusal is the defect's doing."""
    for kind, data in VALID_FACTS.items():
        assert cf.fact_types.dump(cf.fact_types.load({"kind": kind, **data}))["kind"] == kind


# --- workflow definitions -----------------------------------------------------------------


def valid_workflow() -> dict[str, Any]:
    """A small definition using every part of the format: batches, roles, remedial, combinators."""
    return {
        "schema_version": 1,
        "name": "bad_input",
        "version": "1",
        "initial": "pending",
        "batches": [{"number": 1, "opens": "2005-01-01", "closes": "2005-06-30"}],
        "fact_roles": {"survey": "superior_org"},
        "stages": [
            {"id": "pending", "kind": "waiting"},
            {"id": "work", "title": "工作"},
            {"id": "work_remedial", "kind": "remedial", "remedial_of": "work"},
            {"id": "done", "kind": "final"},
        ],
        "transitions": [
            {
                "trigger": "start",
                "source": "pending",
                "dest": "work",
                "guards": [{"guard": "within_batch_window"}],
            },
            {
                "source": "work",
                "dest": "done",
                "by": ["branch_committee"],
                "guards": [
                    {"guard": "min_study_hours", "hours": 40},
                    {"guard": "min_days_in_stage", "days": 30},
                    {"guard": "milestones_done", "names": ["summing_up"]},
                    {
                        "all_of": [
                            {"guard": "approved_by", "role": "supervision_group"},
                            {"guard": "satisfaction_rate_at_least", "rate": 0.6},
                        ]
                    },
                ],
            },
            {
                "source": "work",
                "dest": "work_remedial",
                "guards": [{"guard": "survey_recorded"}],
                "unless": [{"guard": "satisfaction_rate_at_least", "rate": 0.6}],
            },
            {
                "source": "work_remedial",
                "dest": "work",
                "guards": [{"guard": "milestones_done", "names": ["remedial_completed"]}],
            },
        ],
    }


STAGE_IDS = ("pending", "work", "work_remedial", "done")
#: Every key the format knows at any level (an extra key must be none of them).
KNOWN_KEYS = frozenset(
    {"schema_version", "name", "version", "title", "title_en", "initial", "batches"}
    | {"fact_roles", "stages", "transitions", "id", "kind", "remedial_of", "source", "dest"}
    | {"trigger", "guards", "unless", "by", "number", "opens", "closes", "guard", "hours"}
)
GUARD_NAMES = cf.guards.registry.names() | {"all_of", "any_of", "not"}
TRIGGERS = ("start", "advance")
#: Where each guard of the working stage's way out sits, and values its param must refuse.
BAD_PARAMS: dict[tuple[int, str], st.SearchStrategy[Any]] = {
    (0, "hours"): st.one_of(
        st.floats(max_value=-1e-9),
        st.sampled_from([math.nan, math.inf, "40", None, [40], True]),
    ),
    (1, "days"): st.one_of(st.integers(max_value=-1), st.sampled_from([1.5, "30", None, math.nan])),
    (2, "names"): st.one_of(junk_text, st.integers(), st.sampled_from([None, [], [1, 2]])),
}


@st.composite
def broken_workflow(draw: st.DrawFn) -> Any:
    """A workflow definition with one or more defects, each enough to refuse it."""
    data = valid_workflow()
    stages, transitions = data["stages"], data["transitions"]
    way_out = transitions[1]
    defects = draw(st.lists(st.integers(0, 17), min_size=1, max_size=3))
    for defect in defects:
        if defect == 0:
            return draw(st.one_of(st.none(), st.integers(), junk_text, containers))
        if defect == 1:
            data.pop(draw(st.sampled_from(("name", "stages", "transitions"))), None)
        elif defect == 2:
            where = draw(st.sampled_from(["top", "stage", "transition", "batch", "guard"]))
            batches: Any = data.get("batches")
            if where == "batch" and not (isinstance(batches, list) and batches):
                where = "top"
            if where == "batch" and not isinstance(batches[0], dict):
                batches[0] = {"number": 1, "opens": "2005-01-01", "closes": "2005-06-30"}
            target = {
                "top": data,
                "stage": stages[0],
                "transition": transitions[0],
                "batch": batches[0] if isinstance(batches, list) and batches else {},
                "guard": way_out["guards"][0],
            }[where]
            target[draw(junk_text.filter(lambda k: k not in KNOWN_KEYS))] = 1
        elif defect == 3:
            key = draw(st.sampled_from(["stages", "transitions", "batches", "fact_roles"]))
            data[key] = draw(st.one_of(st.integers(), st.sampled_from([None, 1.5, {"a": 1}])))
        elif defect == 4:
            data[draw(st.sampled_from(["name", "version"]))] = draw(
                st.sampled_from(["", " ", "\t"])
            )
        elif defect == 5:
            data["schema_version"] = draw(st.sampled_from([0, 2, -1, "1", 1.0, True, None, 10**20]))
        elif defect == 6:
            stage = draw(st.sampled_from(stages))
            stage["id"] = draw(junk_text.filter(not_identifier))
        elif defect == 7:
            stages[2]["id"] = stages[1]["id"]  # a duplicate id
        elif defect == 8:
            stage = draw(st.sampled_from(stages))
            stage["kind"] = draw(
                st.one_of(junk_text, st.integers()).filter(
                    lambda k: str(k) not in ("waiting", "stage", "remedial", "final")
                )
            )
        elif defect == 9:
            stages[1]["remedial_of"] = "pending"  # only remedial stages make up another
        elif defect == 10:
            # (an empty initial means the first stage, as when it is left out)
            data["initial"] = draw(junk_text.filter(lambda s: s and s not in STAGE_IDS))
        elif defect == 11:
            end = draw(st.sampled_from(["source", "dest"]))
            transition = draw(st.sampled_from(transitions))
            transition[end] = draw(
                st.one_of(junk_text.filter(lambda s: s not in STAGE_IDS), st.just("done"))
                if end == "source"
                else junk_text.filter(lambda s: s not in STAGE_IDS)
            )
        elif defect == 12:
            transition = draw(st.sampled_from(transitions))
            transition["trigger"] = draw(
                st.one_of(
                    junk_text.filter(lambda t: not t.isidentifier()),
                    st.integers(),
                    st.sampled_from([[], ["advance"]]),
                )
            )
        elif defect == 13:
            unknown = junk_text.filter(lambda g: g not in GUARD_NAMES)
            way_out["guards"].append({"guard": draw(unknown)})
        elif defect == 14:
            (index, param), values = draw(st.sampled_from(sorted(BAD_PARAMS.items())))
            way_out["guards"][index][param] = draw(values)
        elif defect == 15:
            rate = draw(
                st.one_of(
                    st.floats(min_value=1.0 + 1e-9, allow_infinity=False),
                    st.floats(max_value=-1e-9, allow_infinity=False),
                    st.sampled_from([math.nan, "0.6", None]),
                )
            )
            children = way_out["guards"][3]["all_of"]
            if len(children) > 1:  # else an earlier defect emptied it: refused already
                children[1]["rate"] = rate
        elif defect == 16:
            data["batches"] = draw(
                st.sampled_from(
                    [
                        [{"number": 1, "opens": "2005-06-30", "closes": "2005-01-01"}],
                        [{"number": 1, "opens": "2005-13-01", "closes": "2005-06-30"}],
                        [{"number": 0, "opens": "2005-01-01", "closes": "2005-06-30"}],
                        [{"number": True, "opens": "2005-01-01", "closes": "2005-06-30"}],
                        [{"number": 1, "opens": "2005-01-01", "closes": "2005-06-30"}] * 2,
                        [{"number": 1, "opens": None, "closes": "2005-06-30"}],
                        [7],
                    ]
                )
            )
        else:
            change = draw(st.sampled_from(["no_final", "unreachable", "by", "empty_all_of"]))
            if change == "no_final":
                stages[3]["kind"] = "stage"  # nothing can finish, and done has no way out
            elif change == "unreachable":
                stages.append({"id": "island"})
            elif change == "by":
                way_out["by"] = draw(st.sampled_from([5, "branch_committee", [1], {"a": 1}]))
            else:
                way_out["guards"][3]["all_of"] = []
    return data


@pytest.mark.sized(default=100)
@profile(WORKFLOW_EXAMPLES)
@given(definition=broken_workflow())
def test_malformed_workflow_definitions_raise_definition_error(definition: Any) -> None:
    """A workflow dict with missing or extra keys, wrong types, bad ids, guards, params or batches raises DefinitionError."""
    with pytest.raises(cf.DefinitionError):
        cf.Workflow.from_dict(definition)


def test_the_workflow_defects_start_from_a_valid_definition() -> None:
    """The definition the defects are applied to loads as it is."""
    assert cf.Workflow.from_dict(valid_workflow()).name == "bad_input"


# --- commands -----------------------------------------------------------------------------

#: u1: started, in preparation; u2: in study and mobilisation (asks approval); u3: batch 2, waiting.
UNIT_IDS = ("u1", "u2", "u3")


def seeded_campaign(factory: StoreFactory) -> cf.Campaign:
    """A district campaign with three units, facts, an approval, a move and some denials."""
    camp = factory.campaign(cf.FixedClock(START))
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
    camp.record(
        "u2", cf.Survey(satisfied=18, basically_satisfied=1, dissatisfied=1), actor=SUPERIOR
    )
    camp.approve("u2", actor=INSPECTOR, request_id="seed-approve")
    with pytest.raises(cf.TransitionRejected):
        camp.advance("u1", actor=clerk_of("u1"), request_id="seed-early")
    return camp


def checksum_of(factory: StoreFactory, camp: cf.Campaign) -> Callable[[], str]:
    """A function hashing everything the campaign's store holds, read afresh each call.

    SQLite: ``iterdump()`` of a new read connection to the file; PostgreSQL: the campaign's
    rows of every ``cf_`` table in key order; memory: the store's whole state.
    """
    if factory.kind == "sqlite":

        def sqlite_sum() -> str:
            conn = sqlite3.connect(factory.path)
            try:
                return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
            finally:
                conn.close()

        return sqlite_sum
    if factory.kind == "postgres":
        import psycopg

        conn = psycopg.connect(factory.dsn, autocommit=True)
        factory._closers.append(conn.close)
        tables = {
            "cf_schema_version": ("component", None),
            "cf_campaigns": ("campaign_id", "campaign_id"),
            "cf_units": ("unit_id", "campaign_id"),
            "cf_states": ("unit_id", "campaign_id"),
            "cf_facts": ("unit_id, stage, n", "campaign_id"),
            "cf_audit": ("seq", "campaign_id"),
        }

        def pg_sum() -> str:
            digest = hashlib.sha256()
            for table, (order, scope) in tables.items():
                where = f" WHERE {scope} = %s" if scope else ""
                params = (factory.campaign_id,) if scope else ()
                rows = conn.execute(f"SELECT * FROM {table}{where} ORDER BY {order}", params)
                digest.update(repr((table, rows.fetchall())).encode())
            return digest.hexdigest()

        return pg_sum
    store = camp.store
    assert isinstance(store, MemoryStore)

    def memory_sum() -> str:
        state = {k: v for k, v in vars(store).items() if k != "_lock"}
        return hashlib.sha256(repr(state).encode()).hexdigest()

    return memory_sum


@attrs.frozen
class Call:
    """One command call with its arguments; ``bad`` names the arguments broken on purpose."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    bad: tuple[str, ...]

    def __call__(self, camp: cf.Campaign) -> Any:
        """Make the call on ``camp``."""
        return getattr(camp, self.method)(*self.args, **self.kwargs)


Arg = tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]  # (a valid value, a bad one)


@st.composite
def call(
    draw: st.DrawFn,
    method: str,
    params: dict[str, Arg],
    positional: int = 0,
    fixed: Callable[[], dict[str, Any]] = dict,
) -> Call:
    """A call of ``method`` with at least one bad argument, valid ones elsewhere, and ``fixed()``."""
    names = list(params)
    # Mostly one bad argument: several at once would mostly show the first one checked.
    one = st.sampled_from(names).map(lambda n: {n})
    several = st.sets(st.sampled_from(names), min_size=2) if len(names) > 1 else one
    bad = draw(st.one_of(one, one, several))
    values = [draw(params[n][1] if n in bad else params[n][0]) for n in names]
    args = tuple(values[:positional])
    kwargs = dict(zip(names[positional:], values[positional:], strict=True))
    return Call(method, args, {**fixed(), **kwargs}, tuple(sorted(bad)))


def not_actor() -> st.SearchStrategy[Any]:
    """Anything but an Actor (None included: only ``check`` may omit the actor)."""
    return st.one_of(
        st.none(),
        junk_text,
        st.integers(),
        st.just({"id": "zhang", "roles": ["supervision_group"]}),
        st.just(cf.Unit(id="u9", name="n", kind="organ", batch=1)),
        st.just(cf.Actor),
    )


def bad_request_id() -> st.SearchStrategy[Any]:
    """Request ids the rule refuses: not text, empty, spaces, over 200, unprintable."""
    return st.one_of(
        st.integers(),
        st.just(b"r-1"),
        containers,
        st.just(""),
        st.tuples(junk_text, st.sampled_from([" ", "\t", "\n", "\u3000"]), junk_text).map("".join),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=201, max_size=260),
        st.tuples(junk_text, st.sampled_from(["\x07", "\u200b", "\x7f"])).map("".join),
    )


def unknown_unit() -> st.SearchStrategy[str]:
    """Unit ids the campaign does not have (text; junk included)."""
    return junk_text.filter(lambda u: u not in UNIT_IDS)


def bad_unit_id() -> st.SearchStrategy[Any]:
    """Unit ids commands refuse: unknown text, or not text at all (hashable values)."""
    return st.one_of(
        unknown_unit(),
        st.integers(),
        st.floats(),
        st.sampled_from([None, b"u1", ("u1",), True]),
    )


def not_a_fact() -> st.SearchStrategy[Any]:
    """What ``record`` must refuse as a fact: plain data (even a well-formed payload), classes, units."""
    return st.one_of(
        broken_fact(),
        st.just({"kind": "milestone", "name": "summing_up"}),
        junk_text,
        st.integers(),
        st.none(),
        st.just(cf.Milestone),
        st.just(cf.Unit(id="u9", name="n", kind="organ", batch=1)),
    )


def some(value: Any) -> st.SearchStrategy[Any]:
    return st.just(value)


def int_not(*good: int, none_ok: bool = False) -> st.SearchStrategy[Any]:
    """Batch numbers refused: not whole numbers, booleans, and whole numbers outside ``good``.

    ``none_ok``: None is a good value here (``defer``'s ``to_batch=None`` means the next
    batch), so it is not drawn as a bad one.
    """
    return st.one_of(
        st.integers().filter(lambda b: b not in good),
        st.floats(),
        st.sampled_from([True, False, "1", "2"] + ([] if none_ok else [None])),
    )


def limits() -> st.SearchStrategy[Any]:
    """Limits refused: below 1, not whole numbers, booleans."""
    return st.one_of(
        st.integers(max_value=0), st.floats(), st.sampled_from([True, "10", None, [5]])
    )


VALID_RID = st.sampled_from([None, "hyp-request"])
UNIT = cf.Unit(id="u-new", name="新支部", kind="organ", batch=1)


def bad_calls() -> st.SearchStrategy[Call]:
    """A call of any command with at least one malformed argument."""
    triggers = {"advance", "defer", "start"}
    return st.one_of(
        call(
            "record",
            {
                "unit_id": (some("u1"), bad_unit_id()),
                "fact": (some(cf.Milestone("hyp_evidence")), not_a_fact()),
                "actor": (some(clerk_of("u1")), not_actor()),
                "request_id": (VALID_RID, bad_request_id()),
            },
            positional=2,
        ),
        call(
            "approve",
            {
                "unit_id": (some("u2"), bad_unit_id()),
                "actor": (some(INSPECTOR), not_actor()),
                "role": (
                    st.sampled_from([None, "supervision_group"]),
                    st.one_of(junk_text.filter(lambda r: r != "supervision_group"), st.integers()),
                ),
                "request_id": (VALID_RID, bad_request_id()),
            },
            positional=1,
        ),
        call(
            "advance",
            {
                "unit_id": (some("u1"), bad_unit_id()),
                "actor": (some(clerk_of("u1")), not_actor()),
                "request_id": (VALID_RID, bad_request_id()),
                "trigger": (
                    some("advance"),
                    st.one_of(
                        junk_text.filter(lambda t: t not in triggers),
                        st.integers(),
                        st.sampled_from([None, b"advance"]),
                    ),
                ),
            },
            positional=1,
        ),
        call(
            "defer",
            {
                "unit_id": (some("u1"), bad_unit_id()),
                "actor": (some(LEADER), not_actor()),
                "to_batch": (st.sampled_from([None, 2, 3]), int_not(0, 2, 3, none_ok=True)),
                "request_id": (VALID_RID, bad_request_id()),
            },
            positional=1,
        ),
        call(
            "start_batch",
            {
                "batch": (some(2), int_not(1, 2, 3)),
                "on": (
                    st.sampled_from([None, START]),
                    st.one_of(
                        st.sampled_from([datetime(2005, 7, 1), "2005-07-01", 20050701]),
                        st.integers(),
                    ),
                ),
                "actor": (some(LEADER), not_actor()),
            },
            positional=1,
        ),
        call(
            "add_units",
            {
                "units": (
                    some([UNIT]),
                    st.one_of(
                        st.lists(
                            st.one_of(st.none(), st.integers(), junk_text, st.just({"id": "x"})),
                            min_size=1,
                            max_size=3,
                        ).map(lambda junk: [UNIT, *junk]),
                        st.just([UNIT, UNIT]),
                        st.sampled_from(UNIT_IDS).map(
                            lambda u: [cf.Unit(id=u, name="重复", kind="organ", batch=1)]
                        ),
                        # a batch the workflow lacks (Unit itself refuses beyond 64 bits)
                        st.integers(min_value=4, max_value=2**63 - 1).map(
                            lambda b: [cf.Unit(id="u-late", name="n", kind="organ", batch=b)]
                        ),
                        junk_text.filter(bool),
                    ),
                ),
                "actor": (some(cf.SYSTEM), not_actor()),
                "request_id": (VALID_RID, bad_request_id()),
            },
            positional=1,
        ),
        call(
            "check",
            {
                "unit_id": (some("u1"), bad_unit_id()),
                "actor": (some(None), not_actor().filter(lambda a: a is not None)),
            },
            positional=1,
        ),
        st.builds(
            lambda method, unit: Call(method, (unit,), {}, ("unit_id",)),
            st.sampled_from(["state", "unit", "history", "facts"]),
            unknown_unit(),
        ),
        call(
            "facts",
            {
                "unit_id": (some("u2"), unknown_unit()),
                "stage": (
                    st.sampled_from([None, "preparation"]),
                    st.one_of(
                        junk_text.filter(lambda s: not cf.presets.district_2005().has_stage(s)),
                        st.integers(),
                    ),
                ),
            },
            positional=1,
        ),
        call(
            "advance_all",
            {
                "batch": (
                    st.sampled_from([None, 1]),
                    st.one_of(st.floats(), st.sampled_from([True, "1"])),
                ),
                "actor": (some(cf.SYSTEM), not_actor()),
            },
        ),
        call(
            "advance_due",
            {
                "sweep": (
                    some("hyp-sweep"),
                    st.one_of(st.integers(), st.sampled_from(["", None, b"s", ["s"]])),
                ),
                "limit": (some(10), limits()),
                "actor": (some(cf.SYSTEM), not_actor()),
            },
        ),
        call("due_units", {"limit": (some(10), limits())}),
        call(
            "export_audit",
            {
                "after_seq": (
                    some(None),
                    st.one_of(st.integers(max_value=-1), st.floats(), st.sampled_from(["1", [1]])),
                ),
            },
            fixed=lambda: {"stream": io.StringIO()},
        ),
        call(
            "purge_audit",
            {
                "older_than": (
                    some(date(2000, 1, 1)),
                    st.one_of(
                        st.dates(min_value=date(2004, 7, 15)),  # inside the retention period
                        st.sampled_from([datetime(2000, 1, 1), "2000-01-01", 2000, None]),
                    ),
                ),
                "retention_days": (some(180), st.integers(max_value=179)),
            },
        ),
    )


@pytest.mark.sized(default=100)
@pytest.mark.parametrize("kind", BACKENDS)
def test_malformed_commands_raise_validation_error_and_write_nothing(
    kind: str, tmp_path: Path, size: int | None
) -> None:
    """Commands with bad unit ids, actors, request ids, facts, batches, triggers or limits raise ValidationError; the database checksum never changes."""
    factory = StoreFactory(kind, tmp_path)
    try:
        camp = seeded_campaign(factory)
        checksum = checksum_of(factory, camp)
        before = checksum()

        @profile(size or COMMAND_EXAMPLES)
        @given(bad=bad_calls())
        def refused(bad: Call) -> None:
            with pytest.raises(cf.ValidationError):
                bad(camp)
            assert checksum() == before, f"{bad} changed the database"

        refused()
        assert camp.verify_audit().ok
    finally:
        factory.close()


# --- regression cases: each bug the properties found, and the backends it showed on ---------


@attrs.frozen
class Case:
    """One malformed command: the call, and the backends on which it used to misbehave.

    ``clean``: the call may also succeed (the input is odd but storable); otherwise it must
    raise ValidationError. Either way nothing but a ValidationError may escape, and a refused
    call leaves the database as it was.
    """

    name: str
    run: Callable[[cf.Campaign], Any]
    found_on: tuple[str, ...]
    reason: str
    clean: bool = False


_NON_TEXT = "fixed: non-text unit ids reach the database driver unchecked"
_BIG = "fixed: integers beyond 64 bits reach the database driver unchecked"
_SURROGATE = "fixed: lone surrogates are not refused; encoding them fails (UnicodeEncodeError)"
_NUL = "fixed: NUL in text is not refused; PostgreSQL cannot store it (CampaignflowError)"
_COERCED = "fixed: the converter coerces a wrongly typed value instead of refusing it"
_SURROGATE_NAME = (
    "fixed: a lone surrogate in the workflow's name or version is accepted; content_hash, "
    "and so Campaign(workflow), then raise UnicodeEncodeError"
)
_ARGS = "fixed: an argument check lets a builtin exception escape (or accepts the value)"
_RAW = "fixed (issue 17): a builtin exception escaped"
ALL = BACKENDS

COMMAND_BUGS = (
    Case("state(5)", lambda c: c.state(5), ("postgres",), _NON_TEXT),
    Case("history(5)", lambda c: c.history(5), ("postgres",), _NON_TEXT),
    Case("unit(1.5)", lambda c: c.unit(1.5), ("postgres",), _NON_TEXT),
    Case("facts(b'u1')", lambda c: c.facts(b"u1"), ("postgres",), _NON_TEXT),
    Case("state(('u1',))", lambda c: c.state(("u1",)), ("sqlite",), _NON_TEXT),
    Case("state(['u1'])", lambda c: c.state(["u1"]), ("memory", "sqlite"), _NON_TEXT),
    Case("history({})", lambda c: c.history({}), ALL, _NON_TEXT),
    Case("state(2**70)", lambda c: c.state(2**70), ("sqlite", "postgres"), _BIG),
    Case(
        "add_units(members=2**63)",
        lambda c: c.add_units([cf.Unit(id="u9", name="n", kind="organ", batch=1, members=2**63)]),
        ALL,
        _BIG + " (memory keeps a member count no database column can hold)",
    ),
    Case("due_units(batch=2**70)", lambda c: c.due_units(batch=2**70), ("sqlite",), _BIG, True),
    Case("advance_all(batch=2**70)", lambda c: c.advance_all(batch=2**70), ("sqlite",), _BIG, True),
    Case(
        "advance_due(limit=2**70)",
        lambda c: c.advance_due(sweep="s", limit=2**70),
        ("sqlite", "postgres"),
        _BIG,
        True,
    ),
    Case("state('\\ud800')", lambda c: c.state("\ud800"), ("sqlite", "postgres"), _SURROGATE),
    Case(
        "advance('\\ud800')",
        lambda c: c.advance("\ud800", actor=clerk_of("u1")),
        ("sqlite", "postgres"),
        _SURROGATE,
    ),
    Case(
        "add_units(name='\\ud800')",
        lambda c: c.add_units([cf.Unit(id="u9", name="\ud800", kind="organ", batch=1)]),
        ALL,
        _SURROGATE,
    ),
    Case(
        "approve(comment='\\ud800')",
        lambda c: c.approve("u2", actor=INSPECTOR, comment="\ud800"),
        ALL,
        _SURROGATE,
    ),
    Case("state('u\\x001')", lambda c: c.state("u\x001"), ("postgres",), _NUL),
    Case(
        "add_units(name='a\\x00')",
        lambda c: c.add_units([cf.Unit(id="u9", name="支部\x00", kind="organ", batch=1)]),
        ("postgres",),
        _NUL,
        True,
    ),
    Case(
        "approve(decision='maybe')",
        lambda c: c.approve("u2", actor=INSPECTOR, decision="maybe"),
        ALL,
        _ARGS,
    ),
    Case("approve(comment=5)", lambda c: c.approve("u2", actor=INSPECTOR, comment=5), ALL, _ARGS),
    Case("approve(role=['x'])", lambda c: c.approve("u2", actor=INSPECTOR, role=["x"]), ALL, _ARGS),
    Case("add_units(5)", lambda c: c.add_units(5), ALL, _ARGS),
    Case("add_units(None)", lambda c: c.add_units(None), ALL, _ARGS),
    Case("check(trigger=5)", lambda c: c.check("u1", trigger=5), ALL, _ARGS),
    Case("check(trigger=['x'])", lambda c: c.check("u1", trigger=["x"]), ALL, _ARGS),
    Case("advance_all(trigger=5)", lambda c: c.advance_all(trigger=5), ALL, _ARGS),
    Case("due_units(batch='x')", lambda c: c.due_units(batch="x"), ALL, _ARGS),
    Case("progress(top='x')", lambda c: c.progress(top="x"), ALL, _ARGS),
    Case(
        "purge_audit(retention_days='x')",
        lambda c: c.purge_audit(older_than=date(2000, 1, 1), retention_days="x"),
        ALL,
        _ARGS,
    ),
    Case("verify_audit(checkpoints=[5])", lambda c: c.verify_audit(checkpoints=[5]), ALL, _ARGS),
    # The five raw exceptions of issue 17, and the arguments advance_due did not check.
    Case(
        "purge_audit(retention_days=2**62)",
        lambda c: c.purge_audit(older_than=date(2000, 1, 1), retention_days=2**62),
        ALL,
        _RAW + " (OverflowError)",
    ),
    Case(
        "purge_audit(retention_days=days since date.min + 1)",
        lambda c: c.purge_audit(older_than=date.min, retention_days=START.toordinal()),
        ALL,
        _RAW + " (OverflowError)",
    ),
    Case("facts(stage=[])", lambda c: c.facts("u1", stage=[]), ALL, _RAW + " (TypeError)"),
    Case(
        "advance_due(trigger=[])",
        lambda c: c.advance_due(sweep="s", trigger=[]),
        ALL,
        _RAW + " (TypeError)",
    ),
    Case(
        "advance_due(sweep='\\ud800')",
        lambda c: c.advance_due(sweep="\ud800"),
        ALL,
        _RAW + " (UnicodeEncodeError)",
    ),
    Case(
        "export_audit(stream=None)",
        lambda c: c.export_audit(None),
        ALL,
        _RAW + " (AttributeError)",
    ),
    Case(
        "export_audit(BytesIO)",
        lambda c: c.export_audit(io.BytesIO()),
        ALL,
        _RAW + " (TypeError on the first line written)",
    ),
    Case(
        "advance_due(sweep='s\\x00')", lambda c: c.advance_due(sweep="s\x00"), ("postgres",), _NUL
    ),
    Case(
        "advance_due(sweep=1 MB)",
        lambda c: c.advance_due(sweep="s" * 1_000_000),
        ("postgres",),
        "fixed: a 1 MB sweep name reached PostgreSQL's index (a bare CampaignflowError)",
    ),
    Case(
        "advance_due(trigger='defer')",
        lambda c: c.advance_due(sweep="s", trigger="defer"),
        ALL,
        "fixed: a sweep of defer moved units back to waiting in their own batch",
    ),
    Case("audit_trail([])", lambda c: list(c.audit_trail([])), ("sqlite", "postgres"), _NON_TEXT),
    Case(
        "Campaign(campaign_id='c\\x00')",
        lambda c: cf.Campaign(c.workflow, store=c.store, campaign_id="c\x00"),
        ("postgres",),
        _NUL,
    ),
)


def _bug_params() -> list[Any]:
    params = []
    for case in COMMAND_BUGS:
        for kind in BACKENDS:
            params.append(pytest.param(case, kind, id=f"{kind}-{case.name}"))
    return params


@pytest.mark.parametrize(("case", "kind"), _bug_params())
def test_a_malformed_command_is_refused_with_validation_error(
    case: Case, kind: str, tmp_path: Path
) -> None:
    """This malformed call raises ValidationError (or, if storable, succeeds) and a refusal writes nothing."""
    factory = StoreFactory(kind, tmp_path)
    try:
        camp = seeded_campaign(factory)
        checksum = checksum_of(factory, camp)
        before = checksum()
        try:
            case.run(camp)
        except cf.ValidationError:
            assert checksum() == before
        else:
            assert case.clean, f"{case.name} was accepted"
    finally:
        factory.close()


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "study_session", "hours": 4, "guided": "false"},  # -> guided=True
        {"kind": "study_session", "hours": "4"},  # -> 4.0
        {"kind": "study_session", "hours": True},  # -> 1.0
        {"kind": "survey", "satisfied": 2.9, "basically_satisfied": 1, "dissatisfied": 0},  # -> 2
        {"kind": "survey", "satisfied": "28", "basically_satisfied": 3, "dissatisfied": 1},
        {"kind": "milestone", "name": True},  # -> 'True'
        {"kind": "milestone", "name": "talks", "done": 1.5, "total": 3},  # -> done=1
        {"kind": "approval", "role": "supervision_group", "comment": 5},  # -> '5'
    ],
    ids=[
        "guided-text",
        "hours-text",
        "hours-bool",
        "count-fraction",
        "count-text",
        "name-bool",
        "done-fraction",
        "comment-int",
    ],
)
def test_a_wrongly_typed_fact_field_is_refused_not_coerced(payload: dict[str, Any]) -> None:
    """A fact field of the wrong JSON type (text for a number, 2.9 for a count, text for a flag) raises ValidationError."""
    with pytest.raises(cf.ValidationError):
        cf.fact_types.load(payload)


def _with(**changes: Any) -> dict[str, Any]:
    data = valid_workflow()
    data.update(changes)
    return data


def _hours(value: Any) -> dict[str, Any]:
    data = valid_workflow()
    data["transitions"][1]["guards"][0]["hours"] = value
    return data


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param(
            _hours(10**400),
            id="hours-10**400",
        ),
        pytest.param(
            _with(name="\ud800"),
            id="name-surrogate",
        ),
        pytest.param(
            _with(version="v\udc80"),
            id="version-surrogate",
        ),
        pytest.param(
            _with(name=5),
            id="name-number",
        ),
        pytest.param(
            _with(fact_roles={"survey": 3}),
            id="role-number",
        ),
    ],
)
def test_a_malformed_definition_raises_definition_error(definition: dict[str, Any]) -> None:
    """A definition with a huge number, text that cannot be encoded, or a number for text raises DefinitionError."""
    with pytest.raises(cf.DefinitionError):
        cf.Workflow.from_dict(definition)


def test_absurd_study_hours_are_refused_or_judged_without_crashing(tmp_path: Path) -> None:
    """Two sessions of 1e308 hours are refused on record, or the unit is judged normally afterwards."""
    camp = seeded_campaign(StoreFactory("memory", tmp_path))
    try:
        for _ in range(2):
            camp.record("u2", cf.StudySession(hours=1e308), actor=clerk_of("u2"))
    except cf.ValidationError:
        return
    decision = camp.check("u2")
    assert not decision.allowed
    camp.progress()


def test_validate_on_a_deeply_nested_file_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    """`campaignflow validate` on a TOML nested beyond the recursion limit: one line, exit 2, no traceback."""
    pytest.importorskip("click")
    deep = tmp_path / "deep.toml"
    deep.write_text('name = "x"\nstages = ' + "[" * 200_000 + "]" * 200_000 + "\n")
    before = deep.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "campaignflow", "validate", str(deep)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(cf.__file__).parents[1])},
    )
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "nested too deeply" in lines[0]
    assert "Traceback" not in done.stderr
    assert deep.read_bytes() == before
