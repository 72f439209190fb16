"""The error boundary of the ``codelists`` command (api.md "Running"): every mistake (a missing
file or folder, an unreachable database, a bad URL) is one line on stderr and a non-zero exit,
never a traceback.

Two places catch errors, so each kind is handled once for every command: :class:`Commands`
wraps parsing and running of every command (click's usage errors, files, anything unforeseen),
and :func:`run` wraps all database work (URLs, connections, migrations).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import click
from alembic.util.exc import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.server.settings import Settings, SettingsError
from app.store.database import create_engine, current_revision, head_revision

T = TypeVar("T")

URL_EXAMPLES = "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DATABASE"


class CommandFailed(click.ClickException):
    """A mistake answered with one line on stderr and exit code 1 (api.md "Running")."""


class UsageFailed(click.ClickException):
    """A command-line usage mistake, as one line; exit code 2 like click's own usage errors."""

    exit_code = 2


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (line breaks included) as one space."""
    return " ".join(str(text).split()) or "(no detail)"


def settings() -> Settings:
    """The settings from the environment, or a one-line mistake naming the variable."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise CommandFailed(str(exc)) from None


# user:password@ in a URL that could not be parsed (so cannot be redacted the usual way).
_CREDENTIALS = re.compile(r"(://[^/:@]*):[^/@]*@")


def _database_url(settings: Settings, *, migrates: bool) -> URL:
    """DATABASE_URL parsed, or a one-line mistake naming what is expected.

    A SQLite file whose folder does not exist is named as such here: SQLite itself would only
    say "unable to open database file". A command that does not migrate (``migrates``) refuses
    a SQLite file that does not exist, rather than leave an empty one behind.
    """
    try:
        url = make_url(settings.database_url)
    except (ArgumentError, ValueError):
        shown = _CREDENTIALS.sub(r"\1:***@", settings.database_url)
        raise CommandFailed(
            f"DATABASE_URL {shown!r} is not a database URL; use {URL_EXAMPLES}"
        ) from None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise CommandFailed(f"DATABASE_URL: the folder {folder} does not exist")
        if not migrates and not Path(url.database).exists():
            raise CommandFailed(
                f"the database {url.database} does not exist; run `codelists migrate` first"
            )
    return url


# Refused, unknown host, timed out, wrong password: asyncpg raises these without SQLAlchemy's
# DBAPIError around them.
_UNREACHABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error)


def _at_head(database_url: str) -> bool:
    """Whether the database's schema is at this code's migration head (False if unknown)."""

    async def check() -> bool:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await current_revision(connection) == head_revision()
        finally:
            await engine.dispose()

    try:
        return asyncio.run(check())
    except (DBAPIError, *_UNREACHABLE):  # went away meanwhile: report the original error
        return True


def run(work: Callable[[AsyncEngine, Settings], Awaitable[T]], *, migrates: bool = False) -> T:
    """Run ``work`` with an engine on DATABASE_URL, disposing of it afterwards; ``migrates``:
    ``work`` migrates the database first (so it may create a SQLite file).

    The database boundary of every command: a URL that names no usable driver, a database
    that cannot be reached, opened or migrated is a :class:`CommandFailed` naming the
    database (password hidden) and the reason, never a traceback.
    """
    settings_ = settings()
    url = _database_url(settings_, migrates=migrates)
    shown = url.render_as_string(hide_password=True)
    try:
        engine = create_engine(settings_.database_url)
    except (ArgumentError, InvalidRequestError, ImportError) as exc:
        # ArgumentError includes NoSuchModuleError (an unknown dialect such as foo://).
        raise CommandFailed(
            f"DATABASE_URL {shown!r} cannot be used ({one_line(exc)}); use {URL_EXAMPLES}"
        ) from None

    async def main() -> T:
        try:
            return await work(engine, settings_)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except BrokenPipeError:
        raise  # the reader went away (`codelists export | head`): click ends quietly
    except DBAPIError as exc:
        if not _at_head(settings_.database_url):
            raise CommandFailed(
                f"the database {shown} is not migrated to this version of codelists; "
                "run `codelists migrate` first"
            ) from None
        cause = exc.orig if exc.orig is not None else exc
        raise CommandFailed(f"database {shown}: {one_line(cause)}") from None
    except _UNREACHABLE as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            raise  # a file, not the database: the command boundary names it
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CommandFailed(f"cannot reach the database {shown}: {one_line(reason)}") from None
    except CommandError as exc:  # alembic: e.g. the database is at a revision we do not know
        raise CommandFailed(f"cannot migrate the database {shown}: {one_line(exc)}") from None


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """The error boundary of every command: any mistake is one line on stderr, never a trace.

    Click's usage errors (a missing argument, a file that does not exist) are shortened to one
    line; OS errors naming a file become "FILE: reason"; anything else unforeseen is one line
    too, with its traceback only when CODELISTS_LOG_LEVEL=DEBUG.
    """
    try:
        yield
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        raise UsageFailed(one_line(exc.format_message()) + hint) from None
    except click.ClickException as exc:
        if "\n" not in exc.message:
            raise
        kind = UsageFailed if exc.exit_code == 2 else CommandFailed
        raise kind(one_line(exc.message)) from None
    except (BrokenPipeError, click.exceptions.Exit, click.Abort):
        raise  # a closed pipe, --help, Ctrl-C: click's own quiet handling
    except OSError as exc:
        if exc.filename is None:
            raise CommandFailed(one_line(exc)) from None
        raise CommandFailed(f"{exc.filename}: {one_line(exc.strerror or exc)}") from None
    except Exception as exc:
        if os.environ.get("CODELISTS_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:200]  # no embedded backtraces
        raise CommandFailed(
            f"unexpected error ({type(exc).__name__}: {one_line(first)}); "
            "set CODELISTS_LOG_LEVEL=DEBUG to see where"
        ) from None


class Commands(click.Group):
    """A command group whose parsing and commands (nested groups included) run inside
    :func:`_one_line_errors`."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _one_line_errors():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_errors():
            return super().invoke(ctx)


def check_source(source: str) -> None:
    """A mirror source is an http(s) URL with a host; anything else is a mistake, not a network
    failure to retry."""
    import httpx  # only here: it costs every other command start-up time

    try:
        url = httpx.URL(source)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise CommandFailed(f"--source {source!r} is not a URL ({one_line(exc)})") from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise CommandFailed(
            f"--source {source!r} is not an http(s) URL with a host, e.g. https://host:8000"
        )


def check_address(host: str, port: int) -> None:
    """Fail in one line now if ``host:port`` cannot be listened on (in use, unknown host, not
    ours), rather than with the server's own multi-line report after start-up."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        # create_server appends "(while attempting to bind on address ...)": said already.
        reason = (exc.strerror or str(exc)).split(" (while attempting", 1)[0]
        raise CommandFailed(f"cannot listen on {host}:{port}: {one_line(reason)}") from None
