"""``Campaign.export_xlsx``: the workbook's cells are the figures of progress(), stuck() and the trail.

The campaign runs the mini flow with a host's own gate (``home_visits_at_least``, reading a
host's own fact type, ``HomeVisit``) beside the built-in ones, on memory and SQLite stores:
units finish, make up, get deferred and are held by both kinds of gate.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

import campaignflow as cf
from campaignflow.i18n import messages
from campaignflow.simulation import summarise
from campaignflow.store import Store
from tests.orgtree.flows import BAD, GOOD, GROUP, SUPERIOR, flow_data
from tests.store.conftest import StoreFactory

openpyxl = pytest.importorskip("openpyxl")

CLERK = cf.Actor(id="clerk", roles={"branch_committee"})


@cf.fact_type("xlsx_home_visit")
@attrs.frozen
class HomeVisit:
    """Members a branch brought study to at home (送学上门), in one round of visits."""

    members: int


@cf.guard(
    "xlsx_home_visits",
    messages={
        "xlsx_home_visits.enough": {
            "zh_CN": "已送学上门 {actual} 人次",
            "en": "{actual} home visits made",
        },
        "xlsx_home_visits.few": {
            "zh_CN": "送学上门不足：{actual} 人次，要求不少于 {required} 人次",
            "en": "too few home visits: {actual}, at least {required} required",
        },
    },
)
def home_visits(ctx: cf.GuardContext, *, visits: int = 2) -> cf.Verdict:
    """Home visits over the stage, at least ``visits``."""
    made = sum(v.members for v in ctx.facts(HomeVisit))
    passed = made >= visits
    code = "xlsx_home_visits.enough" if passed else "xlsx_home_visits.few"
    return cf.Verdict("xlsx_home_visits", passed, code, {"actual": made, "required": visits})


def workflow() -> cf.Workflow:
    """The mini flow; leaving ``study`` also needs two home visits (the host's own gate)."""
    data = flow_data()
    data["batches"][0]["title"] = "第一批：县直机关"
    data["transitions"][2]["guards"].append({"guard": "xlsx_home_visits", "visits": 2})
    return cf.Workflow.from_dict(data)


ORGS = [
    cf.Organisation(id="county", name="示范县", level="county"),
    cf.Organisation(id="town-a", name="甲镇", level="town", parent="county"),
    cf.Organisation(id="town-b", name="乙镇", level="town", parent="county"),
    cf.Organisation(id="village-b1", name="乙镇一村", level="village", parent="town-b"),
]
PARENTS = ["town-a", "town-a", "town-b", "village-b1", "village-b1", "county", "town-b"]


def build(store: Store | None, campaign_id: str = "county") -> cf.Campaign:
    """Seven units: two finish, one makes up, two are held (hours; home visits), one deferred."""
    clock = cf.SimulatedClock(date(2005, 1, 10))
    camp = cf.Campaign(workflow(), store, clock=clock, campaign_id=campaign_id)
    camp.add_organisations(ORGS)
    camp.add_units(
        cf.Unit(id=f"u{i}", name=f"第{i}党支部", kind="village", batch=1 if i < 6 else 2, parent=p)
        for i, p in enumerate(PARENTS)
    )
    camp.defer("u5", actor=GROUP, to_batch=2)  # could not start with its batch
    camp.start_batch(1, on=date(2005, 1, 10), actor=GROUP)
    for uid, hours, visits, survey in [
        ("u0", 12, 3, GOOD),
        ("u1", 12, 2, GOOD),
        ("u2", 12, 3, BAD),
        ("u3", 4, 3, GOOD),
        ("u4", 12, 1, GOOD),
    ]:
        camp.record(uid, cf.StudySession(hours=hours, guided=True), actor=CLERK)
        camp.record(uid, HomeVisit(members=visits), actor=CLERK)
        camp.record(uid, survey, actor=SUPERIOR)
    clock.advance(days=20)
    for uid in ("u0", "u1", "u2", "u3", "u4"):
        with contextlib.suppress(cf.TransitionRejected):
            camp.advance(uid, actor=CLERK)
    clock.advance(days=3)
    for uid in ("u0", "u1"):
        camp.record(uid, cf.Milestone("summing_up"), actor=CLERK)
        camp.advance(uid, actor=CLERK)
    clock.advance(days=7)
    return camp


@pytest.fixture
def camp(store_factory: StoreFactory) -> Iterator[cf.Campaign]:
    """The campaign on each store: memory, SQLite and (with CAMPAIGNFLOW_PG_DSN) PostgreSQL."""
    with build(store_factory.open(), store_factory.campaign_id) as campaign:
        yield campaign


def word(key: str, locale: str, **values: Any) -> str:
    return messages.render(f"report.xlsx.{key}", values, locale)


def read(camp: cf.Campaign, locale: str = "zh_CN", **options: Any) -> Any:
    out = io.BytesIO()
    camp.export_xlsx(out, locale=locale, **options)
    out.seek(0)
    return openpyxl.load_workbook(out)


def table(sheet: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The header row and every row as {header: cell}."""
    rows = list(sheet.iter_rows())
    headers = [c.value for c in rows[0]]
    return headers, [dict(zip(headers, row, strict=True)) for row in rows[1:]]


def stage_header(camp: cf.Campaign, stage: str, locale: str) -> str:
    return word("stage_units", locale, stage=camp.workflow.stage(stage).label(locale))


def test_the_batch_sheet_is_progress_by_batch_with_window_dates(camp: cf.Campaign) -> None:
    """Per batch: units per stage as progress() counts them; window dates are dates."""
    book = read(camp)
    _headers, rows = table(book[word("sheet.batches", "zh_CN")])
    progress = camp.progress()
    assert [r[word("batch", "zh_CN")].value for r in rows] == [1, 2, 3]
    for row in rows:
        batch = row[word("batch", "zh_CN")].value
        counts = progress.by_batch.get(batch, {})
        for stage in camp.workflow.stages:
            cell = row[stage_header(camp, stage.id, "zh_CN")]
            assert cell.value == counts.get(stage.id, 0), (batch, stage.id)
            assert cell.data_type == "n"
        assert row[word("units", "zh_CN")].value == sum(counts.values())
        opens = row[word("opens", "zh_CN")]
        assert opens.is_date
        window = next(w for w in camp.workflow.batches if w.number == batch)
        assert opens.value == datetime.combine(window.opens, datetime.min.time())
    first = rows[0]
    assert first[word("batch_title", "zh_CN")].value == "第一批：县直机关"
    assert first[word("finished", "zh_CN")].value == progress.by_stage().get("done", 0) == 2
    assert first[word("on_time", "zh_CN")].value == 2
    assert first[word("remedial_now", "zh_CN")].value == progress.remedial == 1
    assert rows[1][word("units", "zh_CN")].value == 2  # u6 and the deferred u5


def test_the_organisation_sheets_are_the_roll_up(camp: cf.Campaign) -> None:
    """Each organisation's row is progress(under=...) of it; per batch, its by_batch counts."""
    book = read(camp)
    _, rows = table(book[word("sheet.orgs", "zh_CN")])
    nodes = list(camp.progress(under="county").walk())
    assert [r[word("org_id", "zh_CN")].value for r in rows] == [n.id for n in nodes]
    for row, node in zip(rows, nodes, strict=True):
        assert row[word("units", "zh_CN")].value == node.total
        assert row[word("finished", "zh_CN")].value == node.finished
        assert row[word("on_time", "zh_CN")].value == node.on_time
        assert row[word("remedial_units", "zh_CN")].value == node.remedial
        assert row[word("stuck", "zh_CN")].value == node.stuck
        assert row[word("level", "zh_CN")].value == node.level
        share = row[word("on_time_share", "zh_CN")]
        assert share.value == node.on_time_share
        if share.value is not None:
            assert share.number_format == "0.0%"
    county = rows[0]
    assert county[word("stuck", "zh_CN")].value == 2
    assert "学时不足" in county[word("top_gates", "zh_CN")].value
    assert county[word("satisfied_rate", "zh_CN")].value == pytest.approx(
        camp.progress(under="county").satisfaction.satisfied_rate
    )
    by_org = {r[word("org_id", "zh_CN")].value: r for r in rows}
    assert by_org["village-b1"][word("parent", "zh_CN")].value == "town-b"
    _, levels = table(book[word("sheet.levels", "zh_CN")])
    by_depth = [[n for n in nodes if n.depth == d] for d in range(3)]
    assert [(r[word("depth", "zh_CN")].value, r[word("level", "zh_CN")].value) for r in levels] == [
        (0, "county"),
        (1, "town"),
        (2, "village"),
    ]
    for row, members in zip(levels, by_depth, strict=True):
        assert row[word("organisations", "zh_CN")].value == len(members)
        for key, figure in [("units", "total"), ("finished", "finished"), ("stuck", "stuck")]:
            assert row[word(key, "zh_CN")].value == sum(getattr(n, figure) for n in members)
    assert levels[1][word("units", "zh_CN")].value == 6  # u5 hangs on the county itself
    _, pairs = table(book[word("sheet.org_batches", "zh_CN")])
    for row in pairs:
        node = camp.progress(under=row[word("org_id", "zh_CN")].value)
        counts = node.by_batch[row[word("batch", "zh_CN")].value]
        for stage in camp.workflow.stages:
            assert row[stage_header(camp, stage.id, "zh_CN")].value == counts.get(stage.id, 0)
    assert len(pairs) == sum(len(n.by_batch) for n in nodes)


def test_the_stuck_sheet_is_stuck_with_reasons_in_the_locale(camp: cf.Campaign) -> None:
    """One row per stuck unit: days as a number, the refusal as a date, the gates' own words."""
    stuck = camp.stuck(limit=None)
    assert {e.unit.id for e in stuck.units} == {"u3", "u4"}
    for locale in ("zh_CN", "en"):
        _, rows = table(read(camp, locale)[word("sheet.stuck", locale)])
        assert [r[word("unit_id", locale)].value for r in rows] == [e.unit.id for e in stuck.units]
        for row, entry in zip(rows, stuck.units, strict=True):
            days = row[word("days_in_stage", locale)]
            assert days.value == entry.days_in_stage
            assert days.data_type == "n"
            refused = row[word("refused_on", locale)]
            assert refused.is_date
            assert refused.value.date() == entry.refusal.on
            assert row[word("gate_codes", locale)].value == ", ".join(entry.codes)
            why = row[word("reasons", locale)].value
            assert all(v.message(locale) in why for v in entry.refusal.failures)
            assert row[word("stage", locale)].value == camp.workflow.stage("study").label(locale)
    held = {e.unit.id: e.codes for e in stuck.units}
    assert held["u4"] == ("xlsx_home_visits.few",)  # the host's own gate, in its own words
    _, rows = table(read(camp)[word("sheet.stuck", "zh_CN")])
    assert (
        "送学上门不足：1 人次"
        in rows[[e.unit.id for e in stuck.units].index("u4")][word("reasons", "zh_CN")].value
    )


def test_the_timeline_is_summarise_s_timeline(camp: cf.Campaign) -> None:
    """The timeline sheet has summarise()'s points: a row per batch and day its counts changed."""
    _, rows = table(read(camp)[word("sheet.timeline", "zh_CN")])
    expected = summarise(camp).timeline
    assert len(rows) == len(expected) > 3
    for row, point in zip(rows, expected, strict=True):
        day = row[word("date", "zh_CN")]
        assert day.is_date
        assert day.value.date() == point.day
        assert row[word("batch", "zh_CN")].value == point.batch
        for stage, count in point.counts.items():
            assert row[stage_header(camp, stage, "zh_CN")].value == count


def test_headers_are_chinese_under_zh_cn_and_english_under_en(camp: cf.Campaign) -> None:
    """Sheet titles and headers come from the catalogue in the locale asked for."""
    zh, en = read(camp, "zh_CN"), read(camp, "en")
    assert zh.sheetnames == [
        "说明",
        "按批次",
        "按组织",
        "按层级",
        "组织分批次",
        "受阻单位",
        "时间线",
    ]
    assert en.sheetnames == [
        "About",
        "By batch",
        "By organisation",
        "By level",
        "Organisation by batch",
        "Stuck units",
        "Timeline",
    ]
    headers, _ = table(zh["按批次"])
    assert headers[:5] == ["批次", "批次名称", "开始日期", "截止日期", "单位数（个）"]
    assert "学习补课（个）" in headers
    headers, _ = table(en["By batch"])
    assert "Study make-up (units)" in headers
    for sheet in zh:
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in table(sheet)[0]), sheet
    _, about = table(zh["说明"])
    values = {r["项目"].value: r["内容"] for r in about}
    assert values["活动"].value == camp.campaign_id
    assert values["导出日期"].is_date
    assert values["导出日期"].value.date() == camp.clock.now().date()


def test_under_an_organisation_exports_only_its_units(camp: cf.Campaign) -> None:
    """With under=: the roll-up starts there and every sheet counts only the units below it."""
    book = read(camp, under="town-b")
    _, orgs = table(book[word("sheet.orgs", "zh_CN")])
    assert [r[word("org_id", "zh_CN")].value for r in orgs] == ["town-b", "village-b1"]
    _, batches = table(book[word("sheet.batches", "zh_CN")])
    assert sum(r[word("units", "zh_CN")].value for r in batches) == 4  # u2, u3, u4, u6
    _, stuck = table(book[word("sheet.stuck", "zh_CN")])
    assert [r[word("unit_id", "zh_CN")].value for r in stuck] == [
        e.unit.id for e in camp.stuck(under="town-b", limit=None).units
    ]
    _, timeline = table(book[word("sheet.timeline", "zh_CN")])
    assert timeline[0][stage_header(camp, "study", "zh_CN")].value == 3  # u2, u3, u4 started


def test_writes_to_a_path(camp: cf.Campaign, tmp_path: Path) -> None:
    """A path is written (and rewritten) as an xlsx file."""
    path = tmp_path / "county.xlsx"
    camp.export_xlsx(path, locale="en")
    camp.export_xlsx(str(path), locale="en")
    assert openpyxl.load_workbook(path).sheetnames[0] == "About"


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"target": 42}, "xlsx.target"),
        ({"target": b"out.xlsx"}, "xlsx.target"),
        ({"target": ""}, "xlsx.target"),
        ({"target": io.StringIO()}, "xlsx.target"),
        ({"target": "FOLDER"}, "xlsx.target"),
        ({"target": "FOLDER/missing/out.xlsx"}, "xlsx.cannot_write"),
        ({"locale": "fr"}, "validation.locale"),
        ({"locale": None}, "validation.locale"),
        ({"under": ""}, "validation.field"),
        ({"under": 3}, "validation.field"),
        ({"under": "nowhere"}, "validation.field"),
    ],
)
def test_bad_arguments_are_refused_naming_them(
    camp: cf.Campaign, tmp_path: Path, options: dict[str, Any], code: str
) -> None:
    """Each bad argument raises ValidationError with its code; nothing is written."""
    options = dict(options)  # the parameter is shared by every store
    target = options.pop("target", io.BytesIO())
    if isinstance(target, str) and target.startswith("FOLDER"):
        target = target.replace("FOLDER", str(tmp_path))
    with pytest.raises(cf.ValidationError) as raised:
        camp.export_xlsx(target, **options)
    assert raised.value.code == code
    assert raised.value.message("zh_CN") != raised.value.message("en")
    assert list(tmp_path.glob("*.xlsx")) == []


def test_without_openpyxl_the_error_names_the_extra(
    camp: cf.Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing openpyxl raises MissingExtra (an ImportError too) naming the pip command."""
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(cf.MissingExtra) as raised:
        camp.export_xlsx(tmp_path / "out.xlsx")
    error = raised.value
    assert isinstance(error, ImportError)
    assert (error.extra, error.package, error.code) == ("xlsx", "openpyxl", "extra.missing")
    assert "pip install 'campaignflow[xlsx]'" in str(error)
    assert "pip install 'campaignflow[xlsx]'" in error.message("zh_CN")
    assert not (tmp_path / "out.xlsx").exists()


def test_the_core_does_not_import_openpyxl() -> None:
    """Importing campaignflow and building a campaign loads no openpyxl."""
    code = (
        "import sys, campaignflow as cf; cf.Campaign(cf.presets.district_2005()); "
        "print('openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_names_stay_text_never_formulas_or_broken_xml() -> None:
    """A name that looks like a formula stays text; a control character shows escaped."""
    camp = cf.Campaign(workflow(), clock=cf.FixedClock(date(2005, 1, 10)))
    camp.add_organisations(
        [
            cf.Organisation(id="top", name='=HYPERLINK("http://x","点我")', level="county"),
            cf.Organisation(id="bell", name="响铃\x07镇", level="town", parent="top"),
        ]
    )
    _, rows = table(read(camp)[word("sheet.orgs", "zh_CN")])
    names = [r[word("org_name", "zh_CN")] for r in rows]
    assert names[0].value == '=HYPERLINK("http://x","点我")'
    assert names[0].data_type == "s"
    assert names[1].value == "响铃\\x07镇"
