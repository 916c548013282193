"""Finding a font with Chinese glyphs, so zh_CN labels never render as empty boxes.

Matplotlib's default font (DejaVu Sans) has no CJK glyphs. Since matplotlib 3.6 a text
can fall back glyph by glyph through a list of families, so the charts ask for DejaVu Sans
first (Latin text keeps its usual look) and a CJK family second. Debian and Ubuntu ship one
as ``fonts-wqy-microhei`` (``apt-get install fonts-wqy-microhei``); ``CAMPAIGNFLOW_CJK_FONT``
may name any other font file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

__all__ = ["CJK_FAMILIES", "FONT_ENV", "cjk_family", "rc_params"]

#: Families tried in order: the Linux packages first, then those of Windows and macOS.
CJK_FAMILIES: tuple[str, ...] = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)

#: Environment variable naming a font file (.ttf, .otf, .ttc) with Chinese glyphs.
FONT_ENV = "CAMPAIGNFLOW_CJK_FONT"


@lru_cache(maxsize=4)
def _family(extra: str) -> str | None:
    from matplotlib import font_manager

    if extra:
        try:
            font_manager.fontManager.addfont(extra)
            return str(font_manager.FontProperties(fname=extra).get_name())
        except (OSError, RuntimeError, ValueError):
            pass  # a bad path falls through to the installed families
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in installed), None)


def cjk_family() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None when there is none."""
    return _family(os.environ.get(FONT_ENV, ""))


def rc_params() -> Any:
    """Matplotlib settings for the charts: DejaVu Sans, then the CJK fallback if installed."""
    families = ["DejaVu Sans"]
    found = cjk_family()
    if found is not None:
        families.append(found)
    return {
        "font.family": families,
        "axes.unicode_minus": False,  # the CJK fonts lack U+2212; a hyphen reads the same
        "svg.hashsalt": "campaignflow",
        # The charts place dates as days since this epoch (see _charts._num).
        "date.epoch": "1970-01-01T00:00:00",
    }
