"""The docs are tested: every code block on every page is a doctest or checked against the code.

Pages are found by globbing ``docs/**/*.md`` (plus the README), so a page added later is
covered without touching this file. The rules for a fenced block, by its language:

- ``python`` / ``pycon``: a doctest (``>>>`` lines), which ``doctest.testfile`` runs with the
  rest of its page; a block without ``>>>`` runs here as a script and must not raise.
- ``toml``: parses, and is a faithful excerpt of a shipped TOML file (``examples/``, the
  presets), or an entry-point table for the group the guard registry reads.
- ``sql``: runs on PostgreSQL inside a transaction that is rolled back.
- ``sh`` / ``console``: each command is one CI runs (``pip install`` of a real extra, an
  example script, the docs build, the test suite) or a ``campaignflow`` command whose
  sub-command exists; and the ``campaignflow ...`` and ``python examples/...`` commands of a
  page run, in order, in a fresh folder, exit 0 and print the output the page shows
  (``test_page_shell_commands_run``; ``NOT_RUN`` lists what cannot run in a test and why).
- ``json``: parses.
- ``text`` or no language: a figure or output, not code.
- ``{directive}``: MyST directives; a ``{literalinclude}`` must name a file CI runs or loads.

The Sphinx site itself is built with warnings as errors (skipped if sphinx is not installed).
"""

from __future__ import annotations

import contextlib
import doctest
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])

#: ```lang ... ``` or ~~~lang ... ~~~ at the start of a line; the closing fence matches the opening.
FENCE = re.compile(
    r"^(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def code_blocks(page: Path) -> list[tuple[str, str, int]]:
    """Every fenced block of ``page`` as (info string, body, line number)."""
    text = page.read_text(encoding="utf-8")
    return [
        (m.group("info").strip(), m.group("body"), text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
    ]


BLOCKS = [
    pytest.param(page, info, body, id=f"{_page_id(page)}:{line}")
    for page in PAGES
    for info, body, line in code_blocks(page)
]


#: Pages whose examples play whole simulations (seconds of CPU each): the slow run checks them.
SIMULATING_PAGES = {"docs/simulation.md", "docs/zh_CN/what-if.md"}


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(page, marks=pytest.mark.slow, id=_page_id(page))
        if _page_id(page) in SIMULATING_PAGES
        else pytest.param(page, id=_page_id(page))
        for page in PAGES
    ],
)
def test_markdown_page_examples_hold(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page's ``>>>`` examples produce exactly the output the page shows."""
    # Pages name files relative to the repository root (examples/flow.toml).
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
        encoding="utf-8",
    )
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {page.name}"


# --- one rule per kind of block -------------------------------------------------------------


def _shipped_toml() -> dict[str, Any]:
    files = [
        *(ROOT / "examples").rglob("*.toml"),
        *(ROOT / "src/campaignflow/presets").glob("*.toml"),
    ]
    return {str(p.relative_to(ROOT)): tomllib.loads(p.read_text(encoding="utf-8")) for p in files}


def _excerpt_of(fragment: Any, full: Any) -> bool:
    """Whether ``fragment`` is ``full`` with keys or array-of-tables entries left out."""
    if isinstance(fragment, dict):
        return isinstance(full, dict) and all(
            k in full and _excerpt_of(v, full[k]) for k, v in fragment.items()
        )
    if isinstance(fragment, list) and fragment and all(isinstance(f, dict) for f in fragment):
        return isinstance(full, list) and all(
            any(_excerpt_of(f, g) for g in full) for f in fragment
        )
    return bool(fragment == full)


def _check_python(body: str, page: Path) -> None:
    """A doctest runs with its page; any other Python block runs here as a script."""
    first = next((ln for ln in body.splitlines() if ln.strip()), "")
    if first.lstrip().startswith(">>>"):
        return
    code = compile(body, f"{page.name} (code block)", "exec")
    exec(code, {"__name__": "__docs__"})


def _check_toml(body: str) -> None:
    data = tomllib.loads(body)
    entry_points = data.get("project", {}).get("entry-points", {})
    if entry_points:
        from campaignflow.guards._registry import ENTRY_POINT_GROUP

        assert set(entry_points) == {ENTRY_POINT_GROUP}, entry_points
        for name, target in entry_points[ENTRY_POINT_GROUP].items():
            assert re.fullmatch(r"[A-Za-z_]\w*", name), name
            assert re.fullmatch(r"[\w.]+:[\w.]+", target), target
        return
    shipped = _shipped_toml()
    assert any(_excerpt_of(data, full) for full in shipped.values()), (
        "a TOML block must be an excerpt of a shipped file (keys and tables may be left out, "
        f"values must match): none of {sorted(shipped)} contains it"
    )


def _check_sql(body: str) -> None:
    """Run the SQL on a fresh copy of the schema: roles become CURRENT_USER, then roll back.

    The copy lives in a schema of its own, made by the library's migrations, so the check
    sees exactly the tables this release creates, whatever else the test database holds.
    """
    dsn = os.environ.get("CAMPAIGNFLOW_PG_DSN", "")
    if not dsn:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("CAMPAIGNFLOW_PG_DSN must be set in CI to test SQL blocks")
        pytest.skip('CAMPAIGNFLOW_PG_DSN is not set; eval "$(bash .ci/postgres.sh)"')
    psycopg = pytest.importorskip("psycopg")
    from campaignflow.store import PostgresStore

    statements = [s.strip() for s in re.sub(r"--[^\n]*", "", body).split(";") if s.strip()]
    roles = set()
    for statement in statements:
        created = re.fullmatch(r"CREATE ROLE (\w+) LOGIN PASSWORD '[^']*'", statement)
        if created:
            roles.add(created.group(1))
    granted = [s for s in statements if not s.startswith("CREATE ROLE")]
    assert roles, "expected CREATE ROLE statements"
    assert granted, "expected GRANT statements"
    schema = f"docs_sql_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in dsn else "?"
        PostgresStore(f"{dsn}{separator}options=-csearch_path%3D{schema}", campaign_id="d").close()
        with psycopg.connect(dsn) as conn:
            conn.execute(f"SET search_path TO {schema}")
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
                )
            }
            for statement in granted:
                for role in roles:
                    statement = re.sub(rf"\b{role}\b", "CURRENT_USER", statement)
                conn.execute(statement)
            conn.rollback()
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    named = set(re.findall(r"\bcf_\w+", body))
    assert tables <= named, f"the SQL leaves out tables of the schema: {sorted(tables - named)}"


def _extras() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["project"]["optional-dependencies"])


def _cli_commands() -> set[str] | None:
    try:
        from campaignflow import cli
    except ImportError:
        return None
    main = getattr(cli, "main", None)
    commands = getattr(main, "commands", None)
    return set(commands) if commands is not None else None


def _check_shell(body: str) -> None:
    lines = [
        ln.strip() for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    commands = [ln[2:] if ln.startswith("$ ") else ln for ln in lines if not ln.startswith(">")]
    # A console block shows output after `$ ` commands; only the commands are code.
    if any(ln.startswith("$ ") for ln in lines):
        commands = [ln[2:] for ln in lines if ln.startswith("$ ")]
    for command in commands:
        for part in re.split(r"\s*(?:&&|\|\||;)\s*", command):
            _check_command(shlex.split(part))


def _check_command(argv: list[str]) -> None:
    assert argv, "empty command"
    if argv[:2] == ["eval", "$(bash .ci/postgres.sh)"]:
        assert (ROOT / ".ci/postgres.sh").exists()
        return
    if argv[0] == "python" and argv[1:3] == ["-m", "pip"]:
        argv = ["pip", *argv[3:]]
    if argv[0] == "pip" and argv[1] == "wheel":  # a wheel of the checkout, and nothing else
        assert [a for a in argv[2:] if not a.startswith("-") and a != "dist"] == ["."], argv
        return
    if argv[0] == "pip":
        assert argv[1] == "install", argv
        for target in argv[2:]:
            if target.startswith("-"):
                continue
            match = re.fullmatch(
                r"(campaignflow|\.|-e \.|dist/campaignflow-\*\.whl)(?:\[([\w,-]+)\])?", target
            )
            assert match, f"pip installs something other than campaignflow: {target}"
            unknown = set((match.group(2) or "").split(",")) - {""} - _extras()
            assert not unknown, f"no such extra in pyproject.toml: {sorted(unknown)}"
        return
    if argv[0] == "python" and len(argv) > 1 and argv[1].startswith("examples/"):
        assert (ROOT / argv[1]).is_file(), f"{argv[1]} does not exist (CI runs examples/*.py)"
        return
    if argv[0] == "python" and argv[1:3] in (["-m", "pytest"], ["-m", "sphinx"]):
        return
    if argv[0] == "campaignflow":
        known = _cli_commands()
        if known is None:
            pytest.skip("campaignflow.cli is not importable here")
        subcommand = next((a for a in argv[1:] if not a.startswith("-")), None)
        assert subcommand in known, f"campaignflow has no command {subcommand!r} ({sorted(known)})"
        return
    raise AssertionError(
        f"shell command {' '.join(argv)!r} is not run by CI: make it a doctest or an example"
    )


# --- shell blocks run ---------------------------------------------------------------------

#: Commands the docs show that a test cannot run, by their first words, with the reason. For
#: these the static check above is what holds (the extra exists, the file exists).
NOT_RUN: dict[tuple[str, ...], str] = {
    ("pip",): "installs packages into the environment the tests run in",
    ("python", "-m", "pip"): "installs packages into the environment the tests run in",
    (
        "eval",
    ): "starts PostgreSQL (.ci/postgres.sh); the store tests use it via CAMPAIGNFLOW_PG_DSN",
    ("python", "-m", "pytest"): (
        "runs a test suite: this one (CI's README step), or an examples/testing file, which "
        "tests/testing/test_examples.py runs in its own session"
    ),
    ("python", "-m", "sphinx"): "test_sphinx_site_builds_without_warnings builds the site",
    ("sphinx-build",): "test_sphinx_site_builds_without_warnings builds the site",
}

#: Scenarios too big for the default test run (minutes and gigabytes at full size). A page
#: whose shell block simulates one must show a smaller command (a smaller scenario, or the
#: size flag the page documents); the runner refuses to run it at full size.
BIG_SCENARIOS = ("province_scale.toml", "nation_2005.toml")

#: Paths the docs give for a host's own files, and the file in the test's folder standing in.
STAND_INS = {"/srv/oa/campaign.db": "oa/campaign.db"}

#: An exit code other than 0 is documented in the block itself: ``# exit code 1``.
_EXIT_NOTE = re.compile(r"^#\s*exit code (\d+)\s*$")


def _oa_database(folder: Path) -> None:
    """An OA system's campaign database as cli.md's ``report`` examples assume one: a city
    (``city-1``) with two districts, eight branches in study, some stuck on their gates."""
    from datetime import date

    from campaignflow._words.records import Organisation

    clock = cf.SimulatedClock(date(2005, 1, 10))
    path = folder / "oa" / "campaign.db"
    path.parent.mkdir()
    camp = cf.Campaign(cf.presets.district_2005(), store=f"sqlite:///{path}", clock=clock)
    camp.add_organisations(
        [
            Organisation("city-1", "示范市", "city"),
            Organisation("dist-7", "某区委", "district", parent="city-1"),
            Organisation("dist-8", "另一区委", "district", parent="city-1"),
        ]
    )
    camp.add_units(
        cf.Unit(
            id=f"u-{i}",
            name=f"第{i}党支部",
            kind="organ",
            batch=1,
            members=20,
            parent="dist-7" if i % 2 else "dist-8",
        )
        for i in range(8)
    )
    clerk = cf.Actor(id="clerk", roles={"branch_committee"})
    camp.start_batch(1, on=clock.today(), actor=cf.Actor(id="leader", roles={"leading_group"}))
    for unit, _ in camp.units():
        for name in ("implementation_plan", "leading_group_established"):
            camp.record(unit.id, cf.Milestone(name), actor=clerk)
        camp.advance(unit.id, actor=clerk)
    clock.advance(days=40)
    for unit, _ in camp.units():
        with contextlib.suppress(cf.TransitionRejected):
            camp.advance(unit.id, actor=clerk)
    camp.store.close()


def _unstarted_campaign(folder: Path) -> None:
    """``campaign.db`` for cli.md's ``adopt`` example: a district_2005 campaign whose units
    have not started, so every one can move to examples/flow.toml in its stage."""
    from datetime import date

    store = f"sqlite:///{folder / 'campaign.db'}"
    camp = cf.Campaign(
        cf.presets.district_2005(), store=store, clock=cf.FixedClock(date(2008, 9, 1))
    )
    camp.add_units(
        cf.Unit(id=f"edu-{i:02d}", name=f"第{i}党支部", kind="organ", batch=1, members=20)
        for i in range(1, 4)
    )
    camp.store.close()


#: Files a page's commands take as the reader's own, made in the folder before they run.
PREPARED = {"docs/cli.md": (_oa_database, _unstarted_campaign)}


def _not_run(argv: list[str]) -> str | None:
    for words, reason in NOT_RUN.items():
        if tuple(argv[: len(words)]) == words:
            return reason
    return None


def shell_steps(page: Path) -> list[tuple[list[str], list[str], int, int]]:
    """Each command a page's sh/console blocks run, in order.

    As (argv, shown output, exit code, block number). The shown output is the lines after a
    ``$ `` command in its console block, or a ``text`` block right after the console block
    (given with its last command: it shows what the block's commands print together).
    """
    text = page.read_text(encoding="utf-8")
    steps: list[tuple[list[str], list[str], int, int]] = []
    matches = list(FENCE.finditer(text))
    for k, m in enumerate(matches):
        language = m.group("info").split()[0] if m.group("info").strip() else ""
        if language not in ("sh", "bash", "console", "shell"):
            continue
        body = m.group("body")
        exit_code = 0
        lines = body.splitlines()
        for ln in lines:
            note = _EXIT_NOTE.match(ln.strip())
            if note:
                exit_code = int(note.group(1))
        console = any(ln.startswith("$ ") for ln in lines)
        block: list[tuple[list[str], list[str]]] = []
        for ln in lines:
            if not ln.strip() or ln.lstrip().startswith("#"):
                continue
            if console and not ln.startswith("$ "):
                if block:
                    block[-1][1].append(ln)
                continue
            command = ln[2:] if ln.startswith("$ ") else ln
            for part in re.split(r"\s*(?:&&|\|\||;)\s*", command.strip()):
                block.append((shlex.split(part), []))
        after = matches[k + 1] if k + 1 < len(matches) else None
        if (
            console
            and block
            and after is not None
            and not text[m.end() : after.start()].strip()
            and after.group("info").strip() == "text"
        ):
            block[-1][1].extend(after.group("body").splitlines())
        steps += [(argv, shown, exit_code, k) for argv, shown in block]
    return steps


def _normalised(line: str) -> str:
    # Figures that vary (counts, times, hashes) stay out of the comparison; "…" cuts a line.
    line = line.split("…")[0]
    return re.sub(r"\d[\d,.]*", "#", " ".join(line.split()))


def _shows(output: str, shown: list[str]) -> list[str]:
    """The shown lines missing from ``output`` (each may be a prefix of an output line)."""
    produced = [_normalised(ln) for ln in output.splitlines()]
    return [
        ln
        for ln in shown
        if ln.strip() and not any(p.startswith(_normalised(ln)) for p in produced)
    ]


SHELL_PAGES = [
    pytest.param(page, id=_page_id(page))
    for page in PAGES
    if any(_not_run(step[0]) is None for step in shell_steps(page))
]


@pytest.mark.slow
@pytest.mark.parametrize("page", SHELL_PAGES)
def test_page_shell_commands_run(page: Path, tmp_path: Path) -> None:
    """Every ``campaignflow ...`` and ``python examples/...`` command of a page runs, in order.

    They run as subprocesses in a fresh folder where ``examples/`` is the repository's, so a
    page's relative paths resolve and what a command writes (reports, databases) lands in
    the folder; a later command of the page sees what an earlier one wrote. Each exits 0
    (or the code its block notes), and prints every line the page shows as its output.
    """
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    for prepare in PREPARED.get(_page_id(page), ()):
        prepare(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "CAMPAIGNFLOW_LANG"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["COLUMNS"] = "200"
    ran = 0
    printed: dict[int, str] = {}  # what each block's commands printed so far
    for argv, shown, exit_code, block in shell_steps(page):
        if _not_run(argv) is not None:
            continue
        argv = [STAND_INS.get(a, a) for a in argv]
        assert not any(a.endswith(BIG_SCENARIOS) for a in argv), (
            f"{' '.join(argv)}: too big for the test run; show a smaller command"
        )
        if argv[0] == "campaignflow":  # the same command as python -m campaignflow
            command = [sys.executable, "-m", "campaignflow", *argv[1:]]
        elif argv[0] == "python" and len(argv) > 1 and argv[1].startswith("examples/"):
            command = [sys.executable, *argv[1:]]
        else:
            raise AssertionError(f"{' '.join(argv)}: neither run here nor listed in NOT_RUN")
        run = subprocess.run(
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        where = f"{_page_id(page)}: {' '.join(argv)}"
        assert run.returncode == exit_code, f"{where}: exit {run.returncode}\n{run.stderr[-3000:]}"
        printed[block] = printed.get(block, "") + run.stdout
        missing = _shows(printed[block], shown)
        assert not missing, f"{where}: output lacks {missing}\n{run.stdout[-3000:]}"
        ran += 1
    assert ran


def test_shell_steps_read_commands_output_and_exit_codes(tmp_path: Path) -> None:
    """The block reader pairs commands with the output a page shows, and notes exit codes."""
    page = tmp_path / "page.md"
    page.write_text(
        "```console\n$ campaignflow validate a.toml\nok: a\n$ campaignflow diagram a.toml\n```\n"
        "\n```text\nstateDiagram-v2\n```\n\n```sh\n# exit code 1\npip install x && "
        "campaignflow audit verify --db x.db\n```\n",
        encoding="utf-8",
    )
    assert shell_steps(page) == [
        (["campaignflow", "validate", "a.toml"], ["ok: a"], 0, 0),
        (["campaignflow", "diagram", "a.toml"], ["stateDiagram-v2"], 0, 0),
        (["pip", "install", "x"], [], 1, 2),
        (["campaignflow", "audit", "verify", "--db", "x.db"], [], 1, 2),
    ]
    assert _not_run(["pip", "install", "x"])
    assert (
        _shows(
            "ok: campaign d: 16,088 records, hash e3dc\n", ["ok: campaign d: 9 records, hash e3d…"]
        )
        == []
    )
    assert _shows("ok: other\n", ["ok: campaign d"]) == ["ok: campaign d"]


def _check_directive(info: str, page: Path) -> None:
    name = info[1 : info.index("}")]
    if name == "literalinclude":
        target = (page.parent / info[info.index("}") + 1 :].strip()).resolve()
        assert target.is_file(), f"{target} does not exist"
        relative = target.relative_to(ROOT)
        assert relative.parts[0] in ("examples", "src", "benchmarks"), (
            f"{relative}: include files CI runs or the package ships"
        )


@pytest.mark.parametrize(("page", "info", "body"), BLOCKS)
def test_every_code_block_is_tested(page: Path, info: str, body: str) -> None:
    """A fenced block is a doctest, an excerpt checked against the code, or not code at all."""
    language = info.split()[0] if info else ""
    if language.startswith("{"):
        _check_directive(info, page)
    elif language in ("python", "pycon", "py"):
        _check_python(body, page)
    elif language == "toml":
        _check_toml(body)
    elif language == "sql":
        _check_sql(body)
    elif language in ("sh", "bash", "console", "shell"):
        _check_shell(body)
    elif language == "json":
        json.loads(body)
    else:
        assert language in ("", "text"), (
            f"block language {language!r} has no test; use python (doctest), toml, sql, sh, "
            "json, text or a {literalinclude} of an example"
        )


# --- the glossary page is the catalog --------------------------------------------------------

_ROW = re.compile(r"^\| `(?P<code>[\w.]+)` \| (?P<zh>.+?) \| (?P<en>.+?) \|$", re.M)
_TERM_ROW = re.compile(r"^\| (?P<zh>[^|`]+?) \| (?P<en>[^|`]+?) \| `(?P<name>\w+)` \|$", re.M)


def _library_catalog() -> dict[str, Any]:
    """The codes and terms the library registers on import, read in a fresh interpreter.

    Other tests (and the docs' own examples) register codes of their own in this process.
    """
    script = (
        "import json, campaignflow; from campaignflow.i18n import messages, GLOSSARY; "
        "print(json.dumps({'codes': {c: {l: messages._templates[c][l] for l in ('zh_CN', 'en')} "
        "for c in messages.codes()}, 'terms': GLOSSARY}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return dict(json.loads(out.stdout))


def test_glossary_page_lists_every_code_with_its_exact_texts() -> None:
    """docs/glossary.md has one row per library code, with the catalog's zh_CN and en text."""
    page = (DOCS / "glossary.md").read_text(encoding="utf-8")
    shown = {m["code"]: {"zh_CN": m["zh"], "en": m["en"]} for m in _ROW.finditer(page)}
    codes = _library_catalog()["codes"]
    missing = sorted(codes.keys() - shown.keys())
    assert not missing, f"add these codes to docs/glossary.md: {missing}"
    assert sorted(shown.keys() - codes.keys()) == []
    for code, texts in codes.items():
        assert shown[code] == texts, code


def test_glossary_page_lists_every_term() -> None:
    """docs/glossary.md has one row per glossary term, with both languages."""
    page = (DOCS / "glossary.md").read_text(encoding="utf-8")
    shown = {m["name"]: {"zh_CN": m["zh"], "en": m["en"]} for m in _TERM_ROW.finditer(page)}
    assert shown == _library_catalog()["terms"]


# --- the site -----------------------------------------------------------------------------


def _api_pages_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "api").glob("*.md"))


@pytest.mark.parametrize(
    "name", sorted(n for n in cf.__all__ if n not in ("__version__", "guards", "presets"))
)
def test_api_reference_documents_every_public_name(name: str) -> None:
    """Each name in ``campaignflow.__all__`` has an autodoc entry in docs/api/."""
    pattern = rf"^\.\. auto(?:class|function|data|exception):: {re.escape(name)}$"
    assert re.search(pattern, _api_pages_text(), re.M), f"docs/api/ does not document {name}"


@pytest.mark.slow
def test_sphinx_site_builds_without_warnings(tmp_path: Path) -> None:
    """``sphinx -W --keep-going -b html docs`` succeeds: no warning anywhere on the site."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("furo")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "docs",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "zh_CN" / "quickstart.html").is_file()
