"""``compare A [B] [--set KEY=VALUE …]``: two runs of the same seed, side by side."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from campaignflow.cli._common import (
    err_console,
    existing_file,
    lang_option,
    load_scenario_file,
    mode_option,
    notes_at_once,
    out_console,
    plugin_option,
)
from campaignflow.cli._local import LocalCommand, int_range, path, say, usage_error
from campaignflow.cli._outputs import check_name
from campaignflow.cli._pages import page_folder, write_pages
from campaignflow.report import chart_style, compare_charts, render_compare_html
from campaignflow.report._charts import ChartStyle, chart_lang
from campaignflow.report._text import (
    batch_short,
    finished_on,
    gate_label,
    mode_label,
    stage_label,
    words,
)
from campaignflow.simulation import Comparison, parse_setting
from campaignflow.simulation import compare as play

__all__ = ["compare", "show_comparison"]

COMPARE_FILES = ("compare.html",)


def show_comparison(
    console: Console, comparison: Comparison, *, lang: str, style: ChartStyle
) -> None:
    """Print the two runs side by side: summary, batches, and the gates that held units."""
    t = words(lang)
    a, b = comparison.a, comparison.b
    console.print(t("compare_title", a=comparison.label_a, b=comparison.label_b), style="bold")
    head = Table()
    head.add_column(t("compare_item"))
    head.add_column(t("compare_base"), justify="right")
    head.add_column(t("compare_whatif"), justify="right")
    for key, x, y in (
        ("seed", a.seed, b.seed),
        ("mode", mode_label(a.mode, lang), mode_label(b.mode, lang)),
        ("units", f"{a.units:,}", f"{b.units:,}"),
        ("remedial_units", f"{a.remedial.units:,}", f"{b.remedial.units:,}"),
        ("remedial_rounds", f"{a.remedial.rounds:,}", f"{b.remedial.rounds:,}"),
    ):
        head.add_row(t(key), str(x), str(y))
    console.print(head)

    batches = Table(title=t("batches"))
    for key in (
        "batch",
        "window",
        "compare_completed_a",
        "compare_completed_b",
        "compare_days_later",
        "compare_on_time_a",
        "compare_on_time_b",
    ):
        # The batch column (a scenario's title can be long) folds first; headers stay whole.
        left = key in ("batch", "window")
        batches.add_column(
            t(key), justify="left" if left else "right", no_wrap=key != "batch", min_width=4
        )
    for d in comparison.batches():
        batches.add_row(
            batch_short(d.batch, lang, style.batches),
            d.window_end.isoformat(),
            finished_on(d.completed_a, lang),
            finished_on(d.completed_b, lang),
            "–" if d.days_later is None else f"{d.days_later:+d}",
            f"{d.on_time_a:.1%}",
            f"{d.on_time_b:.1%}",
        )
    console.print(batches)

    gates = Table(title=t("blocking"))
    for key in ("gate", "stage", "compare_times_a", "compare_times_b"):
        gates.add_column(t(key), justify="right" if key.startswith("compare") else "left")
    for code, stage, x, y in comparison.blocking():
        gates.add_row(
            gate_label(code, lang), stage_label(stage, lang, style.labels), f"{x:,}", f"{y:,}"
        )
    console.print(gates)


def _settings(pairs: tuple[str, ...]) -> dict[str, object]:
    return dict(parse_setting(p) for p in pairs)


@click.command(cls=LocalCommand)
@click.argument("a", type=existing_file())
@click.argument("b", type=existing_file(), required=False)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change B (A itself when B is not given): a key path of the scenario file, e.g. "
    "workflow_overrides.satisfaction_rate_at_least.rate=0.7; repeatable.",
)
@click.option("--seed", type=int_range(0, 2**63 - 1), help="Seed of both runs (default: A's).")
@mode_option
@click.option(
    "--out",
    type=path(file_okay=False, path_type=Path),
    help="Write compare.html here (default: ./<A's name>-compare).",
)
@click.option("--no-report", is_flag=True, help="Write no compare.html.")
@click.option("--json", "as_json", is_flag=True, help="Print both results as JSON on stdout.")
@click.option(
    "--overwrite", is_flag=True, help="Replace a compare.html this command wrote earlier."
)
@plugin_option
@lang_option
def compare(
    a: Path,
    b: Path | None,
    settings: tuple[str, ...],
    seed: int | None,
    mode: str,
    out: Path | None,
    no_report: bool,
    as_json: bool,
    overwrite: bool,
    lang: str,
) -> None:
    """Play scenario A and B (or A changed by --set) with the same seed, side by side.

    Per batch: both completion dates, on-time shares, units that went to make-up and the
    gates that held units; writes one compare.html with the charts in pairs.
    """
    if out is not None and no_report:
        raise usage_error("cli.usage.out_and_no_report")
    changed = _settings(settings)
    base = load_scenario_file(a)
    other = load_scenario_file(b) if b is not None else None
    name = check_name(base.name)
    err = err_console()
    out, replace = page_folder(
        out, COMPARE_FILES, name, lang, no_report=no_report, overwrite=overwrite
    )
    with notes_at_once():  # a fallback note in --lang, before the runs
        result = play(base, other, settings=changed, seed=seed, mode=mode)  # type: ignore[arg-type]
    # Labels name the files the user gave, not the scenarios' inner names.
    result = Comparison(
        label_a=a.name,
        label_b=(b.name if b is not None else a.name)
        + ("" if not changed else " + " + " ".join(settings)),
        seed=result.seed,
        settings=result.settings,
        a=result.a,
        b=result.b,
    )
    style = chart_style(base.load_workflow(), lang)
    written: list[Path] = []
    if out is not None:
        drawn = chart_lang(lang)  # English charts when no CJK font is installed
        charts = compare_charts(result, lang=drawn, style=chart_style(base.load_workflow(), drawn))
        page = render_compare_html(result, charts=charts, lang=lang, style=style)
        written = write_pages(out, {"compare.html": page.encode()}, replace)
    if as_json:
        click.echo(
            json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        )
        return
    show_comparison(out_console(), result, lang=lang, style=style)
    for file in written:
        err.print(say("cli.compare_wrote", lang, path=str(file)), markup=False)
