"""Scenarios: the campaign to play forward — workflow, batches, roster, behaviour — as data.

A scenario is a TOML file (or a dict of the same shape) read with the standard library's
``tomllib`` and structured by the package's one cattrs converter: unknown keys are errors,
and every problem is reported at once as a :class:`~campaignflow.ValidationError` whose
``problems`` each name the key path, the value and the rule
(``behaviour.survey.failure_rate: must be a number between 0 and 1, got 2``).
The file format is documented field by field in ``docs/simulation.md``.
"""

from __future__ import annotations

import importlib
import random
import sys
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs

from campaignflow._public import publish
from campaignflow._words.checks import converter, structure
from campaignflow._words.records import BatchWindow, Unit
from campaignflow.errors import (
    CampaignflowError,
    DefinitionError,
    Problem,
    ValidationError,
    nested,
)
from campaignflow.guards._spec import GuardSpec
from campaignflow.presets import PRESETS, load
from campaignflow.simulation._scenario_checks import (
    Checker,
    check_batches,
    check_behaviour,
    check_roster,
    key_lines,
    scenario_error,
    strip_path,
    with_line,
)
from campaignflow.simulation._scenario_csv import read_csv
from campaignflow.simulation._scenario_models import (
    DEFAULT_STAGE_DAYS,
    MAX_DAYS,
    BatchPlan,
    Behaviour,
    GuardBehaviour,
    LateStartModel,
    MembersModel,
    MobileMembersModel,
    RetiredMembersModel,
    Roster,
    StudyModel,
    SurveyModel,
)
from campaignflow.simulation._streams import randint, unit_stream
from campaignflow.workflow import Workflow

__all__ = [
    "BatchPlan",
    "Behaviour",
    "GuardBehaviour",
    "LateStartModel",
    "MembersModel",
    "MobileMembersModel",
    "RetiredMembersModel",
    "Roster",
    "Scenario",
    "StudyModel",
    "SurveyModel",
    "generate_roster",
    "load_scenario",
]

#: Chinese names of the usual unit kinds, for generated unit names.
KIND_TITLES = {
    "organ": "机关",
    "court": "法院",
    "procuratorate": "检察院",
    "mass_organisation": "群团组织",
    "institution": "事业单位",
    "community": "社区",
    "school": "学校",
    "kindergarten": "幼儿园",
    "enterprise": "企业",
    "closed_enterprise": "关闭企业",
    "village": "村",
    "rural_school": "农村学校",
    "campaign_office": "先进性教育活动办公室",
    "township": "乡镇机关",
}


@attrs.frozen
class _ScenarioFile:
    """The file format, as cattrs reads it: the fields a :class:`Scenario` is written with."""

    name: str
    start: date
    batches: tuple[BatchPlan, ...]
    roster: Roster
    seed: int = 0
    workflow: str = "district_2005"
    workflow_overrides: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    end: date | None = None
    behaviour: Behaviour = Behaviour()  # noqa: RUF009 - a frozen record, safe to share
    plugins: tuple[str, ...] = ()
    host: str | None = None


@attrs.frozen(eq=False)
class Scenario(_ScenarioFile):
    """A campaign to simulate: workflow, dates, batches, roster, behaviour models and a seed.

    Build one with :func:`load_scenario` or :meth:`from_dict`; constructing it directly
    validates the same way. ``base_dir`` is where a workflow file or roster CSV named by a
    relative path is found (the scenario file's folder). ``plugins``: modules imported before
    the workflow loads (they register your guards and fact types), from the installed
    packages or, failing that, from ``base_dir``. ``host``: ``"module:callable"``, the
    callable that builds the host data for guards registered with ``reads_host=True``
    (:meth:`make_host`; the module is found as ``plugins`` are).

    Raises:
        ValidationError: every problem at once, each naming its key path.
    """

    base_dir: Path | None = attrs.field(default=None, repr=False)
    source: str = attrs.field(default="<scenario>", repr=False)
    _csv_units: tuple[Unit, ...] | None = attrs.field(default=None, repr=False, alias="csv_units")

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise scenario_error(self.source, problems)

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
            raise scenario_error(source, [strip_path(p) for p in exc.problems]) from None
        except (RecursionError, OverflowError) as exc:
            raise scenario_error(
                source, [Problem("$", "scenario.unreadable", {"error": type(exc).__name__})]
            ) from None
        folder = Path(base_dir) if base_dir is not None else None
        units: tuple[Unit, ...] | None = None
        if raw.roster.csv is not None and isinstance(raw.roster.csv, str) and not raw.roster.counts:
            units = read_csv(raw.roster.csv, folder, raw.batches, source)
        return cls(
            **attrs.asdict(raw, recurse=False), base_dir=folder, source=source, csv_units=units
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
        if self.plugins:
            data["plugins"] = list(self.plugins)
        if self.host is not None:
            data["host"] = self.host
        listed: dict[str, Any] = _listed(data)
        return listed

    # --- what it implies ----------------------------------------------------------------

    def load_workflow(self) -> Workflow:
        """The workflow with the overrides applied and the scenario's batch windows.

        Raises:
            ValidationError: an unknown preset or file, or overrides the workflow rejects.
        """
        self.import_plugins()
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
            raise scenario_error(
                self.source, [nested("workflow", p) for p in exc.problems]
            ) from None
        except CampaignflowError as exc:
            raise scenario_error(self.source, [Problem("workflow", exc.code, exc.params)]) from None
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
        # A gate timed by [behaviour.guards.<name>] must guard a way forward of the workflow.
        gates = sorted(
            {
                leaf.name
                for t in workflow.transitions
                if t.trigger == "advance"
                for spec in t.guards
                for leaf in _leaves(spec)
            }
        )
        unknown.extend(
            Problem(
                f"behaviour.guards.{name}",
                "recipes.unknown_guard",
                {"guard": name, "known": ", ".join(gates) or "none"},
            )
            for name in self.behaviour.guards
            if name not in gates
        )
        if unknown:
            raise scenario_error(self.source, unknown)
        return workflow

    def import_plugins(self) -> None:
        """Import the ``plugins`` modules (each once per process, as ``import`` does).

        Raises:
            ValidationError: a module that cannot be imported, naming it and the error.
        """
        failed: list[str] = []
        for i, module in enumerate(self.plugins):
            try:
                import_plugin(module, self.base_dir)
            except Exception as exc:  # any error of the plugin's own code is the plugin's
                failed.append(
                    Problem(
                        f"plugins[{i}]",
                        "scenario.plugin_failed",
                        {"module": module, "error": f"{type(exc).__name__}: {exc}"},
                    )
                )
        if failed:
            raise scenario_error(self.source, failed)

    def make_host(self) -> Any:
        """The host data the scenario's ``host = "module:callable"`` builds (None without one).

        The ``plugins`` are imported first; then the module (installed, or from ``base_dir``),
        and the callable is called with no arguments. Each call builds a new host object.

        Raises:
            ValidationError: ``scenario.host_failed``: the module does not import, has no
                such callable, or the callable raises or returns None.
        """
        if self.host is None:
            return None
        self.import_plugins()
        try:
            return build_host(self.host, self.base_dir)
        except ValidationError as exc:
            raise scenario_error(self.source, [Problem("host", exc.code, exc.params)]) from None

    def windows(self) -> tuple[BatchWindow, ...]:
        """The batch windows, in batch order."""
        return tuple(
            BatchWindow(number=b.number, opens=b.opens, closes=b.closes, title=b.title)
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
        """Every unit of the roster, in roster order (see :func:`generate_roster`)."""
        if self._csv_units is not None:
            return list(self._csv_units)
        return generate_roster(self)


def import_plugin(module: str, base_dir: Path | None) -> None:
    """Import ``module``; when neither it nor its package is installed, from ``base_dir``."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if base_dir is None or exc.name != top:
            raise
        folder = str(base_dir.resolve())
        sys.path.insert(0, folder)
        try:
            importlib.import_module(module)
        finally:
            sys.path.remove(folder)


def _host_target_ok(target: object) -> bool:
    """Whether ``target`` is a ``"module:callable"`` name of Python-style names."""
    if not isinstance(target, str) or target.count(":") != 1:
        return False
    module, attr = target.split(":")
    return all(n.isidentifier() for n in [*module.split("."), *attr.split(".")])


def build_host(target: str, base_dir: Path | None) -> Any:
    """Call ``"module:callable"`` (found as ``plugins`` are) and return the host data it builds.

    Raises:
        ValidationError: ``scenario.host_bad``, ``target`` is malformed; ``scenario.host_failed``:
            the module does not import, has no such callable, or the callable raises or
            returns None.
    """
    if not _host_target_ok(target):
        raise ValidationError(code="scenario.host_bad", params={"value": repr(target)})
    module, attr = target.split(":")

    def failed(error: str) -> ValidationError:
        return ValidationError(
            code="scenario.host_failed", params={"target": repr(target), "error": error}
        )

    try:
        import_plugin(module, base_dir)
        found: Any = importlib.import_module(module)
        for part in attr.split("."):
            found = getattr(found, part)
    except Exception as exc:  # the module's own error, or no such name: said as is
        raise failed(f"{type(exc).__name__}: {exc}") from None
    if not callable(found):
        raise failed(f"{attr} is a {type(found).__name__}, not a callable")
    try:
        host = found()
    except Exception as exc:  # whatever the host's builder raises
        raise failed(f"{attr}() raised {type(exc).__name__}: {exc}") from None
    if host is None:
        raise failed(f"{attr}() returned None: a host-reading gate would have no data")
    return host


def _leaves(spec: GuardSpec) -> list[GuardSpec]:
    if not spec.children:
        return [spec]
    return [leaf for c in spec.children for leaf in _leaves(c)]


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
        raise scenario_error(
            str(file), [Problem("", "file.unreadable", {"exc": str(exc)})]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = Problem("", "file.invalid_syntax", {"format": "TOML", "exc": str(exc)})
        raise scenario_error(str(file), [problem]) from None
    except RecursionError:
        problem = Problem("", "file.nested_too_deeply", {"format": "TOML"})
        raise scenario_error(str(file), [problem]) from None
    try:
        return Scenario.from_dict(data, source=str(file), base_dir=file.parent)
    except ValidationError as exc:
        lines = key_lines(text)
        raise scenario_error(str(file), [with_line(p, lines) for p in exc.problems]) from None


def _problems(s: Scenario) -> list[str]:
    c = Checker()
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
    for i, module in enumerate(s.plugins if isinstance(s.plugins, tuple) else ()):
        if not isinstance(module, str) or not all(p.isidentifier() for p in module.split(".")):
            c.fail(f"plugins[{i}]", "must be a Python-style name", module)
    if not isinstance(s.plugins, tuple):
        c.fail("plugins", "must be a list of ids", s.plugins)
    if s.host is not None and not _host_target_ok(s.host):
        c.refuse("host", "scenario.host_bad", s.host, {})
    check_batches(c, s.batches, s.start)
    if not isinstance(s.behaviour, Behaviour):
        c.fail("behaviour", "must be a behaviour table", s.behaviour)
        return c.problems
    by_kind = s.batch_of_kind() if isinstance(s.batches, tuple) else {}
    check_roster(c, s.roster, by_kind, s.behaviour.closed_enterprise == "reattach")
    check_behaviour(c, s.behaviour, s.batches if isinstance(s.batches, tuple) else ())
    return c.problems


def _listed(value: Any) -> Any:
    # Tuples become lists, as a TOML or JSON reader gives them back.
    if isinstance(value, dict):
        return {k: _listed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_listed(v) for v in value]
    return value


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


# --- generated rosters --------------------------------------------------------------------


def _members(model: MembersModel, rng: random.Random) -> int:
    if model.distribution == "fixed":
        return max(model.min, min(model.max, round(model.mean)))
    if model.distribution == "normal":
        return max(model.min, min(model.max, round(rng.normalvariate(model.mean, model.sd))))
    return randint(rng.random(), (model.min, model.max))


def generate_roster(scenario: Scenario) -> list[Unit]:
    """The units of a generated roster, batch by batch, kinds in the order ``counts`` lists them.

    Unit ids are ``{kind}-{n}`` (n from 1, zero-padded to the count's width, at least 3);
    members come from each unit's ``"members"`` stream. Closed enterprises are re-attached
    (``closed_enterprise = "reattach"``): each one's members join the community branch its
    ``"reattach"`` stream picks, and it is not a unit of its own; with ``"own_unit"`` it is a
    unit whose parent is such a community.
    """
    roster = scenario.roster
    batch_of = scenario.batch_of_kind()
    seed = scenario.seed

    def ids(kind: str) -> list[str]:
        count = roster.counts[kind]
        width = max(3, len(str(count)))
        return [f"{kind}-{n:0{width}d}" for n in range(1, count + 1)]

    def members(kind: str, uid: str) -> int:
        model = roster.members_by_kind.get(kind, roster.members)
        return _members(model, unit_stream(seed, "members", uid))

    communities = ids("community") if roster.counts.get("community") else []
    extra: dict[str, int] = {}
    parents: dict[str, str] = {}
    if roster.counts.get("closed_enterprise") and communities:
        for uid in ids("closed_enterprise"):
            home = communities[unit_stream(seed, "reattach", uid).randrange(len(communities))]
            if scenario.behaviour.closed_enterprise == "reattach":
                extra[home] = extra.get(home, 0) + members("closed_enterprise", uid)
            else:
                parents[uid] = home
    order = sorted((kind for kind in roster.counts if kind in batch_of), key=lambda k: batch_of[k])
    units: list[Unit] = []
    for kind in order:
        if kind == "closed_enterprise" and scenario.behaviour.closed_enterprise == "reattach":
            continue
        title = KIND_TITLES.get(kind, kind)
        for n, uid in enumerate(ids(kind), start=1):
            units.append(
                Unit(
                    id=uid,
                    name=f"{title}第{n}党支部",
                    kind=kind,
                    batch=batch_of[kind],
                    members=members(kind, uid) + extra.get(uid, 0),
                    parent=parents.get(uid),
                )
            )
    return units


publish(__name__, globals(), [n for n in __all__ if n in globals()])
