"""Every released schema's fixture database loads, migrates forward and keeps its meaning.

``schema_v1.db`` is checked in detail by ``test_schema.py``; here each fixture (v1 to v5)
opens with this release, reaches the latest version, verifies against the checkpoint taken
when it was written, answers roll-ups and stuck lists, and takes new commands.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

import campaignflow as cf
from campaignflow.audit import Checkpoint
from campaignflow.store import SQLiteStore
from campaignflow.store._schema import latest_version
from campaignflow.workflow._engine import workflow_ref
from tests.store.fixtures.make_v3 import lowered

FIXTURES = Path(__file__).parent / "fixtures"
HEADS = {
    1: Checkpoint(9, "2d894cedc748b8acae9cd1f982c503373da7e341295bb3bd22598f8025ef7db8"),
    2: Checkpoint(10, "7893d76aaf96d267ceeb8bcbeb2715af26815101b1880b2cec54121f6cde2dc8"),
    3: Checkpoint(13, "5a0dd9c3aa80e1f2eed168e830ef47ba3385609b07aaa0e4d4fb7507286b9f90"),
    4: Checkpoint(13, "7b7f898cc0c4655e037e67c7f4bcc97207b9c60afaf1aba6ffcb537c3d403e2a"),
    5: Checkpoint(13, "9703cfa919e6c806993b229ccfefb3940ca0de33ecd412c0456fa94d9b6b4080"),
    6: Checkpoint(16, "09f129eed52bec3a2179c6a0df4a53e5e786bc32590e84b82250009cdb06517d"),
    7: Checkpoint(16, "8a0025940e03ce3ac4e14e72f3a5f1c3fe3b89c935f4c1396053200a60704f5e"),
    8: Checkpoint(16, "9173841f2ff3d34640d992ddbfceae4627cc2611b8922006c29b3f733dd42648"),
}
CLERK = cf.Actor(id="li", roles={"branch_committee"})


def open_copy(version: int, tmp_path: Path) -> tuple[cf.Campaign, Path]:
    """A copy of the version's fixture, opened by this release as its campaign."""
    path = tmp_path / f"v{version}.db"
    shutil.copy(FIXTURES / f"schema_v{version}.db", path)
    store = SQLiteStore(path, campaign_id=f"fixture-v{version}")
    camp = cf.Campaign(
        cf.presets.district_2005(),
        store=store,
        clock=cf.FixedClock(date(2005, 2, 1)),
        campaign_id=f"fixture-v{version}",
    )
    return camp, path


def stored_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        (found,) = conn.execute("SELECT version FROM cf_schema_version").fetchone()
    conn.close()
    return int(found)


def test_every_schema_version_has_a_fixture_and_its_checkpoint() -> None:
    """A release that adds a schema step must commit that version's fixture (make_vN.py)."""
    versions = range(1, latest_version() + 1)
    assert sorted(HEADS) == list(versions)
    assert all((FIXTURES / f"schema_v{v}.db").is_file() for v in versions)
    assert all((FIXTURES / f"make_v{v}.py").is_file() for v in versions)


@pytest.mark.parametrize("version", sorted(HEADS))
def test_every_fixture_loads_migrates_and_verifies(version: int, tmp_path: Path) -> None:
    """Each released schema opens, reaches the latest version, and its chain verifies as written."""
    camp, path = open_copy(version, tmp_path)
    try:
        assert stored_version(path) == latest_version()
        assert camp.verify_audit(checkpoints=[HEADS[version]]).ok
        assert [u.id for u, _ in camp.units()][:2] == ["fin-01", "edu-02"]
        camp.record("fin-01", cf.StudySession(hours=2), actor=CLERK)
        assert camp.verify_audit(checkpoints=[HEADS[version]]).ok
    finally:
        camp.close()


def test_older_fixtures_get_their_overview_after_a_backfill(tmp_path: Path) -> None:
    """A v2 database rolls up by parent at once; its refusals and assessments come from a backfill."""
    camp, _ = open_copy(2, tmp_path)
    try:
        # Units written before versions were kept are judged by the campaign's workflow.
        assert {s.workflow for _, s in camp.units()} == {""}
        assert camp.check("edu-02").judged_by == workflow_ref(cf.presets.district_2005())
        node = camp.progress(under="district-7")
        assert (node.level, node.total) == ("unregistered", 2)
        assert node.by_stage() == {"study_mobilization": 1, "preparation": 1}
        assert camp.stuck().total == 0  # nothing kept yet: the release before kept no refusals
        assert camp.backfill_overview() == (1, 0)
        [entry] = camp.stuck(under="district-7").units
        assert entry.unit.id == "edu-02"
        assert "milestones.missing" in entry.codes
        assert camp.backfill_overview() == (1, 0)  # repeatable
        with camp.store.transaction(write=False) as tx:
            assert tx.exported_through() == HEADS[2].seq
    finally:
        camp.close()


@pytest.mark.parametrize("version", [3, 4, 5])
def test_fixtures_from_v3_on_keep_their_tree_refusals_and_versions(
    version: int, tmp_path: Path
) -> None:
    """The database knows its organisations, its latest refusal and assessment, and both versions."""
    camp, _ = open_copy(version, tmp_path)
    try:
        base, adopted = camp.workflow_versions()
        assert (base.ref, base.policy) == (workflow_ref(cf.presets.district_2005()), "base")
        assert (adopted.ref, adopted.policy) == (workflow_ref(lowered()), "pin")
        assert camp.workflow == lowered()
        assert camp.state("fin-01").workflow == base.ref
        assert camp.state("vil-03").workflow == adopted.ref
        city = camp.progress(under="city-1")
        assert [(c.id, c.total) for c in city.children] == [("district-7", 2)]
        assert (city.total, city.own, city.stuck) == (3, 1, 1)
        assert city.satisfaction.assessed == 1
        assert city.satisfaction.satisfied_rate == pytest.approx(28 / 32)
        [entry] = camp.stuck(under="city-1").units
        assert (entry.unit.id, entry.refusal.seq) == ("edu-02", 12)
        assert [o.id for o in camp.organisations()] == ["city-1", "district-7"]
        codes = (("milestones.missing", 1),)
        # Version 3 kept each refusal's codes in a table of their own; 4 keeps them on the
        # state row, and a backfill restores those of refusals made under 3.
        assert city.blocking == (codes if version >= 4 else ())
        camp.backfill_overview()
        assert camp.progress(under="city-1").blocking == codes
    finally:
        camp.close()
