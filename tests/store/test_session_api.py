"""The StoreSession protocol on every backend: records round-trip exactly, writes are checked, errors typed."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, timedelta, timezone

import attrs
import pytest

import campaignflow as cf
from campaignflow._words.records import Unit, trusted_unit
from campaignflow.audit import GENESIS_HASH, AuditRecord, verify_chain
from campaignflow.store import Store
from campaignflow.store._rows import DayMemo, StateRow, UnitRow, unit_and_state
from tests.store.conftest import StoreFactory

AT = datetime(2005, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def unit(uid: str, batch: int = 1, **kw: object) -> cf.Unit:
    return cf.Unit(id=uid, name=f"支部 {uid}", kind="organ", batch=batch, **kw)  # type: ignore[arg-type]


def state(uid: str, batch: int = 1, **kw: object) -> cf.UnitState:
    kw.setdefault("stage", "pending")
    return cf.UnitState(unit_id=uid, batch=batch, **kw)  # type: ignore[arg-type]


def sealed(seq: int, prev: str, **fields: object) -> AuditRecord:
    base: dict[str, object] = {
        "seq": seq,
        "at": AT + timedelta(seconds=seq),
        "on": AT.date(),
        "campaign": "c",
        "command": "record",
        "actor_id": "li",
        "actor_roles": ("branch_committee",),
        "outcome": "ok",
        "unit_id": "u1",
        "prev_hash": prev,
    }
    base.update(fields)
    return AuditRecord.seal(**base)


def append(store: Store, **fields: object) -> AuditRecord:
    """Seal a record on the current head and append it in its own transaction."""
    with store.transaction() as tx:
        seq, prev = tx.audit_head()
        record = sealed(seq + 1, prev, **fields)
        tx.append_audit(record)
    return record


def add(store: Store, *units: cf.Unit) -> None:
    with store.transaction() as tx:
        for u in units:
            tx.insert_unit(u, state(u.id, u.batch))


def insert_then_fail(store: Store, uid: str) -> None:
    """Insert a unit in a write transaction that then raises KeyError."""
    with store.transaction() as tx:
        tx.insert_unit(unit(uid), state(uid))
        raise KeyError(uid)


# --- round trips ------------------------------------------------------------------------------


def test_unit_and_state_round_trip_exactly(store_factory: StoreFactory) -> None:
    """Every field of a unit and its state reads back equal, dates and remedial flags included."""
    store = store_factory.open()
    u = unit("fin-01", members=32, parent="district")
    with store.transaction() as tx:
        tx.insert_unit(u, state(u.id))
    full = cf.UnitState(
        unit_id="fin-01",
        stage="study_mobilization_remedial",
        batch=2,
        version=7,
        entered_on=date(2005, 2, 1),
        stage_since=date(2005, 2, 2),
        started_on=date(2005, 1, 10),
        remedial=True,
        remedial_round=2,
        resume_since=date(2005, 1, 20),
    )
    with store.transaction() as tx:
        tx.update_state(full, expected_version=0)
    with store_factory.open().transaction(write=False) as tx:
        assert tx.get_unit("fin-01") == u
        assert tx.get_state("fin-01") == full
        assert tx.get_unit("ghost") is None
        assert tx.get_state("ghost") is None
        assert list(tx.iter_units()) == [(u, full)]


def test_fact_records_round_trip_with_their_instant(store_factory: StoreFactory) -> None:
    """A fact record reads back equal: the fact, its aware UTC instant to the microsecond, its ids."""
    store = store_factory.open()
    add(store, unit("u1"))
    records = [
        cf.FactRecord(
            "u1",
            "study_mobilization",
            2,
            cf.StudySession(hours=2.25, guided=True),
            date(2005, 3, 1),
            AT,
            "li",
            9,
            "r-9",
        ),
        cf.FactRecord(
            "u1",
            "study_mobilization",
            2,
            cf.Survey(satisfied=3, fairly_satisfied=2, basically_satisfied=1, dissatisfied=0),
            date(2005, 3, 2),
            AT + timedelta(days=1),
            "county",
            10,
        ),
        cf.FactRecord(
            "u1",
            "study_mobilization",
            3,
            cf.Milestone("heart_to_heart_talks", done=30, total=32),
            date(2005, 3, 3),
            AT + timedelta(days=2),
            "li",
            11,
        ),
        cf.FactRecord(
            "u1",
            "closing",
            5,
            cf.Approval(role="supervision_group", comment="同意"),
            date(2005, 4, 1),
            AT + timedelta(days=30),
            "zhang",
            12,
            "r-12",
        ),
    ]
    with store.transaction() as tx:
        for record in records:
            tx.insert_fact(record)
    with store_factory.open().transaction(write=False) as tx:
        assert tuple(tx.get_facts("u1", "study_mobilization")) == tuple(records[:3])
        assert tuple(tx.get_facts("u1", "closing")) == (records[3],)
        assert tuple(tx.get_facts("u1", "analysis_review")) == ()
        assert tx.get_facts("u1", "study_mobilization")[0].at.tzinfo is not None


def test_audit_records_round_trip_and_reverify(store_factory: StoreFactory) -> None:
    """Audit records read back equal to what was written, and the chain verifies from the store."""
    store = store_factory.open()
    written = [
        append(
            store,
            command="add_unit",
            dest="pending",
            version=0,
            request_id="r#0",
            payload={
                "unit": {"id": "u1", "name": "支部", "batch": 1, "members": 3, "parent": None}
            },
        ),
        append(
            store,
            command="advance",
            outcome="denied",
            source="pending",
            dest="preparation",
            version=0,
            payload={"trigger": "start"},
            decision={
                "trigger": "start",
                "allowed": False,
                "candidates": [
                    {
                        "dest": "preparation",
                        "passed": False,
                        "verdicts": [
                            {
                                "guard": "g",
                                "passed": False,
                                "code": "x.y",
                                "params": {"rate": 0.6, "names": ["a", "b"]},
                            }
                        ],
                    }
                ],
            },
            reason={"code": "transition.rejected", "params": {}},
        ),
        append(
            store,
            command="advance",
            source="pending",
            dest="preparation",
            version=1,
            at=datetime(2005, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=8))),
            actor_roles=("a", "b"),
            workflow="district_2005@2005.1#abc",
        ),
        append(store, command="sweep", unit_id=None),
    ]
    with store_factory.open().transaction(write=False) as tx:
        read = list(tx.iter_audit())
        assert read == written
        assert verify_chain(read).ok
        assert tx.audit_head() == (4, written[-1].hash)
        assert list(tx.iter_audit("u1")) == written[:3]
        assert tx.find_request("r#0") == written[0]
        assert tx.find_request("nope") is None


def test_empty_store_has_the_genesis_head(store_factory: StoreFactory) -> None:
    """An empty campaign's chain head is (0, GENESIS_HASH) and it has no units or records."""
    with store_factory.open().transaction(write=False) as tx:
        assert tx.audit_head() == (0, GENESIS_HASH)
        assert list(tx.iter_units()) == []
        assert list(tx.iter_audit()) == []


def test_iter_units_keeps_insertion_order_and_filters_by_current_batch(
    store_factory: StoreFactory,
) -> None:
    """Units list in the order they were added (not by id), and batch means the batch a unit is in now."""
    store = store_factory.open()
    add(store, unit("z9"), unit("a1", batch=2), unit("m5"))
    with store.transaction() as tx:
        tx.update_state(state("z9", batch=2, version=1), expected_version=0)
    with store.transaction(write=False) as tx:
        assert [u.id for u, _ in tx.iter_units()] == ["z9", "a1", "m5"]
        assert [u.id for u, _ in tx.iter_units(2)] == ["z9", "a1"]
        assert [u.id for u, _ in tx.iter_units(1)] == ["m5"]
        assert list(tx.iter_units(3)) == []


def test_iteration_pages_through_long_results(
    store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Units and audit records iterate completely and in order across query pages."""
    monkeypatch.setattr("campaignflow.store._session.Session._page_size", 2)
    store = store_factory.open()
    ids = [f"u{i}" for i in range(7, 0, -1)]
    add(store, *(unit(i) for i in ids))
    for i in ids:
        append(store, unit_id=i)
    with store.transaction(write=False) as tx:
        assert [u.id for u, _ in tx.iter_units()] == ids
        assert [r.seq for r in tx.iter_audit()] == list(range(1, 8))
        assert [r.seq for r in tx.iter_audit("u3")] == [5]


def test_page_units_walks_every_unit_of_a_batch_once_in_insertion_order(
    store_factory: StoreFactory,
) -> None:
    """Pages follow insertion order from a position; a short page is the last; reads are kept."""
    store = store_factory.open()
    add(store, unit("z9"), unit("a1", batch=2), unit("m5"), unit("b2", batch=2), unit("k4"))
    with store.transaction() as tx:
        tx.update_state(state("k4", batch=2, version=1), expected_version=0)
    for batch, limit, expected in (
        (None, 2, [["z9", "a1"], ["m5", "b2"], ["k4"]]),
        (None, 5, [["z9", "a1", "m5", "b2", "k4"], []]),
        (2, 2, [["a1", "b2"], ["k4"]]),
        (1, 1, [["z9"], ["m5"], []]),
        (3, 4, [[]]),
    ):
        pages, after = [], 0
        with store.transaction(write=False) as tx:
            while True:
                page, after = tx.page_units(batch, after, limit)
                pages.append([u.id for u, _ in page])
                assert all(s.unit_id == u.id for u, s in page)
                assert all(batch is None or s.batch == batch for _, s in page)
                if len(page) < limit:
                    break
        assert pages == expected, (batch, limit)
    with store.transaction() as tx:
        page, _ = tx.page_units(2, 0, 10)
        # A page's states are what later reads in the session see, kept current by its writes.
        tx.update_state(state("a1", batch=2, version=1, stage="study"), expected_version=0)
        assert tx.get_unit_state("a1") == (
            unit("a1", batch=2),
            state("a1", 2, version=1, stage="study"),
        )
        assert tx.get_unit_state("b2") == page[1]


# --- checked writes -------------------------------------------------------------------------


def test_duplicate_unit_is_a_validation_error(store_factory: StoreFactory) -> None:
    """Inserting a unit id twice raises ValidationError and keeps the first unit."""
    store = store_factory.open()
    add(store, unit("u1"))
    with (
        pytest.raises(cf.ValidationError, match="'u1': a unit with this id already exists"),
        store.transaction() as tx,
    ):
        tx.insert_unit(unit("u1", members=9), state("u1"))
    with store.transaction(write=False) as tx:
        assert tx.get_unit("u1") == unit("u1")


def test_update_with_a_stale_version_is_a_conflict(store_factory: StoreFactory) -> None:
    """update_state with an old version raises ConcurrencyConflict naming unit and version."""
    store = store_factory.open()
    add(store, unit("u1"))
    with store.transaction() as tx:
        tx.update_state(state("u1", version=1), expected_version=0)
    with pytest.raises(cf.ConcurrencyConflict) as info, store.transaction() as tx:
        tx.update_state(state("u1", version=1, stage="x"), expected_version=0)
    assert (info.value.unit_id, info.value.expected_version) == ("u1", 0)
    with pytest.raises(cf.ConcurrencyConflict), store.transaction() as tx:
        tx.update_state(state("ghost", version=1), expected_version=0)
    with store.transaction(write=False) as tx:
        assert tx.get_state("u1") == state("u1", version=1)


def test_a_duplicate_request_id_is_a_conflict(store_factory: StoreFactory) -> None:
    """Appending a second record with a request id already in the trail raises ConcurrencyConflict."""
    store = store_factory.open()
    first = append(store, request_id="r-1")
    with pytest.raises(cf.ConcurrencyConflict, match="r-1"), store.transaction() as tx:
        tx.append_audit(sealed(2, first.hash, request_id="r-1", unit_id="u2"))
    with store.transaction(write=False) as tx:
        assert tx.audit_head() == (1, first.hash)


def test_an_append_off_the_head_is_a_conflict(store_factory: StoreFactory) -> None:
    """A record whose seq or prev_hash does not follow the head raises ConcurrencyConflict."""
    store = store_factory.open()
    first = append(store)
    for record in (sealed(3, first.hash), sealed(2, GENESIS_HASH), sealed(1, GENESIS_HASH)):
        with (
            pytest.raises(cf.ConcurrencyConflict, match="the audit chain moved on"),
            store.transaction() as tx,
        ):
            tx.append_audit(record)
    with store.transaction(write=False) as tx:
        assert list(tx.iter_audit()) == [first]


def test_database_refuses_a_second_transition_to_the_same_version(
    sql_factory: StoreFactory,
) -> None:
    """UNIQUE(campaign, unit, transition_version): two applied transitions of one version conflict."""
    store = sql_factory.open()
    first = append(store, command="advance", source="a", dest="b", version=1)
    append(store, command="advance", outcome="denied", source="b", dest="c", version=1)
    with pytest.raises(cf.ConcurrencyConflict, match="version 1 of the unit"):
        append(store, command="advance", source="a", dest="c", version=1)
    with store.transaction(write=False) as tx:
        assert tx.audit_head()[0] == 2
        assert next(tx.iter_audit()) == first


def test_read_only_sessions_refuse_writes(store_factory: StoreFactory) -> None:
    """Every write on a transaction(write=False) session raises ValidationError."""
    store = store_factory.open()
    attempts = [
        lambda tx: tx.insert_unit(unit("u1"), state("u1")),
        lambda tx: tx.update_state(state("u1"), expected_version=0),
        lambda tx: tx.insert_fact(
            cf.FactRecord("u1", "s", 0, cf.Milestone("m"), AT.date(), AT, "li", 1)
        ),
        lambda tx: tx.append_audit(sealed(1, GENESIS_HASH)),
    ]
    for attempt in attempts:
        with (
            pytest.raises(cf.ValidationError, match="read-only"),
            store.transaction(write=False) as tx,
        ):
            attempt(tx)


def test_a_closed_store_refuses_transactions(store_factory: StoreFactory) -> None:
    """After close(), transaction() raises ValidationError."""
    store = store_factory.open()
    store.close()
    with pytest.raises(cf.ValidationError, match="closed"), store.transaction():
        pass


# --- transactions ---------------------------------------------------------------------------


def test_an_exception_rolls_back_every_write_of_the_transaction(
    store_factory: StoreFactory,
) -> None:
    """Unit, fact and audit written in a transaction that raises are all gone, and the store works on."""
    store = store_factory.open()

    def write_then_fail() -> None:
        with store.transaction() as tx:
            tx.insert_unit(unit("u1"), state("u1"))
            tx.insert_fact(
                cf.FactRecord("u1", "pending", 0, cf.Milestone("m"), AT.date(), AT, "li", 1)
            )
            tx.append_audit(sealed(1, GENESIS_HASH))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()
    with store.transaction(write=False) as tx:
        assert tx.get_unit("u1") is None
        assert tx.get_facts("u1", "pending") == ()
        assert tx.audit_head() == (0, GENESIS_HASH)
    add(store, unit("u1"))


def test_a_conflict_rolls_back_the_writes_before_it(store_factory: StoreFactory) -> None:
    """A ConcurrencyConflict raised mid-transaction undoes the writes that preceded it."""
    store = store_factory.open()
    add(store, unit("u1"))

    def write_then_conflict() -> None:
        with store.transaction() as tx:
            tx.insert_unit(unit("u2"), state("u2"))
            tx.update_state(state("u1", version=1), expected_version=5)

    with pytest.raises(cf.ConcurrencyConflict):
        write_then_conflict()
    with store.transaction(write=False) as tx:
        assert tx.get_unit("u2") is None


def test_no_transaction_is_left_open_after_a_failure(sql_factory: StoreFactory) -> None:
    """After rolled-back and conflicting transactions, another store object can write at once."""
    store = sql_factory.open()
    add(store, unit("u1"))
    for _ in range(3):
        with pytest.raises(cf.ConcurrencyConflict), store.transaction() as tx:
            tx.update_state(state("u1", version=1), expected_version=9)
        with pytest.raises(KeyError):
            insert_then_fail(store, "u9")
    timeout = {"busy_timeout_ms": 100} if sql_factory.kind == "sqlite" else {"lock_timeout_ms": 100}
    other = sql_factory.open(**timeout)
    add(other, unit("u2"))
    with store.transaction(write=False) as tx:
        assert [u.id for u, _ in tx.iter_units()] == ["u1", "u2"]


def test_nested_write_is_a_savepoint(store_factory: StoreFactory) -> None:
    """A write transaction inside another on the same thread sees the outer's writes; its failure undoes only itself."""
    store = store_factory.open()
    with store.transaction() as outer:
        outer.insert_unit(unit("u1"), state("u1"))
        with store.transaction(write=False) as inner:
            assert inner.get_unit("u1") == unit("u1")
        with pytest.raises(KeyError):
            insert_then_fail(store, "u2")
        with store.transaction() as inner:
            inner.insert_unit(unit("u3"), state("u3"))
        assert outer.get_unit("u2") is None
    with store.transaction(write=False) as tx:
        assert [u.id for u, _ in tx.iter_units()] == ["u1", "u3"]


def test_a_write_inside_a_read_on_the_same_thread_commits(store_factory: StoreFactory) -> None:
    """Writing while iterating a read transaction (camp.audit_trail() in a loop) works and commits."""
    store = store_factory.open()
    append(store)
    with store.transaction(write=False) as reading:
        for _record in reading.iter_audit():
            add(store, unit("u1"))
    with store.transaction(write=False) as tx:
        assert tx.get_unit("u1") == unit("u1")


def test_a_session_is_unusable_after_its_transaction(sql_factory: StoreFactory) -> None:
    """A session kept past its block raises ValidationError instead of touching another transaction."""
    store = sql_factory.open()
    with store.transaction() as tx:
        pass
    with pytest.raises(cf.ValidationError, match="ended"):
        tx.get_unit("u1")


def test_a_stores_own_fact_registry_loads_host_fact_types(sql_factory: StoreFactory) -> None:
    """Facts of a type registered only in a host's registry round-trip through a store given that registry."""
    registry = cf.FactTypes()
    registry.register("milestone", cf.Milestone)

    @cf.fact_type("attendance", registry=registry)
    @attrs.frozen
    class Attendance:
        present: int
        members: int

    store = sql_factory.open(fact_types=registry)
    add(store, unit("u1"))
    record = cf.FactRecord("u1", "closing", 3, Attendance(28, 32), AT.date(), AT, "li", 4)
    with store.transaction() as tx:
        tx.insert_fact(record)
    with sql_factory.open(fact_types=registry).transaction(write=False) as tx:
        assert tx.get_facts("u1", "closing") == (record,)


def test_stored_facts_decode_once_per_text_only_for_built_in_types(
    sql_factory: StoreFactory,
) -> None:
    """Reading a unit's facts again shares the built-in (immutable) facts, never a host's.

    A host's type may be mutable, so each read gets its own instance; either way every read
    equals what was stored.
    """
    registry = cf.FactTypes()
    registry.register("study_session", cf.StudySession)

    @cf.fact_type("roll_call", registry=registry)
    @attrs.define
    class RollCall:
        present: list[str]

    store = sql_factory.open(fact_types=registry)
    add(store, unit("u1"))
    study = cf.FactRecord("u1", "closing", 3, cf.StudySession(4.0), AT.date(), AT, "li", 4)
    call = cf.FactRecord("u1", "closing", 3, RollCall(["li"]), AT.date(), AT, "li", 5)
    with store.transaction() as tx:
        tx.insert_fact(study)
        tx.insert_fact(call)
    reads = []
    for _ in range(2):
        with sql_factory.open(fact_types=registry).transaction(write=False) as tx:
            reads.append(tx.get_facts("u1", "closing"))
    assert reads[0] == reads[1] == (study, call)
    assert reads[0][0].fact is reads[1][0].fact
    assert reads[0][1].fact is not reads[1][1].fact
    reads[0][1].fact.present.append("wang")
    assert reads[1][1].fact.present == ["li"]


def test_trusted_unit_is_pinned_to_the_unit_record() -> None:
    """The SQL store loads units without re-validating them (trusted_unit): it must take
    exactly Unit's fields, by keyword, and build a unit equal to Unit's own."""
    names = [field.name for field in attrs.fields(Unit)]
    assert list(inspect.signature(trusted_unit).parameters) == names
    values = {
        "id": "fin-01",
        "name": "财务处",
        "kind": "organ",
        "batch": 2,
        "members": 12,
        "parent": "dept",
    }
    assert set(values) == set(names)
    made = trusted_unit(**values)
    assert made == Unit(**values)
    assert attrs.asdict(made) == values
    assert type(made) is Unit


def test_a_unit_and_state_row_is_read_in_the_order_its_row_types_select() -> None:
    """unit_and_state unpacks the columns UNIT_COLUMNS, STATE_COLUMNS select, in their order."""
    values: dict[str, object] = {
        "unit_id": "fin-01",
        "name": "财务处",
        "kind": "organ",
        "batch": 2,
        "members": 12,
        "parent": "dept",
    }
    stored_state: dict[str, object] = {
        "unit_id": "fin-01",
        "stage": "study",
        "batch": 3,
        "version": 4,
        "entered_on": "2005-01-10",
        "stage_since": "2005-01-11",
        "started_on": "2005-01-12",
        "remedial": 1,
        "remedial_round": 5,
        "resume_since": "2005-01-13",
        "workflow": "wf@1#abc",
    }
    assert list(values) == list(UnitRow._fields)
    assert list(stored_state) == list(StateRow._fields)
    read = unit_and_state([*values.values(), *stored_state.values(), 99], DayMemo())
    assert read.unit == Unit(
        id="fin-01", name="财务处", kind="organ", batch=2, members=12, parent="dept"
    )
    assert read.state == cf.UnitState(
        unit_id="fin-01",
        stage="study",
        batch=3,
        version=4,
        entered_on=date(2005, 1, 10),
        stage_since=date(2005, 1, 11),
        started_on=date(2005, 1, 12),
        remedial=True,
        remedial_round=5,
        resume_since=date(2005, 1, 13),
        workflow="wf@1#abc",
    )
