"""``cf.presets.source``: a preset's TOML text, which loads back to the preset itself (issue 16)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import campaignflow as cf

PACKAGE = Path(cf.__file__).resolve().parent
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", cf.presets.PRESETS)
def test_the_text_loads_back_to_the_preset(name: str) -> None:
    """from_dict(tomllib.loads(source(n))) is the preset: equal, same dict, same content hash."""
    text = cf.presets.source(name)
    preset = cf.presets.load(name)
    again = cf.Workflow.from_dict(tomllib.loads(text))
    assert again == preset
    assert again.to_dict() == preset.to_dict()
    assert again.content_hash == preset.content_hash


@pytest.mark.parametrize("name", cf.presets.PRESETS)
def test_the_text_is_the_shipped_file(name: str) -> None:
    """Comments and all: the text is the package's data file, byte for byte."""
    shipped = (PACKAGE / "presets" / f"{name}.toml").read_text(encoding="utf-8")
    assert cf.presets.source(name) == shipped


@pytest.mark.parametrize(
    ("given", "close"),
    [
        ("district", "'district_2005'"),
        ("no_stages", "'no_stages_2019'"),
        ("advanced", "'advanced_nature_2005'"),
        ("audit", None),
    ],
)
def test_an_unknown_name_lists_the_presets_and_the_closest(given: str, close: str | None) -> None:
    """The error names the value and every preset; a close name comes as "did you mean"."""
    known = "advanced_nature_2005, district_2005, no_stages_2019"
    with pytest.raises(cf.ValidationError) as raised:
        cf.presets.source(given)
    err = raised.value
    assert err.params["value"] == repr(given)
    assert err.params["known"] == known
    if close is None:
        assert err.code == "preset.unknown"
        assert str(err) == f"preset: no preset named {given!r}; the presets are {known}"
        assert err.message("zh_CN") == f"preset：没有名为 {given!r} 的预置流程；已有的是 {known}"
    else:
        assert err.code == "preset.unknown_close"
        assert f"did you mean {close}?" in str(err)
        assert f"是不是 {close}？" in err.message("zh_CN")


@pytest.mark.parametrize("given", ["", "DISTRICT_2005", "district_2005.toml", 2005, None])
def test_odd_names_are_refused_not_crashed_on(given: object) -> None:
    """Empty, differently spelt, with a suffix or not text at all: a ValidationError."""
    with pytest.raises(cf.ValidationError, match="no preset named"):
        cf.presets.source(given)  # type: ignore[arg-type]


def test_source_is_public() -> None:
    """Exported from campaignflow.presets, whose __all__ stays sorted."""
    assert "source" in cf.presets.__all__
    assert cf.presets.__all__ == sorted(cf.presets.__all__)


def test_shipped_text_cites_only_shipped_or_published_documents() -> None:
    """No preset file, nor the presets' code, refers to the project's unshipped notes."""
    unshipped = re.compile(r"domain\.md|shared/")
    for path in sorted((PACKAGE / "presets").iterdir()):
        if path.suffix in (".toml", ".py"):
            assert not unshipped.search(path.read_text(encoding="utf-8")), path.name
    for name in cf.presets.PRESETS:
        for cited in re.findall(r"docs/[\w./-]+\.md", cf.presets.source(name)):
            assert (ROOT / cited).is_file(), f"{name} cites {cited}, which does not exist"
