"""The memory store keeps sealed rows compact and builds records only when read (issue 18.5).

What the representation must not change: records read back are the sealed ones, a failed
transaction leaves nothing behind (appends, purges, states, units, request ids, per-unit
trails), and the trail verifies. What it promises: kept rows are plain tuples the garbage
collector does not track, and reading the trail does not keep records.
"""

from __future__ import annotations

import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.audit import AuditRow, seal_row
from campaignflow.store import MemoryStore
from tests.store.helpers import START, run_district, snapshot


def _district() -> tuple[cf.Campaign, MemoryStore]:
    store = MemoryStore()
    clock = cf.FixedClock(START)
    camp = cf.Campaign(cf.presets.district_2005(), store=store, clock=clock)
    run_district(camp, clock)
    return camp, store


def _observed(store: MemoryStore) -> tuple[object, ...]:
    """What a reader can see of the store's trail and units, through the protocol."""
    with store.transaction(write=False) as tx:
        units = list(tx.iter_units())
        return (
            units,
            list(tx.iter_audit()),
            {unit.id: list(tx.iter_audit(unit.id)) for unit, _ in units},
            tx.audit_head(),
            tx.audit_anchor(),
            tx.find_request("add-all"),
            tx.find_request("defer-vil"),
        )


def _next_row(head: tuple[int, str], unit_id: str | None, request_id: str | None) -> AuditRow:
    seq, prev_hash = head
    return seal_row(
        AuditRow(
            seq=seq + 1,
            at="2005-03-01T00:00:00+00:00",
            on="2005-03-01",
            campaign="default",
            command="note",
            actor_id="system",
            actor_roles='["system"]',
            outcome="ok",
            unit_id=unit_id,
            source=None,
            dest=None,
            version=None,
            request_id=request_id,
            workflow="w",
            payload="{}",
            decision=None,
            reason=None,
            prev_hash=prev_hash,
        )
    )


def _purge_then_die(store: MemoryStore) -> None:
    with store.transaction() as tx:
        assert tx.purge_audit(5) == 5
        tx.append_audit(cf.AuditRecord.from_row(_next_row(tx.audit_head(), "fin-01", "x")))
        raise RuntimeError("the command dies")


def _write_everything_then_die(store: MemoryStore) -> None:
    with store.transaction() as tx:
        state = tx.get_state("vil-03")
        assert state is not None
        tx.update_state(
            cf.UnitState(unit_id="vil-03", stage="x", batch=3, version=9),
            expected_version=state.version,
        )
        tx.insert_unit(
            cf.Unit(id="new-09", name="新单位", kind="organ", batch=1),
            cf.UnitState(unit_id="new-09", stage="pending", batch=1),
        )
        # The new unit moved, and the first one again: each is undone before its unit goes.
        tx.update_state(
            cf.UnitState(unit_id="new-09", stage="x", batch=1, version=1), expected_version=0
        )
        tx.update_state(
            cf.UnitState(unit_id="vil-03", stage="y", batch=3, version=10), expected_version=9
        )
        tx.set_due([("new-09", None), ("vil-03", None), ("fin-01", None)])
        tx.mark_exported(3)
        tx.append_audit(cf.AuditRecord.from_row(_next_row(tx.audit_head(), "new-09", "n")))
        raise RuntimeError("the command dies")


def test_records_read_back_are_the_sealed_rows_and_are_not_kept() -> None:
    """Every record reads back as its sealed row; reading builds records but keeps tuples."""
    camp, store = _district()
    with store.transaction(write=False) as tx:
        records = list(tx.iter_audit())
        rows = list(tx.iter_audit_rows())
    assert [record.row() for record in records] == rows
    assert camp.verify_audit().ok
    assert all(type(kept) is tuple for kept in store._audit)
    # A tuple is untracked once a collection finds only untracked items in it: its shared
    # context tuple may be untracked later in the same pass, so a second pass settles it.
    gc.collect()
    gc.collect()
    tracked = [kept for kept in store._audit if gc.is_tracked(kept)]
    assert tracked == []


def test_a_unit_trail_and_request_ids_survive_a_purge_and_its_rollback() -> None:
    """A purge that fails with its transaction changes nothing a reader sees."""
    _, store = _district()
    before = _observed(store)
    with pytest.raises(RuntimeError):
        _purge_then_die(store)
    assert _observed(store) == before
    with store.transaction() as tx:  # the request id of the failed command is free again
        row = _next_row(tx.audit_head(), "fin-01", "x")
        tx.append_audit(cf.AuditRecord.from_row(row), row)
        assert tx.find_request("x") == cf.AuditRecord.from_row(row)
        before = (*_observed(store)[:3], *before[3:])
    with store.transaction() as tx:
        tx.purge_audit(5)
    with store.transaction(write=False) as tx:
        assert tx.audit_anchor() is not None
        assert tx.audit_anchor().seq == 5  # type: ignore[union-attr]
        assert [r.seq for r in tx.iter_audit()] == [r.seq for r in before[1]][5:]  # type: ignore[index]
        trails = before[2]
        for unit_id, trail in trails.items():  # type: ignore[attr-defined]
            assert list(tx.iter_audit(unit_id)) == [r for r in trail if r.seq > 5]


def test_a_row_with_a_hash_not_in_canonical_form_is_kept_as_it_is() -> None:
    """Only lower-case hex digests are kept as bytes: anything else reads back unchanged."""
    store = MemoryStore()
    with store.transaction() as tx:
        row = _next_row(tx.audit_head(), None, None)
        odd = row._replace(hash=row.hash.upper())
        tx.append_audit(cf.AuditRecord.from_row(odd), odd)
        assert list(tx.iter_audit_rows()) == [odd]
        assert tx.audit_head() == (1, odd.hash)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["fin-01", "edu-02", "vil-03", None]), max_size=4),
            st.integers(min_value=0, max_value=40),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_transactions_with_appends_and_purges_commit_or_leave_nothing(
    steps: list[tuple[list[str | None], int, bool]],
) -> None:
    """Random appends and purges per transaction: a failed one leaves what was there before,
    a committed one leaves what it did; every unit's trail is its rows of the whole trail."""
    _, store = _district()
    for number, (units, purge_through, fails) in enumerate(steps):
        before = _observed(store)
        try:
            with store.transaction() as tx:
                tx.purge_audit(purge_through)
                for i, unit_id in enumerate(units):
                    tx.append_audit(
                        cf.AuditRecord.from_row(
                            _next_row(tx.audit_head(), unit_id, f"r{number}-{i}")
                        )
                    )
                if fails:
                    raise RuntimeError("the command dies")
        except RuntimeError:
            assert _observed(store) == before
            with store.transaction(write=False) as tx:
                assert all(tx.find_request(f"r{number}-{i}") is None for i in range(len(units)))
        units_now, trail, trails, head, _, _, _ = _observed(store)
        assert trails == {
            u.id: [r for r in trail if r.unit_id == u.id]  # type: ignore[attr-defined]
            for u, _ in units_now  # type: ignore[attr-defined]
        }
        assert head == ((trail[-1].seq, trail[-1].hash) if trail else head)  # type: ignore[index]
    with store.transaction(write=False) as tx:
        for record in tx.iter_audit():
            if record.request_id is not None:
                assert tx.find_request(record.request_id) == record


def test_a_failed_sweep_page_leaves_the_campaign_as_it_was() -> None:
    """Units, states, facts and trail are unchanged after a command dies mid-write."""
    camp, store = _district()
    before, due_before = snapshot(camp), dict(store._due.due)
    with pytest.raises(RuntimeError):
        _write_everything_then_die(store)
    assert snapshot(camp) == before
    assert dict(store._due.due) == due_before
    with store.transaction(write=False) as tx:
        assert tx.exported_through() == 0
        assert tx.get_unit("new-09") is None
        assert tx.get_state("new-09") is None
    assert camp.verify_audit().ok
