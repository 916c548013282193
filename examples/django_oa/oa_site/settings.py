"""Settings of the OA example: SQLite by default, PostgreSQL when ``OA_DATABASE_URL`` says so.

Environment:
    OA_DATABASE_URL: ``postgresql://user:password@host:5432/db`` (through psycopg 3) or
        ``sqlite:////absolute/path.db`` (``sqlite:///relative.db``); unset: ``oa.db`` next to ``manage.py``.
    OA_TODAY: a date (``2005-02-10``) the campaign takes as today. The shipped 2005 preset's
        batch windows lie in 2005, so the demo runs on a fixed day; a live campaign with
        this year's windows leaves it unset and runs on the wall clock.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import django

BASE_DIR = Path(__file__).resolve().parent.parent


def database_from_url(url: str) -> dict[str, Any]:
    """A ``DATABASES`` entry for a ``postgresql://`` or ``sqlite:///`` URL ("" for the default file)."""
    if not url:
        return _sqlite(BASE_DIR / "oa.db")
    if url.startswith("sqlite:///"):
        # As SQLAlchemy writes them: sqlite:///relative.db, sqlite:////absolute/path.db
        return _sqlite(Path(unquote(url.removeprefix("sqlite:///"))))
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    raise ValueError(f"OA_DATABASE_URL: must be postgresql://... or sqlite:///path.db, got {url!r}")


def _sqlite(path: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    if django.VERSION >= (5, 1):
        # Writers queue for SQLite's lock at BEGIN instead of failing when they first write.
        entry["OPTIONS"] = {"transaction_mode": "IMMEDIATE"}
    return entry


SECRET_KEY = os.environ.get("OA_SECRET_KEY", "the-oa-example-is-not-a-deployment")
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
INSTALLED_APPS = [
    "django.contrib.auth",  # the 待办 page's logged-in users
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "campaignflow.contrib.django",  # campaignflow's tables, through its migration
    "oa",
]
# The JSON API (oa/views.py) trusts its headers and is CSRF-exempt; the 待办 page
# (oa/todo.py) is for logged-in users, with sessions and CSRF protection.
MIDDLEWARE: list[str] = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.csrf"]},
    }
]
LOGIN_URL = "/login"
ROOT_URLCONF = "oa_site.urls"
DATABASES = {"default": database_from_url(os.environ.get("OA_DATABASE_URL", ""))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

#: The Django database the campaign and the OA's own tables share.
OA_DATABASE = "default"
#: The day the campaign takes as today (None: the wall clock).
OA_TODAY = date.fromisoformat(os.environ["OA_TODAY"]) if os.environ.get("OA_TODAY") else None
#: Work items per page of the 待办 page.
OA_TODO_PAGE = int(os.environ.get("OA_TODO_PAGE", "20"))
