"""The records a scenario is made of: batches, roster, and the behaviour models (seeded).

Each is a frozen attrs record read by the package's cattrs converter; their checks are in
:mod:`._scenario_checks`, the scenario that holds them in :mod:`.scenario` (the public path,
whose ``__all__`` lists them: this private module keeps no second list).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import attrs

#: Levels of the satisfaction scale, in the order ballots are reported (domain glossary).
LEVELS_4 = ("satisfied", "fairly_satisfied", "basically_satisfied", "dissatisfied")
LEVELS_3 = ("satisfied", "basically_satisfied", "dissatisfied")

#: Typical working length of each stage of the presets, in days (docs/concepts.md and docs/presets.md).
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
class GuardBehaviour:
    """When a unit meets a custom gate: ``after_days`` days after entering its stage it records
    the gate's passing recipe (the guard's ``recipe=``); ``[behaviour.guards.<name>]``."""

    after_days: int = 0


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
    guards: dict[str, GuardBehaviour] = attrs.field(factory=dict)

    def days_for(self, stage: str) -> tuple[int, int]:
        """The working-length range of ``stage`` (a default when the table omits it)."""
        return self.stage_days.get(stage, DEFAULT_STAGE_DAYS.get(stage, FALLBACK_STAGE_DAYS))
