"""Workflows: a campaign's stages, transitions and gates as data, compiled once for all units.

A :class:`Workflow` is immutable. It loads from a dict, a TOML or a JSON file, reports every
problem of a bad definition at once (:class:`DefinitionError`), and compiles into **one**
``transitions`` machine, whose ordered candidate transitions (conditions, unless) are then
read into plain tables: units are records moved through those tables, never models attached
to a machine (a ``Machine`` per unit costs ~0.46 ms and ~10 KB; ``add_model`` on one shared
machine grows quadratically).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs
from transitions import Machine

from campaignflow._words.checks import converter, structure
from campaignflow._words.records import BatchWindow
from campaignflow._words.verdicts import StageTitles
from campaignflow.errors import DefinitionError, Problem, ValidationError
from campaignflow.guards import GuardRegistry, GuardSpec
from campaignflow.guards import registry as default_registry
from campaignflow.workflow._compile import (
    CompiledTransition,
    build_machine,
    compile_table,
    render,
)
from campaignflow.workflow._parts import Stage, Transition
from campaignflow.workflow._reminders import Reminder, read_reminders
from campaignflow.workflow._validate import validate

__all__ = ["SCHEMA_VERSION", "Workflow"]

#: The workflow file format this release writes; it reads this and every earlier one.
SCHEMA_VERSION = 1


@attrs.frozen
class _Definition:
    """The file format, as cattrs reads it."""

    name: str
    stages: list[Stage]
    transitions: list[Transition]
    initial: str | None = None
    schema_version: int = SCHEMA_VERSION
    version: str = "1"
    title: str = ""
    title_en: str = ""
    batches: list[BatchWindow] = attrs.field(factory=list)
    fact_roles: dict[str, str] = attrs.field(factory=dict)
    reminders: list[Any] = attrs.field(factory=list)


#: What a definition file and a :class:`Workflow` both hold, by the Workflow's argument names.
_SHARED = (
    "name",
    "version",
    "title",
    "title_en",
    "initial",
    "stages",
    "transitions",
    "batches",
    "reminders",
)


def _shared_fields(source: _Definition | Workflow) -> dict[str, Any]:
    """The :data:`_SHARED` fields of a read definition or a workflow, to build a Workflow."""
    return {name: getattr(source, name) for name in _SHARED}


#: How a definition file is read, by its suffix (lower case).
_PARSERS: Mapping[str, Callable[[str], Any]] = MappingProxyType(
    {".toml": tomllib.loads, ".json": json.loads}
)


def _structure_names(value: Any, _: type) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"expected a stage id or a list of them, got {value!r}")


def _structure_batch(value: Any, _: type) -> BatchWindow:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a table with number, opens, closes, got {value!r}")
    extra = set(value) - {"number", "opens", "closes", "title"}
    if extra:
        raise ValueError(f"unknown key(s): {', '.join(sorted(extra))}")
    return BatchWindow(
        number=value["number"],
        opens=converter.structure(value["opens"], date),
        closes=converter.structure(value["closes"], date),
        title=value.get("title", ""),
    )


converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_names)
converter.register_structure_hook(GuardSpec, lambda data, _: GuardSpec.from_data(data))
converter.register_unstructure_hook(GuardSpec, lambda spec: spec.to_data())
converter.register_structure_hook(BatchWindow, _structure_batch)


class Workflow:
    """A campaign's rules: stages, ordered transitions with their gates, batches, roles.

    Build one with :meth:`from_dict`, :meth:`from_file`, a preset, or directly from
    :class:`Stage` and :class:`Transition` records. Every problem is reported at once as a
    :class:`DefinitionError`. A workflow never changes; it is shared by every unit.
    """

    __slots__ = (
        "_by_stage",
        "_definition",
        "_machine",
        "_registry",
        "_stages",
        "_table",
        "_titles",
        "_windows",
        "batches",
        "fact_roles",
        "initial",
        "name",
        "reminders",
        "stages",
        "title",
        "title_en",
        "transitions",
        "version",
    )

    def __init__(
        self,
        *,
        name: str,
        stages: Sequence[Stage],
        transitions: Sequence[Transition],
        initial: str | None = None,
        version: str = "1",
        title: str = "",
        title_en: str = "",
        batches: Sequence[BatchWindow] = (),
        fact_roles: Mapping[str, str] | None = None,
        registry: GuardRegistry | None = None,
        source: str | None = None,
        reminders: Sequence[Reminder | Mapping[str, Any]] = (),
    ) -> None:
        self.name = name
        self.version = version
        self.title = title
        self.title_en = title_en
        self.stages: tuple[Stage, ...] = tuple(stages)
        self.transitions: tuple[Transition, ...] = tuple(transitions)
        self.initial: str = initial or (self.stages[0].id if self.stages else "")
        self.batches: tuple[BatchWindow, ...] = tuple(batches)
        self.fact_roles: Mapping[str, str] = dict(
            fact_roles if fact_roles is not None else {"survey": "superior_org"}
        )
        reg = registry or default_registry
        self._registry = reg
        problems, bound = validate(self, reg)
        self.reminders, reminder_problems = read_reminders(reminders, self.stages)
        problems += reminder_problems
        if problems:
            named = f"workflow {name!r}" if isinstance(name, str) and name.strip() else None
            raise DefinitionError(problems, source=source or named)
        try:
            json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise DefinitionError(
                [Problem("$", "definition.invalid_unicode")],
                source=source,
            ) from None
        self._stages = {s.id: s for s in self.stages}
        self._windows = {b.number: b for b in self.batches}
        self._machine = build_machine(
            name=name,
            stages=self.stages,
            initial=self.initial,
            transitions=self.transitions,
            bound=bound,
        )
        self._table = compile_table(self._machine, self.transitions)
        self._by_stage: dict[str, tuple[str, ...]] = {}
        for source, trigger in self._table:
            self._by_stage.setdefault(source, ())
            if trigger not in self._by_stage[source]:
                self._by_stage[source] += (trigger,)
        self._definition = self.to_dict()
        self._titles: dict[tuple[str | None, ...], StageTitles] = {}

    # --- loading and saving -------------------------------------------------------------

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        registry: GuardRegistry | None = None,
        source: str | None = None,
    ) -> Workflow:
        """Load a workflow from plain data (as in a TOML/JSON file).

        Raises:
            DefinitionError: every problem at once, each with its path.
        """
        if isinstance(data, Mapping):
            schema = data.get("schema_version", SCHEMA_VERSION)
            if (
                not isinstance(schema, int)
                or isinstance(schema, bool)
                or schema > SCHEMA_VERSION
                or schema < 1
            ):
                raise DefinitionError(
                    [
                        Problem(
                            "$.schema_version",
                            "definition.schema_version",
                            {"latest": SCHEMA_VERSION, "value": repr(schema)},
                        )
                    ],
                    source=source,
                )
        try:
            definition = structure(data, _Definition, what="workflow", error=DefinitionError)
        except DefinitionError as exc:
            raise DefinitionError(exc.problems, source=source) from None
        return cls(
            **_shared_fields(definition),
            fact_roles=definition.fact_roles if "fact_roles" in data else None,
            registry=registry,
            source=source,
        )

    @classmethod
    def from_file(cls, path: str | Path, *, registry: GuardRegistry | None = None) -> Workflow:
        """Load a workflow from a ``.toml`` or ``.json`` file.

        Raises:
            DefinitionError: the file is unreadable, not valid TOML/JSON, or the definition
                has problems (all listed).
        """
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DefinitionError(
                [Problem("", "file.unreadable", {"exc": str(exc)})], source=str(file)
            ) from None
        suffix = file.suffix.lower()
        parse = _PARSERS.get(suffix)
        if parse is None:
            raise DefinitionError(
                [Problem("", "file.unsupported_suffix", {"suffix": repr(suffix)})],
                source=str(file),
            )
        try:
            data = parse(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise DefinitionError(
                [
                    Problem(
                        "", "file.invalid_syntax", {"format": suffix[1:].upper(), "exc": str(exc)}
                    )
                ],
                source=str(file),
            ) from None
        return cls.from_dict(data, registry=registry, source=str(file))

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain data; ``Workflow.from_dict(w.to_dict())`` equals ``w``."""
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "version": self.version,
            "title": self.title,
            "title_en": self.title_en,
            "initial": self.initial,
            "batches": [
                {
                    "number": b.number,
                    "opens": b.opens.isoformat(),
                    "closes": b.closes.isoformat(),
                    "title": b.title,
                }
                for b in self.batches
            ],
            "fact_roles": dict(sorted(self.fact_roles.items())),
            "stages": [
                {k: v for k, v in converter.unstructure(s).items() if v not in (None, "")}
                for s in self.stages
            ],
            "transitions": [_transition_data(t) for t in self.transitions],
        }
        if self.reminders:  # left out when none, so older workflows keep their content hash
            data["reminders"] = [r.to_data() for r in self.reminders]
        return data

    def with_params(self, guard: str, /, **params: Any) -> Workflow:
        """A copy where every use of guard ``guard`` gets ``params`` (others keep theirs).

        ``district_2005().with_params("min_study_hours", hours=32)`` lowers the study-hour
        minimum everywhere it applies.

        Raises:
            ValidationError: the workflow never uses ``guard``.
            DefinitionError: the new params are not valid for the guard.
        """
        found = False

        def patch(spec: GuardSpec) -> GuardSpec:
            nonlocal found
            if spec.children:
                return GuardSpec(spec.name, spec.params, tuple(patch(c) for c in spec.children))
            if spec.name != guard:
                return spec
            found = True
            return GuardSpec(spec.name, {**spec.params, **params})

        transitions = [
            attrs.evolve(
                t,
                guards=tuple(patch(g) for g in t.guards),
                unless=tuple(patch(g) for g in t.unless),
            )
            for t in self.transitions
        ]
        if not found:
            raise ValidationError(
                code="workflow.guard_unused",
                params={"workflow": repr(self.name), "guard": repr(guard)},
            )
        return Workflow(
            **{**_shared_fields(self), "transitions": transitions},
            fact_roles=self.fact_roles,
            registry=self._registry,
        )

    def to_json(self) -> str:
        """The definition as canonical JSON text (sorted keys, UTF-8 characters kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=2)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical definition: which exact rules judged a unit."""
        canonical = json.dumps(
            self._definition, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Workflow):
            return NotImplemented
        return self._definition == other._definition

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __repr__(self) -> str:
        return (
            f"<Workflow {self.name!r} v{self.version}: {len(self.stages)} stages, "
            f"{len(self.transitions)} transitions>"
        )

    # --- querying -----------------------------------------------------------------------

    def stage(self, stage_id: str) -> Stage:
        """The stage with id ``stage_id``.

        Raises:
            ValidationError: no such stage.
        """
        try:
            return self._stages[stage_id]
        except KeyError:
            raise ValidationError(
                code="validation.one_of",
                params={"field": "stage", "choices": list(self._stages), "value": repr(stage_id)},
            ) from None

    def titles_of(self, *stage_ids: str | None) -> StageTitles:
        """The zh_CN and en titles of ``stage_ids`` (those this workflow has), for explanations.

        Read-only and shared: every decision between the same stages carries the same one.
        """
        found = self._titles.get(stage_ids)
        if found is None:
            found = self._titles[stage_ids] = StageTitles(
                {
                    stage.id: (stage.label("zh_CN"), stage.label("en"))
                    for stage_id in stage_ids
                    if stage_id is not None and (stage := self._stages.get(stage_id)) is not None
                }
            )
        return found

    def has_stage(self, stage_id: str) -> bool:
        """Whether the workflow has a stage ``stage_id``."""
        return stage_id in self._stages

    def is_final(self, stage_id: str) -> bool:
        """Whether ``stage_id`` is a final stage (the unit is done)."""
        stage = self._stages.get(stage_id)
        return stage is not None and stage.kind == "final"

    def batch(self, number: int) -> BatchWindow | None:
        """The window of batch ``number``, or None if the workflow does not date it."""
        return self._windows.get(number)

    def candidates(self, source: str, trigger: str = "advance") -> tuple[CompiledTransition, ...]:
        """The compiled candidate transitions for ``trigger`` from ``source``, in order."""
        return self._table.get((source, trigger), ())

    def host_guards(self, trigger: str | None = None) -> tuple[CompiledTransition, ...]:
        """The candidate transitions (of ``trigger``, or all) whose guards read host data.

        Each names its host-reading guards in ``host_guards``. Empty when no guard of the
        workflow was registered with ``reads_host=True``.
        """
        return tuple(
            c
            for (_, t), candidates in self._table.items()
            if trigger is None or t == trigger
            for c in candidates
            if c.reads_host
        )

    def triggers(self, source: str) -> tuple[str, ...]:
        """The triggers that have candidates from ``source``."""
        return self._by_stage.get(source, ())

    def approver_roles(self, stage_id: str) -> frozenset[str]:
        """Roles whose approval some transition out of ``stage_id`` asks for."""
        roles: set[str] = set()
        for (source, _), candidates in self._table.items():
            if source != stage_id:
                continue
            for candidate in candidates:
                for bound in candidate.guards:
                    roles.update(_approval_roles(bound.spec))
        return frozenset(roles)

    @property
    def machine(self) -> Machine:
        """The one ``transitions`` machine this workflow compiled (no models attached)."""
        return self._machine

    # --- diagrams -----------------------------------------------------------------------

    def diagram(self, format: Literal["mermaid", "dot"] = "mermaid", *, locale: str = "en") -> str:
        """The workflow as a diagram, drawn by transitions' graph support.

        ``mermaid`` needs nothing more; ``dot`` needs the ``graphviz`` package
        (``pip install 'campaignflow[diagram]'``).

        Raises:
            ValidationError: an unknown format, or ``dot`` without the graphviz package.
        """
        title = (self.title if locale == "zh_CN" else self.title_en) or self.name
        return render(
            stages=self.stages,
            transitions=self.transitions,
            initial=self.initial,
            title=title,
            format=format,
        )


def _transition_data(t: Transition) -> dict[str, Any]:
    data: dict[str, Any] = {
        "trigger": t.trigger,
        "source": t.source[0] if len(t.source) == 1 else list(t.source),
        "dest": t.dest,
    }
    if t.guards:
        data["guards"] = [g.to_data() for g in t.guards]
    if t.unless:
        data["unless"] = [g.to_data() for g in t.unless]
    if t.by:
        data["by"] = sorted(t.by)
    return data


def _approval_roles(spec: GuardSpec) -> set[str]:
    if spec.name == "approved_by":
        role = spec.params.get("role", "supervision_group")
        return {role} if isinstance(role, str) else set()
    found: set[str] = set()
    if spec.name != "not":
        for child in spec.children:
            found |= _approval_roles(child)
    return found
