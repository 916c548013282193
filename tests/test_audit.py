"""The audit chain: fixed canonical encoding, and every kind of tampering is caught."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.audit import (
    AUDIT_ROW_FIELDS,
    GENESIS_HASH,
    AuditRecord,
    Checkpoint,
    canonical_json,
    decision_to_data,
    record_hash,
    seal_row,
    verify_chain,
)
from campaignflow.audit._encode import Encoder, decision_text, iso_date

# --- golden vectors: the canonical encoding and hash must never drift ------------------------

GOLDEN = AuditRecord(
    seq=1,
    at=datetime(2005, 1, 10, 8, 30, tzinfo=UTC),
    on=date(2005, 1, 10),
    campaign="district-7",
    command="record",
    actor_id="li",
    actor_roles=("branch_committee",),
    outcome="ok",
    unit_id="fin-01",
    source="study_mobilization",
    version=2,
    request_id="r-1",
    workflow="district_2005@2005.1#abc",
    payload={"fact": {"kind": "study_session", "hours": 4.5, "guided": True}, "note": "学时"},
)


def test_canonical_json_golden_vector() -> None:
    """The canonical text is sorted, compact, keeps UTF-8 characters, and is stable."""
    assert canonical_json(GOLDEN.body()) == (
        '{"actor_id":"li","actor_roles":["branch_committee"],"at":"2005-01-10T08:30:00+00:00",'
        '"campaign":"district-7","command":"record","decision":null,"dest":null,'
        '"on":"2005-01-10","outcome":"ok","payload":{"fact":{"guided":true,"hours":4.5,'
        '"kind":"study_session"},"note":"学时"},"prev_hash":"'
        + GENESIS_HASH
        + '","reason":null,"request_id":"r-1","seq":1,"source":"study_mobilization",'
        '"unit_id":"fin-01","version":2,"workflow":"district_2005@2005.1#abc"}'
    )


def test_hash_golden_vector() -> None:
    """SHA-256(prev_hash ‖ canonical JSON) of the golden record is this exact digest."""
    assert (
        GOLDEN.sealed().hash == "f41e76c8da16f0fa18db9007e8e2d19d0d5803df9f2cd8220864f1c1efdb016d"
    )


def test_sealed_and_seal_agree() -> None:
    """Both ways of sealing a record give the same hash."""
    fields = {
        a.name: getattr(GOLDEN, a.name) for a in attrs.fields(AuditRecord) if a.name != "hash"
    }
    assert AuditRecord.seal(**fields).hash == GOLDEN.sealed().hash


def test_record_round_trips_through_data() -> None:
    """to_data / from_data keep every field, so a stored record verifies after loading."""
    sealed = GOLDEN.sealed()
    assert AuditRecord.from_data(sealed.to_data()) == sealed


# --- tampering ------------------------------------------------------------------------------


@cache
def campaign_log() -> tuple[AuditRecord, ...]:
    """A real chain: two units started, facts recorded, a refused and an applied advance."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = cf.Campaign(cf.presets.district_2005(), clock=clock, campaign_id="tamper")
    camp.add_units(
        [
            cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1, members=32),
            cf.Unit(id="edu-02", name="教育局支部", kind="organ", batch=1, members=20),
        ]
    )
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    clerk = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")
    camp.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk, request_id="m-1")
    with contextlib.suppress(cf.TransitionRejected):
        camp.advance("fin-01", actor=clerk, request_id="a-0")
    camp.record("fin-01", cf.Milestone("leading_group_established"), actor=clerk)
    camp.advance("fin-01", actor=clerk, request_id="a-1")
    camp.record("fin-01", cf.StudySession(hours=6, guided=True), actor=clerk)
    records = tuple(camp.audit_trail())
    assert verify_chain(records).ok
    return records


FIELDS = [a.name for a in attrs.fields(AuditRecord)]


def _other_value(value: object, draw: st.DrawFn) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + draw(st.integers(1, 5))
    if isinstance(value, str):
        return value + draw(st.text(min_size=1, max_size=3))
    if isinstance(value, datetime):
        return value.replace(microsecond=(value.microsecond + 1) % 1_000_000)
    if isinstance(value, date):
        return date.fromordinal(value.toordinal() + 1)
    if isinstance(value, tuple):
        return (*value, "extra_role")
    if value is None:
        return draw(st.sampled_from(["x", 7]))
    if isinstance(value, dict):
        return {**value, "forged": True}
    raise AssertionError(type(value))


@st.composite
def tampered_logs(draw: st.DrawFn) -> tuple[list[AuditRecord], list[Checkpoint], str]:
    records = list(campaign_log())
    n = len(records)
    kind = draw(st.sampled_from(["edit", "flip", "delete", "swap", "insert", "truncate"]))
    checkpoints: list[Checkpoint] = []
    if kind == "edit":
        i = draw(st.integers(0, n - 1))
        name = draw(st.sampled_from(FIELDS))
        records[i] = attrs.evolve(
            records[i], **{name: _other_value(getattr(records[i], name), draw)}
        )
    elif kind == "flip":
        i = draw(st.integers(0, n - 1))
        name = draw(st.sampled_from(["hash", "prev_hash", "actor_id", "unit_id", "workflow"]))
        text = getattr(records[i], name) or "x"
        pos = draw(st.integers(0, len(text) - 1))
        flipped = (
            text[:pos] + chr(ord(text[pos]) ^ (1 << draw(st.integers(0, 4)))) + text[pos + 1 :]
        )
        records[i] = attrs.evolve(records[i], **{name: flipped})
    elif kind == "delete":
        del records[draw(st.integers(0, n - 2))]  # deleting the last one is "truncate"
    elif kind == "swap":
        i = draw(st.integers(0, n - 2))
        j = draw(st.integers(i + 1, n - 1))
        records[i], records[j] = records[j], records[i]
    elif kind == "insert":
        # A forger who knows the format: a well-formed, correctly sealed record, linked to
        # the record before it, slipped in before record i.
        i = draw(st.integers(1, n - 1))
        before = records[i - 1]
        forged = attrs.evolve(
            records[i], seq=before.seq + 1, prev_hash=before.hash, actor_id="forger"
        ).sealed()
        records.insert(i, forged)
    else:
        cut = draw(st.integers(1, n - 1))
        checkpoints.append(Checkpoint(records[-1].seq, records[-1].hash))
        checkpoints.insert(0, Checkpoint(records[cut - 1].seq, records[cut - 1].hash))
        del records[cut:]
    return records, checkpoints, kind


@pytest.mark.sized(default=100)
@given(tampered_logs())
@settings(max_examples=2000, deadline=None)
def test_verify_flags_every_tampered_log(
    case: tuple[list[AuditRecord], list[Checkpoint], str],
) -> None:
    """Edits, flipped bytes, deletions, swaps, forged insertions and truncation are all caught."""
    records, checkpoints, kind = case
    result = verify_chain(records, checkpoints=checkpoints)
    original = campaign_log()
    if records == list(original):
        return  # an edit that changed nothing (cannot happen with _other_value, but be exact)
    assert not result.ok, kind
    assert result.reason
    if kind in ("edit", "flip"):
        changed = next(a.seq for a, b in zip(records, original, strict=True) if a != b)
        assert result.broken_at == changed


def test_untampered_log_verifies_with_its_checkpoints() -> None:
    """The real chain verifies, with any of its own records as checkpoints."""
    records = campaign_log()
    points = [Checkpoint(r.seq, r.hash) for r in records[::3]]
    result = verify_chain(records, checkpoints=points)
    assert result.ok
    assert result.head == Checkpoint(records[-1].seq, records[-1].hash)


# --- the assembled canonical body equals the generic encoder ---------------------------------

_json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
_json_values = st.recursive(
    _json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_texts = st.text()  # any text, control characters, quotes and lone surrogates included
_optional_texts = st.none() | _texts


@st.composite
def _records(draw: st.DrawFn) -> AuditRecord:
    return AuditRecord(
        seq=draw(st.integers(0, 2**63 - 1)),
        at=draw(st.datetimes(timezones=st.just(UTC))),
        on=draw(st.dates()),
        campaign=draw(_texts),
        command=draw(_texts),
        actor_id=draw(_texts),
        actor_roles=tuple(draw(st.lists(_texts, max_size=3))),
        outcome=draw(st.sampled_from(["ok", "denied", "error"])),
        unit_id=draw(_optional_texts),
        source=draw(_optional_texts),
        dest=draw(_optional_texts),
        version=draw(st.none() | st.integers(-(2**63), 2**63 - 1)),
        request_id=draw(_optional_texts),
        workflow=draw(_texts),
        payload=draw(st.dictionaries(st.text(max_size=5), _json_values, max_size=4)),
        decision=draw(st.none() | st.dictionaries(st.text(max_size=5), _json_values, max_size=4)),
        reason=draw(st.none() | st.dictionaries(st.text(max_size=5), _json_values, max_size=3)),
        prev_hash=draw(_texts),
    )


@pytest.mark.sized(default=50)
@settings(max_examples=500)
@given(_records())
def test_hash_is_sha256_of_prev_and_the_generic_canonical_body(record: AuditRecord) -> None:
    """The hash assembled from pre-encoded parts is the documented one, for any record.

    Records whose text cannot be UTF-8 (a lone surrogate) must fail the same way both ways.
    """
    import hashlib

    try:
        expected = hashlib.sha256(
            (record.prev_hash + canonical_json(record.body())).encode("utf-8")
        ).hexdigest()
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            AuditRecord.seal(
                **{
                    a.name: getattr(record, a.name)
                    for a in attrs.fields(AuditRecord)
                    if a.name != "hash"
                }
            )
        return
    sealed = AuditRecord.seal(
        **{a.name: getattr(record, a.name) for a in attrs.fields(AuditRecord) if a.name != "hash"}
    )
    assert sealed.hash == expected == record.sealed().hash
    roles, payload, decision, reason = sealed.canonical_parts()
    assert roles == canonical_json(list(record.actor_roles))
    assert payload == canonical_json(record.payload)
    assert decision == (None if record.decision is None else canonical_json(record.decision))
    assert reason == (None if record.reason is None else canonical_json(record.reason))


@pytest.mark.sized(default=50)
@settings(max_examples=500)
@given(_records())
def test_a_sealed_row_is_the_sealed_record_as_stored(record: AuditRecord) -> None:
    """seal_row hashes a stored row exactly as sealing hashes its record; rows load back whole.

    What a transition writes is sealed as a row, never built as a record: its hash must be
    the record's, and the record read back from the row must equal it and verify.
    """
    try:
        sealed = record.sealed()
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            seal_row(record.row()._replace(hash=""))
        return
    row = sealed.row()
    assert len(row) == len(AUDIT_ROW_FIELDS)
    assert seal_row(row._replace(hash="")) == row
    loaded = AuditRecord.from_row(row)
    assert loaded == sealed
    assert record_hash(loaded) == sealed.hash


def test_canonical_parts_are_not_part_of_equality_or_fields() -> None:
    """A sealed record equals its reloaded copy, which computes its parts on demand."""
    sealed = GOLDEN.sealed()
    loaded = AuditRecord.from_data(sealed.to_data())
    assert loaded == sealed
    assert loaded.canonical_parts() == sealed.canonical_parts()
    assert "_stored" not in {a.name for a in attrs.fields(AuditRecord)}


def test_remembered_texts_never_stand_in_for_a_different_value() -> None:
    """Sealing remembers encoded strings and the last instant, but each record gets its own.

    Equal aware instants in two zones, True beside 1 and a string beside its own JSON text:
    every record's hash is still the generic encoder's.
    """
    import hashlib
    from datetime import timedelta, timezone

    utc = datetime(2005, 3, 1, 0, 0, tzinfo=UTC)
    beijing = utc.astimezone(timezone(timedelta(hours=8)))
    assert utc == beijing
    assert utc.isoformat() != beijing.isoformat()
    base = {a.name: getattr(GOLDEN, a.name) for a in attrs.fields(AuditRecord) if a.name != "hash"}
    variants = [
        {"at": utc},
        {"at": beijing},
        {"at": utc},
        {"actor_id": "1", "unit_id": "true", "payload": {"v": 1}},
        {"actor_id": "true", "unit_id": "1", "payload": {"v": True}},
        {"actor_roles": ("b", "a")},
        {"actor_roles": ("a", "b")},
        {"dest": '"done"', "source": "done"},
    ]
    for change in variants:
        record = AuditRecord.seal(**{**base, **change})
        generic = canonical_json(record.body())
        assert record.hash == hashlib.sha256((record.prev_hash + generic).encode()).hexdigest()
        assert f'"at":"{record.at.isoformat()}"' in generic


# --- decisions written out directly equal the generic encoder -------------------------------

_param_values = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.lists(st.text(), max_size=3)
)
_verdicts = st.recursive(
    st.builds(
        cf.Verdict,
        st.text(max_size=8),
        st.booleans(),
        st.text(max_size=12),
        st.dictionaries(st.text(max_size=6), _param_values, max_size=4),
    ),
    lambda children: st.builds(
        cf.Verdict,
        st.sampled_from(["all_of", "any_of", "not"]),
        st.booleans(),
        st.text(max_size=12),
        st.dictionaries(st.text(max_size=6), _param_values, max_size=2),
        st.lists(children, min_size=1, max_size=3).map(tuple),
    ),
    max_leaves=6,
)
_decisions = st.builds(
    cf.Decision,
    unit_id=st.text(max_size=5),
    trigger=st.text(max_size=8),
    source=st.text(max_size=8),
    target=st.none() | st.text(max_size=8),
    allowed=st.booleans(),
    candidates=st.lists(
        st.builds(
            cf.Candidate,
            st.text(max_size=8),
            st.booleans(),
            st.lists(_verdicts, max_size=4).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
    judged_on=st.dates(),
)


def test_remembered_dates_never_stand_in_for_a_datetime() -> None:
    """A plain date's text is remembered by value; a datetime (a date subclass) gets its own."""
    day, noon = date(2005, 1, 10), datetime(2005, 1, 10, 12)
    for _ in range(2):
        assert iso_date(day) == "2005-01-10"
        assert iso_date(noon) == "2005-01-10T12:00:00"


def test_remembered_params_never_stand_in_for_equal_values_of_another_type() -> None:
    """1, True and 1.0 are equal in Python but not in JSON: each verdict keeps its own text."""
    encoder = Encoder()  # one for both rounds: the second reads what the first remembered

    def text_of(params: dict[Any, Any], passed: Any = True) -> str:
        verdict = cf.Verdict("g", passed, "c", params)
        decision = cf.Decision(
            "u", "advance", "a", "b", True, (cf.Candidate("b", True, (verdict,)),), date(2005, 1, 1)
        )
        text = encoder.decision_text(decision)
        assert text == decision_text(decision)
        return text

    for _ in range(2):  # the second round reads what the first remembered
        assert '"params":{"a":1}' in text_of({"a": 1})
        assert '"params":{"a":true}' in text_of({"a": True})
        assert '"params":{"a":1.0}' in text_of({"a": 1.0})
        assert '"params":{"a":"1"}' in text_of({"a": "1"})
        assert '"params":{"a":0.0}' in text_of({"a": 0.0})
        assert '"params":{"a":-0.0}' in text_of({"a": -0.0})
        assert '"params":{"a":1.5}' in text_of({"a": 1.5})
        assert '"params":{"a":"1.5"}' in text_of({"a": "1.5"})
        assert '"params":{"a":[]}' in text_of({"a": []})
        assert '"params":{"a":["1",1]}' in text_of({"a": ["1", 1]})
        assert '"params":{"a":["1"]}' in text_of({"a": ["1"]})
        assert '"params":{"a":["1"]}' in text_of({"a": ("1",)})
        assert '"params":{"a":[1]}' in text_of({"a": [1]})
        assert '"params":{"1":1}' in text_of({1: 1})
        assert '"params":{"true":1}' in text_of({True: 1})
        # A verdict's own flag too: a host's guard may say passed=1.
        assert '"passed":true}' in text_of({"a": 1}, True)
        assert '"passed":1}' in text_of({"a": 1}, 1)


# One encoder across every example: what it remembers from one must never change another.
_SHARED = Encoder()


@pytest.mark.sized(default=50)
@settings(max_examples=500)
@given(_decisions)
def test_decision_text_is_the_canonical_json_of_its_data(decision: cf.Decision) -> None:
    """The decision text sealed into advance records is exactly canonical_json of its data."""
    expected = canonical_json(decision_to_data(decision))
    assert decision_text(decision) == expected
    assert _SHARED.decision_text(decision) == expected


@pytest.mark.sized(default=50)
@settings(max_examples=500)
@given(_records())
def test_a_row_sealed_by_a_long_lived_encoder_is_sealed_as_its_record(record: AuditRecord) -> None:
    """An Encoder that remembers texts across rows seals every row as the generic encoder."""
    try:
        expected = record.sealed().row()
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            seal_row(record.row(), encoder=_SHARED)
        return
    assert seal_row(record.row(), encoder=_SHARED) == expected


def test_a_remembered_day_never_stands_in_for_a_datetime_of_that_day() -> None:
    """The Encoder's day texts are kept for plain dates; a datetime is written as it is."""
    encoder = Encoder()
    day = date(2005, 3, 1)
    assert encoder.day_text(day) == "2005-03-01"
    assert encoder.day_text(datetime(2005, 3, 1, tzinfo=UTC)) == "2005-03-01T00:00:00+00:00"
    assert encoder.day_text(date(2005, 3, 1)) == "2005-03-01"


def test_a_record_of_a_sealed_row_with_its_typed_values_is_the_row_read_back() -> None:
    """of_row takes the row's plain columns as they are and the typed values as given."""
    sealed = GOLDEN.sealed()
    row = sealed.row()
    built = AuditRecord.of_row(
        row,
        at=sealed.at,
        on=sealed.on,
        actor_roles=sealed.actor_roles,
        payload=sealed.payload,
        decision=sealed.decision,
        reason=sealed.reason,
    )
    assert built == sealed == AuditRecord.from_row(row)
    assert record_hash(built) == sealed.hash
