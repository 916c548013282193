"""A scenario's problems, all at once, each naming its key path (and its line in the file).

:class:`Checker` collects problems; the ``check_*`` functions check one part of a scenario
each; :func:`scenario_error` wraps them in the one :class:`~campaignflow.ValidationError`
that names the source; :func:`key_lines` and :func:`with_line` add the TOML line numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from campaignflow._words.checks import MAX_INT, is_valid_unicode, rule_problem
from campaignflow.errors import Problem, ValidationError
from campaignflow.simulation._scenario_models import (
    LEVELS_3,
    LEVELS_4,
    MAX_DAYS,
    MAX_UNITS,
    BatchPlan,
    Behaviour,
    MembersModel,
    Roster,
)

__all__ = [
    "Checker",
    "check_batches",
    "check_behaviour",
    "check_roster",
    "key_lines",
    "scenario_error",
    "strip_path",
    "with_line",
]


def scenario_error(source: str, problems: Sequence[str]) -> ValidationError:
    """The one error of a scenario from ``source``, listing every problem."""
    count = len(problems)
    return ValidationError(
        code="scenario.problems" if count != 1 else "scenario.problems_one",
        params={"source": source, "count": count},
        problems=problems,
    )


def strip_path(problem: str) -> str:
    """``problem`` with the key path as TOML writes it (no leading ``$.``)."""
    # cattrs paths start at "$"; scenario keys read better as TOML writes them.
    if isinstance(problem, Problem) and problem.path.startswith("$."):
        return problem.with_path(problem.path[2:])
    if problem.startswith("$."):
        return problem[2:]
    return problem


def key_lines(text: str) -> dict[str, int]:
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


def with_line(problem: str, lines: Mapping[str, int]) -> str:
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


class Checker:
    """Collects every problem of a scenario, each naming its key path."""

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
        if not isinstance(value, str) or not re.fullmatch(
            r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}", value
        ):
            self.fail(path, "must be an id of letters, digits, '_', '-', '.'", value)
            return False
        return True


def check_batches(c: Checker, batches: object, start: object) -> None:
    """Problems of the scenario's ``batches`` (``start``: the scenario's first day)."""
    if not isinstance(batches, tuple) or not batches:
        c.fail("batches", "must list at least one batch", batches)
        return
    seen: dict[int, int] = {}
    kinds: dict[str, int] = {}
    for i, b in enumerate(batches):
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
        if isinstance(start, date) and isinstance(b.opens, date) and b.opens < start:
            c.refuse(
                f"{path}.opens",
                "problem.not_before_scenario_start",
                b.opens,
                {"start": str(start)},
            )
        if (
            isinstance(start, date)
            and isinstance(b.closes, date)
            and (b.closes - start).days > MAX_DAYS
        ):
            c.refuse(
                f"{path}.closes",
                "problem.too_long_after_start",
                b.closes,
                {"days": MAX_DAYS, "start": str(start)},
            )


def check_roster(c: Checker, r: object, by_kind: Mapping[str, int], reattach: bool) -> None:
    """Problems of the roster; ``reattach``: closed enterprises join community branches."""
    if not isinstance(r, Roster):
        c.fail("roster", "must be a roster table", r)
        return
    if r.csv is not None and r.counts:
        c.fail("roster", "give either counts or csv, not both", "counts and csv")
    elif r.csv is None and not r.counts:
        c.fail("roster", "must give counts per kind or a csv file", "neither")
    if r.csv is not None:
        c.text("roster.csv", r.csv)
    total = 0
    for kind, count in r.counts.items():
        path = f"roster.counts.{kind}"
        c.ident(path, kind)
        if c.whole(path, count, 0, MAX_UNITS):
            total += count
        reattached = kind == "closed_enterprise" and reattach
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


def _check_members(c: Checker, path: str, m: MembersModel) -> None:
    ok = c.whole(f"{path}.min", m.min, 1, 100_000) & c.whole(f"{path}.max", m.max, 1, 100_000)
    if ok and m.max < m.min:
        c.refuse(f"{path}.max", "problem.below_min", m.max, {"minimum": m.min})
    c.number(f"{path}.mean", m.mean, 1, 100_000)
    c.number(f"{path}.sd", m.sd, 0, 100_000)


def check_behaviour(c: Checker, b: Behaviour, batches: Sequence[BatchPlan]) -> None:
    """Problems of the behaviour models (late starts name batches of ``batches``)."""
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
    for name, model in b.guards.items():
        c.ident(f"behaviour.guards.{name}", name)
        c.whole(f"behaviour.guards.{name}.after_days", model.after_days, 0, 3650)


# --- CSV rosters ------------------------------------------------------------------------
