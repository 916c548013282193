"""Scenarios: the campaign to play forward — workflow, batches, roster, behaviour — as data.

A scenario is a TOML file (or a dict of the same shape) read with the standard library's
``tomllib`` and structured by the package's one cattrs converter: unknown keys are errors,
and every problem is reported at once as a :class:`~campaignflow.ValidationError` whose
``problems`` each name the key path, the value and the rule
(``behaviour.survey.failure_rate: must be a number between 0 and 1, got 2``).
The file format is documented field by field in ``docs/simulation.md``.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import attrs

from campaignflow._convert import converter, structure
from campaignflow._validators import MAX_INT, is_valid_unicode, rule_problem
from campaignflow.errors import (
    CampaignflowError,
    DefinitionError,
    Problem,
    ValidationError,
    nested,
)
from campaignflow.model import BatchWindow, Unit
from campaignflow.workflow import Workflow

__all__ = [
    "BatchPlan",
    "Behaviour",
    "LateStartModel",
    "MembersModel",
    "MobileMembersModel",
    "RetiredMembersModel",
    "Roster",
    "Scenario",
    "StudyModel",
    "SurveyModel",
    "load_scenario",
]

#: Levels of the satisfaction scale, in the order ballots are reported (domain glossary).
LEVELS_4 = ("satisfied", "fairly_satisfied", "basically_satisfied", "dissatisfied")
LEVELS_3 = ("satisfied", "basically_satisfied", "dissatisfied")

#: Typical working length of each stage of the presets, in days (shared/domain.md).
DEFAULT_STAGE_DAYS: dict[str, tuple[int, int]] = {
    "preparation": (7, 21),
    "study_mobilization": (30, 42),
    "analysis_review": (28, 35),
    "rectification": (35, 42),
    "closing": (14, 28),
}

#: Working length of a stage the table does not name.
FALLBACK_STAGE_DAYS = (14, 28)

#: A campaign runs for months, not decades: dates further than this from ``start`` are mistakes.
MAX_DAYS = 3660

#: More units than this is a mistake (the nation had 3.564 million grassroots organisations).
MAX_UNITS = 10_000_000

_CSV_COLUMNS = ("id", "name", "kind", "batch", "members", "parent")


@attrs.frozen
class BatchPlan:
    """A batch (批次): its window, and which unit kinds of a generated roster belong to it.

    The scenario's windows replace the workflow's, so the ``within_batch_window`` gate and
    the results use the dates written here (the national batch 3 opened on 25 November).
    """

    number: int
    opens: date
    closes: date
    kinds: tuple[str, ...] = ()
    title: str = ""


@attrs.frozen
class MembersModel:
    """Members per unit of a generated roster.

    ``uniform``: a whole number from ``min`` to ``max``; ``normal``: ``round(N(mean, sd))``
    clipped to ``[min, max]``; ``fixed``: always ``mean`` (rounded).
    """

    distribution: Literal["uniform", "normal", "fixed"] = "uniform"
    min: int = 20
    max: int = 41
    mean: float = 30.0
    sd: float = 8.0


@attrs.frozen
class Roster:
    """The units: generated from ``counts`` per kind, or read from a CSV file.

    ``csv`` (relative to the scenario file) has the columns ``id,name,kind,batch,members,parent``;
    an empty ``batch`` means the batch whose ``kinds`` list the unit's kind. ``counts`` and
    ``csv`` are exclusive. ``members_by_kind`` overrides ``members`` for some kinds.
    """

    counts: dict[str, int] = attrs.field(factory=dict)
    csv: str | None = None
    members: MembersModel = MembersModel()
    members_by_kind: dict[str, MembersModel] = attrs.field(factory=dict)


@attrs.frozen
class StudyModel:
    """Concentrated study (学时): each unit studies ``hours_per_week`` (drawn once per unit).

    ``guided_share`` of each week's hours are guided (lectures, videos, discussion).
    """

    hours_per_week: tuple[float, float] = (6.0, 10.0)
    guided_share: float = 0.6


@attrs.frozen
class SurveyModel:
    """Mass satisfaction assessments (群众满意度测评): how ballots fall.

    ``levels``: the mean share of ballots per level (for the scale: 4 levels with
    ``fairly_satisfied``, or 3 without). ``failure_rate``: the chance an assessment finds a
    troubled unit, whose dissatisfied share is drawn from ``troubled_dissatisfied``;
    ``retry_failure_rate`` is that chance for the re-assessment after make-up (补课).
    Ballots per assessment: ``max(min_ballots, round(members * raters_per_member))``.
    """

    scale: Literal[3, 4] = 4
    levels: dict[str, float] = attrs.field(
        factory=lambda: {
            "satisfied": 0.874,
            "fairly_satisfied": 0.105,
            "basically_satisfied": 0.017,
            "dissatisfied": 0.004,
        }
    )
    failure_rate: float = 0.02
    retry_failure_rate: float = 0.005
    troubled_dissatisfied: tuple[float, float] = (0.3, 0.6)
    raters_per_member: float = 1.5
    min_ballots: int = 20


@attrs.frozen
class LateStartModel:
    """Units that cannot start with their batch "for special reasons" (b2 → b3).

    ``share`` of the units of ``batches`` (every batch but the last, when empty) are deferred
    by the leading group to the next batch on the day their batch opens.
    """

    share: float = 0.0
    batches: tuple[int, ...] = ()


@attrs.frozen
class MobileMembersModel:
    """Mobile members (流动党员): talks by letter or phone, make-up when they come home.

    Each member is mobile with chance ``share``; a unit's coverage reports (party-spirit
    reports) first count only the members at home, and the rest a make-up delay later.
    """

    share: float = 0.05
    makeup_delay_days: tuple[int, int] = (7, 30)


@attrs.frozen
class RetiredMembersModel:
    """Retired and frail members (离退休党员): study brought to their homes [S][L].

    Each member is retired or frail with chance ``share``. A unit with ``r`` of them carries
    each week's study to their homes, ``home_visits_per_day`` homes a day, so the week's
    sessions count ``ceil(r / home_visits_per_day)`` days after the week ends, and the study
    gates hold that much later. Both defaults are assumptions [I], not figures from the
    sources, which say only that study was brought to them; set ``share = 0`` to leave
    them out.
    """

    share: float = 0.15
    home_visits_per_day: int = 4


@attrs.frozen
class Behaviour:
    """How units, the superior organisation and the supervision group behave (seeded)."""

    study: StudyModel = StudyModel()
    survey: SurveyModel = SurveyModel()
    stage_days: dict[str, tuple[int, int]] = attrs.field(factory=lambda: dict(DEFAULT_STAGE_DAYS))
    approval_delay_days: tuple[int, int] = (1, 5)
    remedial_days: tuple[int, int] = (14, 28)
    reassess_days: tuple[int, int] = (5, 10)
    late_start: LateStartModel = LateStartModel()
    mobile_members: MobileMembersModel = MobileMembersModel()
    retired_members: RetiredMembersModel = RetiredMembersModel()
    closed_enterprise: Literal["reattach", "own_unit"] = "reattach"

    def days_for(self, stage: str) -> tuple[int, int]:
        """The working-length range of ``stage`` (a default when the table omits it)."""
        return self.stage_days.get(stage, DEFAULT_STAGE_DAYS.get(stage, FALLBACK_STAGE_DAYS))


@attrs.frozen
class _ScenarioFile:
    """The file format, as cattrs reads it."""

    name: str
    start: date
    batches: list[BatchPlan]
    roster: Roster
    seed: int = 0
    workflow: str = "district_2005"
    workflow_overrides: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    end: date | None = None
    behaviour: Behaviour = Behaviour()


@attrs.frozen(eq=False)
class Scenario:
    """A campaign to simulate: workflow, dates, batches, roster, behaviour models and a seed.

    Build one with :func:`load_scenario` or :meth:`from_dict`; constructing it directly
    validates the same way. ``base_dir`` is where a workflow file or roster CSV named by a
    relative path is found (the scenario file's folder).

    Raises:
        ValidationError: every problem at once, each naming its key path.
    """

    name: str
    start: date
    batches: tuple[BatchPlan, ...]
    roster: Roster
    seed: int = 0
    workflow: str = "district_2005"
    workflow_overrides: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    end: date | None = None
    behaviour: Behaviour = Behaviour()
    base_dir: Path | None = attrs.field(default=None, repr=False)
    source: str = attrs.field(default="<scenario>", repr=False)
    _csv_units: tuple[Unit, ...] | None = attrs.field(default=None, repr=False, alias="csv_units")

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise _error(self.source, problems)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, self.seed, self.start))

    # --- loading ------------------------------------------------------------------------

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "<dict>", base_dir: str | Path | None = None
    ) -> Scenario:
        """A scenario from plain data of the file's shape.

        Raises:
            ValidationError: every problem at once, each naming its key path.
        """
        try:
            raw = structure(data, _ScenarioFile, what="scenario")
        except ValidationError as exc:
            raise _error(source, [_strip(p) for p in exc.problems]) from None
        except (RecursionError, OverflowError) as exc:
            raise _error(
                source, [Problem("$", "scenario.unreadable", {"error": type(exc).__name__})]
            ) from None
        folder = Path(base_dir) if base_dir is not None else None
        units: tuple[Unit, ...] | None = None
        if raw.roster.csv is not None and isinstance(raw.roster.csv, str) and not raw.roster.counts:
            units = _read_csv(raw.roster.csv, folder, raw.batches, source)
        return cls(
            name=raw.name,
            start=raw.start,
            batches=tuple(raw.batches),
            roster=raw.roster,
            seed=raw.seed,
            workflow=raw.workflow,
            workflow_overrides=raw.workflow_overrides,
            end=raw.end,
            behaviour=raw.behaviour,
            base_dir=folder,
            source=source,
            csv_units=units,
        )

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data; ``Scenario.from_dict(s.to_dict())`` equals ``s``."""
        data: dict[str, Any] = {
            "name": self.name,
            "seed": self.seed,
            "workflow": self.workflow,
            "workflow_overrides": {k: dict(v) for k, v in self.workflow_overrides.items()},
            "start": self.start.isoformat(),
            "batches": [converter.unstructure(b) for b in self.batches],
            "roster": _drop_none(converter.unstructure(self.roster)),
            "behaviour": converter.unstructure(self.behaviour),
        }
        if self.end is not None:
            data["end"] = self.end.isoformat()
        listed: dict[str, Any] = _listed(data)
        return listed

    # --- what it implies ----------------------------------------------------------------

    def load_workflow(self) -> Workflow:
        """The workflow with the overrides applied and the scenario's batch windows.

        Raises:
            ValidationError: an unknown preset or file, or overrides the workflow rejects.
        """
        from campaignflow.presets import PRESETS, load

        try:
            if self.workflow in PRESETS:
                workflow = load(self.workflow)
            else:
                path = Path(self.workflow)
                if not path.is_absolute() and self.base_dir is not None:
                    path = self.base_dir / path
                workflow = Workflow.from_file(path)
            for guard_name, params in self.workflow_overrides.items():
                workflow = workflow.with_params(guard_name, **params)
            data = workflow.to_dict()
            data["batches"] = [
                {
                    "number": b.number,
                    "opens": b.opens.isoformat(),
                    "closes": b.closes.isoformat(),
                    "title": b.title,
                }
                for b in self.batches
            ]
            workflow = Workflow.from_dict(data, source=f"workflow of scenario {self.name!r}")
        except DefinitionError as exc:
            raise _error(self.source, [nested("workflow", p) for p in exc.problems]) from None
        except CampaignflowError as exc:
            raise _error(self.source, [Problem("workflow", exc.code, exc.params)]) from None
        # A misspelt stage would silently get the default length: name it instead (the
        # presets' stage names are defaults, unused by a workflow without those stages).
        unknown: list[str] = [
            Problem(
                f"behaviour.stage_days.{stage}",
                "scenario.no_such_stage",
                {
                    "workflow": repr(workflow.name),
                    "stages": [st.id for st in workflow.stages],
                    "value": repr(stage),
                },
            )
            for stage in self.behaviour.stage_days
            if not workflow.has_stage(stage) and stage not in DEFAULT_STAGE_DAYS
        ]
        if unknown:
            raise _error(self.source, unknown)
        return workflow

    def windows(self) -> tuple[BatchWindow, ...]:
        """The batch windows, in batch order."""
        return tuple(
            BatchWindow(b.number, b.opens, b.closes, b.title)
            for b in sorted(self.batches, key=lambda b: b.number)
        )

    def batch_of_kind(self) -> dict[str, int]:
        """Which batch each kind named in the batches' ``kinds`` belongs to."""
        return {kind: b.number for b in self.batches for kind in b.kinds}

    def unit_count(self) -> int:
        """How many units the roster makes (closed enterprises re-attached are not units)."""
        if self._csv_units is not None:
            return len(self._csv_units)
        return sum(
            count
            for kind, count in self.roster.counts.items()
            if not (kind == "closed_enterprise" and self.behaviour.closed_enterprise == "reattach")
        )

    @property
    def last_day(self) -> date:
        """The last day a simulation may run: ``end``, or a year after the last batch closes."""
        if self.end is not None:
            return self.end
        closes = max(b.closes for b in self.batches)
        return date.fromordinal(min(closes.toordinal() + 365, date.max.toordinal()))

    def units(self) -> list[Unit]:
        """Every unit of the roster, in roster order (see :func:`~.behaviour.generate_roster`)."""
        if self._csv_units is not None:
            return list(self._csv_units)
        from campaignflow.simulation.behaviour import generate_roster

        return generate_roster(self)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file; relative paths in it resolve against its folder.

    Raises:
        ValidationError: the file is unreadable or not TOML, or the scenario has problems
            (all listed, each with its key path).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(str(file), [Problem("", "file.unreadable", {"exc": str(exc)})]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = Problem("", "file.invalid_syntax", {"format": "TOML", "exc": str(exc)})
        raise _error(str(file), [problem]) from None
    except RecursionError:
        problem = Problem("", "file.nested_too_deeply", {"format": "TOML"})
        raise _error(str(file), [problem]) from None
    try:
        return Scenario.from_dict(data, source=str(file), base_dir=file.parent)
    except ValidationError as exc:
        lines = _key_lines(text)
        raise _error(str(file), [_with_line(p, lines) for p in exc.problems]) from None


def _key_lines(text: str) -> dict[str, int]:
    """Where each key path is written in a TOML text (a line scan; good for plain files)."""
    found: dict[str, int] = {}
    table = ""
    arrays: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[["):
            name = line[2:].split("]]", 1)[0].strip()
            arrays[name] = arrays.get(name, -1) + 1
            table = f"{name}[{arrays[name]}]"
        elif line.startswith("["):
            name = line[1:].split("]", 1)[0].strip()
            head = name.split(".", 1)[0]
            # A sub-table of the latest array entry ([batches.x] after [[batches]]).
            table = name.replace(head, f"{head}[{arrays[head]}]", 1) if head in arrays else name
        elif "=" in line and not line.startswith("#"):
            key = line.split("=", 1)[0].strip().strip('"').strip("'")
            table_key = f"{table}.{key}" if table else key
            found.setdefault(table_key, number)
            continue
        else:
            continue
        found.setdefault(table, number)
    return found


def _with_line(problem: str, lines: Mapping[str, int]) -> str:
    """``problem`` with the line its key path is written on, when the path can be found."""
    path, sep, rest = problem.partition(": ")
    if not sep or " " in path or path.startswith("$"):
        return problem
    path = path.replace("['", ".").replace("']", "")
    candidates = [path]
    if rest.startswith("unknown key(s): "):
        first = rest.removeprefix("unknown key(s): ").split(",")[0].strip()
        candidates.insert(0, f"{path}.{first}")
    while "." in path or "[" in path:
        path = path.rsplit(".", 1)[0] if "." in path else path.rsplit("[", 1)[0]
        candidates.append(path)
    for candidate in candidates:
        if candidate in lines:
            if isinstance(problem, Problem):
                return problem.with_line(lines[candidate])
            return f"{problem} (line {lines[candidate]})"
    return problem


# --- validation -------------------------------------------------------------------------


def _error(source: str, problems: Sequence[str]) -> ValidationError:
    count = len(problems)
    return ValidationError(
        code="scenario.problems" if count != 1 else "scenario.problems_one",
        params={"source": source, "count": count},
        problems=problems,
    )


def _strip(problem: str) -> str:
    # cattrs paths start at "$"; scenario keys read better as TOML writes them.
    if isinstance(problem, Problem) and problem.path.startswith("$."):
        return problem.with_path(problem.path[2:])
    if problem.startswith("$."):
        return problem[2:]
    return problem


def _listed(value: Any) -> Any:
    # Tuples become lists, as a TOML or JSON reader gives them back.
    if isinstance(value, dict):
        return {k: _listed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_listed(v) for v in value]
    return value


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= MAX_INT
    )


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and is_valid_unicode(value)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, rule: str, value: object) -> None:
        """A problem ``path: rule, got value``; the rule is a glossary key (VALIDATION_RULES)."""
        self.problems.append(rule_problem(path, value, rule))

    def refuse(self, path: str, code: str, value: object, params: Mapping[str, Any]) -> None:
        """A problem whose rule has data in it: its own code, with ``value`` and ``params``."""
        self.problems.append(Problem(path, code, {**params, "value": repr(value)}))

    def whole(self, path: str, value: object, lo: int, hi: int = MAX_INT) -> bool:
        if not _is_int(value) or not lo <= value <= hi:  # type: ignore[operator]
            self.refuse(path, "problem.whole_number", value, {"minimum": lo, "maximum": hi})
            return False
        return True

    def share(self, path: str, value: object) -> bool:
        if not _is_number(value) or not 0 <= value <= 1:  # type: ignore[operator]
            self.fail(path, "must be a number between 0 and 1", value)
            return False
        return True

    def number(self, path: str, value: object, lo: float, hi: float) -> bool:
        if not _is_number(value) or not lo <= value <= hi:  # type: ignore[operator]
            self.refuse(path, "problem.number_range", value, {"minimum": lo, "maximum": hi})
            return False
        return True

    def span(self, path: str, value: object, lo: float, hi: float, *, whole: bool) -> None:
        ok = isinstance(value, tuple | list) and len(value) == 2
        if ok:
            assert isinstance(value, tuple | list)
            check = _is_int if whole else _is_number
            ok = all(check(v) and lo <= v <= hi for v in value) and value[0] <= value[1]
        if not ok:
            code = "problem.span_whole" if whole else "problem.span"
            self.refuse(path, code, value, {"minimum": lo, "maximum": hi})

    def text(self, path: str, value: object) -> bool:
        if not _text(value) or len(str(value)) > 200:
            self.fail(path, "must be non-empty text (at most 200 characters)", value)
            return False
        return True

    def ident(self, path: str, value: object) -> bool:
        import re

        if not isinstance(value, str) or not re.fullmatch(
            r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}", value
        ):
            self.fail(path, "must be an id of letters, digits, '_', '-', '.'", value)
            return False
        return True


def _problems(s: Scenario) -> list[str]:
    c = _Checker()
    c.text("name", s.name)
    c.whole("seed", s.seed, 0, 2**63 - 1)
    c.text("workflow", s.workflow)
    if not isinstance(s.start, date) or isinstance(s.start, datetime):
        c.fail("start", "must be a date", s.start)
    if s.end is not None and (not isinstance(s.end, date) or isinstance(s.end, datetime)):
        c.fail("end", "must be a date", s.end)
    elif s.end is not None and isinstance(s.start, date) and s.end < s.start:
        c.refuse("end", "problem.not_before_start", s.end, {"start": str(s.start)})
    elif s.end is not None and isinstance(s.start, date) and (s.end - s.start).days > MAX_DAYS:
        c.refuse(
            "end", "problem.too_long_after_start", s.end, {"days": MAX_DAYS, "start": str(s.start)}
        )
    if isinstance(s.workflow_overrides, Mapping):
        for guard_name, params in s.workflow_overrides.items():
            c.ident(f"workflow_overrides.{guard_name}", guard_name)
            if not isinstance(params, Mapping) or not params:
                c.fail(
                    f"workflow_overrides.{guard_name}", "must be a table of guard params", params
                )
    else:
        c.fail(
            "workflow_overrides", "must be a table of guard name -> params", s.workflow_overrides
        )
    _check_batches(c, s)
    if not isinstance(s.behaviour, Behaviour):
        c.fail("behaviour", "must be a behaviour table", s.behaviour)
        return c.problems
    _check_roster(c, s)
    _check_behaviour(c, s.behaviour, s.batches if isinstance(s.batches, tuple) else ())
    return c.problems


def _check_batches(c: _Checker, s: Scenario) -> None:
    if not isinstance(s.batches, tuple) or not s.batches:
        c.fail("batches", "must list at least one batch", s.batches)
        return
    seen: dict[int, int] = {}
    kinds: dict[str, int] = {}
    for i, b in enumerate(s.batches):
        path = f"batches[{i}]"
        if not isinstance(b, BatchPlan):
            c.fail(path, "must be a batch table", b)
            continue
        if c.whole(f"{path}.number", b.number, 1, 1000):
            if b.number in seen:
                c.refuse(
                    f"{path}.number",
                    "scenario.duplicate_batch",
                    b.number,
                    {"first": seen[b.number]},
                )
            seen[b.number] = i
        if isinstance(b.opens, date) and isinstance(b.closes, date) and b.closes < b.opens:
            c.refuse(
                f"{path}.closes", "problem.not_before_opens", b.closes, {"opens": str(b.opens)}
            )
        if isinstance(b.title, str) and not is_valid_unicode(b.title):
            c.fail(f"{path}.title", "must be valid text", b.title)
        for j, kind in enumerate(b.kinds):
            if c.ident(f"{path}.kinds[{j}]", kind):
                if kind in kinds:
                    c.refuse(
                        f"{path}.kinds[{j}]",
                        "scenario.kind_in_two_batches",
                        kind,
                        {"first": kinds[kind]},
                    )
                kinds[kind] = i
        if isinstance(s.start, date) and isinstance(b.opens, date) and b.opens < s.start:
            c.refuse(
                f"{path}.opens",
                "problem.not_before_scenario_start",
                b.opens,
                {"start": str(s.start)},
            )
        if (
            isinstance(s.start, date)
            and isinstance(b.closes, date)
            and (b.closes - s.start).days > MAX_DAYS
        ):
            c.refuse(
                f"{path}.closes",
                "problem.too_long_after_start",
                b.closes,
                {"days": MAX_DAYS, "start": str(s.start)},
            )


def _check_roster(c: _Checker, s: Scenario) -> None:
    r = s.roster
    if not isinstance(r, Roster):
        c.fail("roster", "must be a roster table", r)
        return
    if r.csv is not None and r.counts:
        c.fail("roster", "give either counts or csv, not both", "counts and csv")
    elif r.csv is None and not r.counts:
        c.fail("roster", "must give counts per kind or a csv file", "neither")
    if r.csv is not None:
        c.text("roster.csv", r.csv)
    by_kind = s.batch_of_kind() if isinstance(s.batches, tuple) else {}
    total = 0
    for kind, count in r.counts.items():
        path = f"roster.counts.{kind}"
        c.ident(path, kind)
        if c.whole(path, count, 0, MAX_UNITS):
            total += count
        reattached = kind == "closed_enterprise" and s.behaviour.closed_enterprise == "reattach"
        if reattached:
            if not r.counts.get("community"):
                c.fail(path, "closed enterprises re-attach to community branches: count some", kind)
        elif kind not in by_kind and isinstance(kind, str):
            c.fail(path, "kind must be listed in the kinds of one batch", kind)
    if total > MAX_UNITS:
        c.refuse("roster.counts", "scenario.too_many_units", total, {"maximum": MAX_UNITS})
    _check_members(c, "roster.members", r.members)
    for kind, model in r.members_by_kind.items():
        c.ident(f"roster.members_by_kind.{kind}", kind)
        _check_members(c, f"roster.members_by_kind.{kind}", model)


def _check_members(c: _Checker, path: str, m: MembersModel) -> None:
    ok = c.whole(f"{path}.min", m.min, 1, 100_000) & c.whole(f"{path}.max", m.max, 1, 100_000)
    if ok and m.max < m.min:
        c.refuse(f"{path}.max", "problem.below_min", m.max, {"minimum": m.min})
    c.number(f"{path}.mean", m.mean, 1, 100_000)
    c.number(f"{path}.sd", m.sd, 0, 100_000)


def _check_behaviour(c: _Checker, b: Behaviour, batches: Sequence[BatchPlan]) -> None:
    c.span("behaviour.study.hours_per_week", b.study.hours_per_week, 0, 168, whole=False)
    c.share("behaviour.study.guided_share", b.study.guided_share)
    sv = b.survey
    levels = LEVELS_4 if sv.scale == 4 else LEVELS_3
    if set(sv.levels) != set(levels):
        c.refuse(
            "behaviour.survey.levels",
            "scenario.scale_shares",
            sorted(sv.levels),
            {"scale": sv.scale, "levels": list(levels)},
        )
    else:
        fine = all(c.share(f"behaviour.survey.levels.{k}", v) for k, v in sv.levels.items())
        if fine and not math.isclose(math.fsum(sv.levels.values()), 1.0, abs_tol=1e-6):
            c.fail(
                "behaviour.survey.levels", "shares must add up to 1", math.fsum(sv.levels.values())
            )
        if fine and sv.levels["dissatisfied"] > 0.5:
            c.fail(
                "behaviour.survey.levels.dissatisfied",
                "must be at most 0.5",
                sv.levels["dissatisfied"],
            )
    c.share("behaviour.survey.failure_rate", sv.failure_rate)
    c.share("behaviour.survey.retry_failure_rate", sv.retry_failure_rate)
    c.span("behaviour.survey.troubled_dissatisfied", sv.troubled_dissatisfied, 0, 1, whole=False)
    c.number("behaviour.survey.raters_per_member", sv.raters_per_member, 0, 1000)
    c.whole("behaviour.survey.min_ballots", sv.min_ballots, 1, 1_000_000)
    for stage, span in b.stage_days.items():
        c.ident(f"behaviour.stage_days.{stage}", stage)
        c.span(f"behaviour.stage_days.{stage}", span, 1, 3650, whole=True)
    c.span("behaviour.approval_delay_days", b.approval_delay_days, 0, 365, whole=True)
    c.span("behaviour.remedial_days", b.remedial_days, 1, 365, whole=True)
    c.span("behaviour.reassess_days", b.reassess_days, 1, 365, whole=True)
    c.share("behaviour.late_start.share", b.late_start.share)
    numbers = {p.number for p in batches if isinstance(p, BatchPlan)}
    for i, number in enumerate(b.late_start.batches):
        if c.whole(f"behaviour.late_start.batches[{i}]", number, 1, 1000) and number not in numbers:
            c.fail(
                f"behaviour.late_start.batches[{i}]",
                "must be one of the scenario's batches",
                number,
            )
    c.share("behaviour.mobile_members.share", b.mobile_members.share)
    c.span(
        "behaviour.mobile_members.makeup_delay_days",
        b.mobile_members.makeup_delay_days,
        0,
        365,
        whole=True,
    )
    c.share("behaviour.retired_members.share", b.retired_members.share)
    c.whole(
        "behaviour.retired_members.home_visits_per_day",
        b.retired_members.home_visits_per_day,
        1,
        1000,
    )


# --- CSV rosters ------------------------------------------------------------------------


def _read_csv(
    name: str, folder: Path | None, batches: Sequence[BatchPlan], source: str
) -> tuple[Unit, ...]:
    path = Path(name)
    if not path.is_absolute() and folder is not None:
        path = folder / path
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problem = Problem(
            "roster.csv", "scenario.csv_unreadable", {"path": repr(str(path)), "exc": str(exc)}
        )
        raise _error(source, [problem]) from None
    if not rows or tuple(h.strip() for h in rows[0]) != _CSV_COLUMNS:
        header = rows[0] if rows else []
        problem = Problem(
            "roster.csv",
            "scenario.csv_header",
            {"header": ",".join(_CSV_COLUMNS), "value": repr(header)},
        )
        raise _error(source, [problem])
    by_kind = {kind: b.number for b in batches for kind in b.kinds}
    numbers = {b.number for b in batches}
    problems: list[str] = []
    units: list[Unit] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        where = f"roster.csv line {line}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(_CSV_COLUMNS):
            problems.append(
                Problem(
                    where,
                    "scenario.csv_columns",
                    {"columns": len(_CSV_COLUMNS), "count": len(row)},
                )
            )
            continue
        uid, uname, kind, batch_text, members_text, parent = (cell.strip() for cell in row)
        if batch_text:
            if not batch_text.isdigit() or int(batch_text) not in numbers:
                problems.append(
                    Problem(
                        where,
                        "scenario.roster_batch",
                        {
                            "batches": [str(n) for n in sorted(numbers)],
                            "value": repr(batch_text),
                        },
                    )
                )
                continue
            batch = int(batch_text)
        elif kind in by_kind:
            batch = by_kind[kind]
        else:
            problems.append(
                Problem(where, "scenario.roster_no_batch_for_kind", {"kind": repr(kind)})
            )
            continue
        if not members_text.isdigit() or int(members_text) < 1:
            problems.append(
                rule_problem(where, members_text, "members must be a whole number >= 1")
            )
            continue
        if uid in seen:
            problems.append(Problem(where, "scenario.roster_duplicate_id", {"unit": repr(uid)}))
            continue
        seen.add(uid)
        try:
            units.append(
                Unit(
                    id=uid,
                    name=uname,
                    kind=kind,
                    batch=batch,
                    members=int(members_text),
                    parent=parent or None,
                )
            )
        except ValidationError as exc:
            problems.append(Problem(where, exc.code, exc.params))
        if len(problems) >= 50:
            problems.append(Problem("roster.csv", "scenario.roster_truncated"))
            break
    if not units and not problems:
        problems.append(Problem("roster.csv", "scenario.roster_empty"))
    if problems:
        raise _error(source, problems)
    return tuple(units)
