"""``report --xlsx FILE``: the campaign's spreadsheet, under the command line's output rules.

As for the other outputs (``_outputs``, docs/cli.md "What the command may touch"): the file
must be named ``*.xlsx``; an existing file is refused unless ``--overwrite`` is given and the
workbook carries campaignflow's mark for this campaign (its properties name campaignflow as
creator and the campaign as identifier, as ``Campaign.export_xlsx`` writes them); nothing is
written through a symbolic link, and the file is created anew (``O_EXCL | O_NOFOLLOW``) only
after the whole workbook is ready in memory.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

from campaignflow.campaign import Campaign
from campaignflow.campaign._workbook import load_openpyxl
from campaignflow.cli._common import BadInput, error_lang
from campaignflow.cli._outputs import check_folder
from campaignflow.i18n import messages

__all__ = ["check_xlsx", "write_xlsx"]

_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
#: The core properties part is small; more than this is not a workbook we wrote.
_MAX_PROPERTIES = 64 * 1024


def _refuse(code: str, path: Path) -> BadInput:
    return BadInput(messages.render(code, {"path": repr(str(path))}, error_lang()))


def _is_ours(path: Path, campaign_id: str) -> bool:
    """Whether the workbook at ``path`` names campaignflow and this campaign in its properties."""
    try:
        with zipfile.ZipFile(path) as book:
            info = book.getinfo("docProps/core.xml")
            if info.file_size > _MAX_PROPERTIES:
                return False
            text = book.read(info).decode("utf-8")
    except (OSError, KeyError, UnicodeDecodeError, zipfile.BadZipFile):
        return False
    creator = re.search(r"<dc:creator>([^<]*)</dc:creator>", text)
    identifier = re.search(r"<dc:identifier>([^<]*)</dc:identifier>", text)
    return bool(
        creator
        and identifier
        and creator.group(1) == "campaignflow"
        and identifier.group(1) == campaign_id
    )


def check_xlsx(path: Path, *, overwrite: bool, campaign_id: str) -> bool:
    """Refuse before any work a ``--xlsx`` path that may not be written; True: replace it.

    Also names the missing ``xlsx`` extra before any work (``MissingExtra``).
    """
    if path.suffix.lower() != ".xlsx":
        raise BadInput(messages.render("cli.xlsx_suffix", {"path": repr(str(path))}, error_lang()))
    check_folder(path.parent)
    if path.is_symlink():
        raise _refuse("cli.output_symlink", path)
    load_openpyxl()
    if not path.exists():
        return False
    if not overwrite:
        raise _refuse("cli.output_exists", path)
    if not path.is_file() or not _is_ours(path, campaign_id):
        raise _refuse("cli.output_not_ours", path)
    return True


def write_xlsx(
    campaign: Campaign, path: Path, *, replace: bool, lang: str, under: str | None
) -> None:
    """Write the campaign's workbook to ``path`` (replacing it only when ``replace``)."""
    data = io.BytesIO()
    campaign.export_xlsx(data, locale=lang, under=under)
    check_folder(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    if replace:
        path.unlink(missing_ok=True)
    try:
        fd = os.open(path, _OPEN_NEW, 0o644)
    except FileExistsError:
        raise _refuse("cli.output_exists", path) from None
    except OSError as exc:
        raise BadInput(
            messages.render(
                "xlsx.cannot_write", {"path": repr(str(path)), "exc": str(exc)}, error_lang()
            )
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.getvalue())
