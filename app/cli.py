"""The ``codelists`` command (api.md "Running"): migrate, seed, serve, change sets, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import click
import msgspec
from alembic.util.exc import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.clock import Clock
from app.config import Settings, SettingsError
from app.domain.documents import ChangeSetDocument, parse_document
from app.domain.errors import InvalidDocument
from app.render import render_plan
from app.store import tokens
from app.store.database import create_engine, current_revision, head_revision, migrate
from app.store.export import CSV_DIALECTS, csv_bytes
from app.store.export import export as read_export
from app.store.publish import ChangeSetConflict, Preview, plan_only, submit
from app.store.tokens import SCOPES

T = TypeVar("T")


URL_EXAMPLES = "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DATABASE"


class CommandFailed(click.ClickException):
    """A mistake answered with one line on stderr and exit code 1 (api.md "Running")."""


class _UsageFailed(click.ClickException):
    """A command-line usage mistake, as one line; exit code 2 like click's own usage errors."""

    exit_code = 2


def _one_line(text: object) -> str:
    return " ".join(str(text).split()) or "(no detail)"


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise CommandFailed(str(exc)) from None


# user:password@ in a URL that could not be parsed (so cannot be redacted the usual way).
_CREDENTIALS = re.compile(r"(://[^/:@]*):[^/@]*@")


def _database_url(settings: Settings) -> URL:
    """DATABASE_URL parsed, or a one-line mistake naming what is expected.

    A SQLite file whose folder does not exist is named as such here: SQLite itself would only
    say "unable to open database file".
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


def _run(work: Callable[[AsyncEngine, Settings], Awaitable[T]]) -> T:
    """Run ``work`` with an engine on DATABASE_URL, disposing of it afterwards.

    The database boundary of every command: a URL that names no usable driver, a database
    that cannot be reached, opened or migrated is a :class:`CommandFailed` naming the
    database (password hidden) and the reason, never a traceback.
    """
    settings = _settings()
    url = _database_url(settings)
    shown = url.render_as_string(hide_password=True)
    try:
        engine = create_engine(settings.database_url)
    except (ArgumentError, InvalidRequestError, ImportError) as exc:
        # ArgumentError includes NoSuchModuleError (an unknown dialect such as foo://).
        raise CommandFailed(
            f"DATABASE_URL {shown!r} cannot be used ({_one_line(exc)}); use {URL_EXAMPLES}"
        ) from None

    async def main() -> T:
        try:
            return await work(engine, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except BrokenPipeError:
        raise  # the reader went away (`codelists export | head`): click ends quietly
    except DBAPIError as exc:
        if not _at_head(settings.database_url):
            raise CommandFailed(
                f"the database {shown} is not migrated to this version of codelists; "
                "run `codelists migrate` first"
            ) from None
        cause = exc.orig if exc.orig is not None else exc
        raise CommandFailed(f"database {shown}: {_one_line(cause)}") from None
    except _UNREACHABLE as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            raise  # a file, not the database: the command boundary names it
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CommandFailed(f"cannot reach the database {shown}: {_one_line(reason)}") from None
    except CommandError as exc:  # alembic: e.g. the database is at a revision we do not know
        raise CommandFailed(f"cannot migrate the database {shown}: {_one_line(exc)}") from None


def _read_document(path: Path) -> ChangeSetDocument:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandFailed(f"cannot read {path}: {exc.strerror}") from None
    return parse_document(raw, yaml=path.suffix.lower() in {".yaml", ".yml"})


def _fail_invalid(path: Path, error: InvalidDocument) -> None:
    click.echo(f"{path}: {len(error.errors)} error(s); nothing was stored", err=True)
    for item in error.errors:
        click.echo(f"  {item.path or '(document)'}: {item.message}", err=True)
    sys.exit(1)


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
        raise _UsageFailed(_one_line(exc.format_message()) + hint) from None
    except click.ClickException as exc:
        if "\n" not in exc.message:
            raise
        kind = _UsageFailed if exc.exit_code == 2 else CommandFailed
        raise kind(_one_line(exc.message)) from None
    except (BrokenPipeError, click.exceptions.Exit, click.Abort):
        raise  # a closed pipe, --help, Ctrl-C: click's own quiet handling
    except OSError as exc:
        if exc.filename is None:
            raise CommandFailed(_one_line(exc)) from None
        raise CommandFailed(f"{exc.filename}: {_one_line(exc.strerror or exc)}") from None
    except Exception as exc:
        if os.environ.get("CODELISTS_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:200]  # no embedded backtraces
        raise CommandFailed(
            f"unexpected error ({type(exc).__name__}: {_one_line(first)}); "
            "set CODELISTS_LOG_LEVEL=DEBUG to see where"
        ) from None


class _Commands(click.Group):
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


@click.group(cls=_Commands)
def main() -> None:
    """Code lists: a versioned, cacheable code-list service."""


@main.command(name="migrate")
def migrate_command() -> None:
    """Run `alembic upgrade head` on DATABASE_URL."""
    _run(lambda engine, _: migrate(engine))
    click.echo("migrated to head")


async def _apply(engine: AsyncEngine, settings: Settings, path: Path, author: str) -> str:
    document = _read_document(path)
    outcome = await submit(
        engine, document, author=author, now=Clock(settings.zone()).now(), publish=True
    )
    versions = outcome.record.versions or {}
    if not outcome.created:
        return f"{path.name}: {document.id} already published; nothing changed"
    if not versions:
        return f"{path.name}: {document.id} published; it changed nothing"
    listed = ", ".join(f"{key} v{version}" for key, version in sorted(versions.items()))
    return f"{path.name}: {document.id} published: {listed}"


@main.command()
@click.argument(
    "directory", default="seed", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
def seed(directory: Path) -> None:
    """Publish every change set in DIRECTORY in file-name order (again: changes nothing)."""
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in {".yaml", ".yml", ".json"})
    if not files:
        raise CommandFailed(f"no change sets (*.yaml, *.yml, *.json) in {directory}")

    async def work(engine: AsyncEngine, settings: Settings) -> None:
        await migrate(engine)
        for path in files:
            try:
                click.echo(await _apply(engine, settings, path, author="seed"))
            except InvalidDocument as exc:
                _fail_invalid(path, exc)
            except ChangeSetConflict as exc:
                raise CommandFailed(f"{path.name}: {exc}") from None

    _run(work)


@main.group()
def changeset() -> None:
    """Plan or apply a change-set document (YAML or JSON)."""


@changeset.command(name="plan")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def plan_command(file: Path) -> None:
    """Print what publishing FILE would change, value by value."""

    async def work(engine: AsyncEngine, _: Settings) -> Preview:
        return await plan_only(engine, _read_document(file))

    try:
        preview = _run(work)
    except InvalidDocument as exc:
        _fail_invalid(file, exc)
        return
    stored = preview.stored
    if stored is not None and not preview.same_content:
        click.echo(f"Change set '{stored.id}' exists with other content: apply would fail.")
    elif stored is not None and stored.status == "published":
        click.echo(f"Change set '{stored.id}' is already published: apply changes nothing.")
        return
    click.echo(render_plan(preview.plan))


@changeset.command(name="apply")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--author", default="cli", show_default=True, help="Recorded as the publisher.")
def apply_command(file: Path, author: str) -> None:
    """Plan and publish FILE in one transaction."""
    try:
        click.echo(_run(lambda engine, settings: _apply(engine, settings, file, author)))
    except InvalidDocument as exc:
        _fail_invalid(file, exc)
    except ChangeSetConflict as exc:
        raise CommandFailed(str(exc)) from None


@main.group()
def token() -> None:
    """Bearer tokens for the API."""


@token.command(name="create")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES))
@click.option("--name", required=True, help="Who uses it; recorded as author of publishes.")
def token_create(scopes: tuple[str, ...], name: str) -> None:
    """Create a token; it is printed once, as the last line, and stored only as a hash."""

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        await migrate(engine)
        async with engine.begin() as connection:
            return await tokens.create(
                connection, name=name, scopes=scopes, now=Clock(settings.zone()).now()
            )

    value = _run(work)
    click.echo(f"token for {name} with scopes {', '.join(sorted(set(scopes)))}:")
    click.echo(value)


@main.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option(
    "--dialect",
    type=click.Choice(CSV_DIALECTS),
    help="With --format csv: rfc4180 (default) or excel (BOM, semicolons, inert formulas).",
)
def export_command(fmt: str, dialect: str | None) -> None:
    """Write the export answer (every list, value and history) to stdout."""
    if dialect is not None and fmt != "csv":
        raise click.UsageError("--dialect applies to --format csv only")
    data = _run(lambda engine, _: read_export(engine))
    if fmt == "csv":
        sys.stdout.buffer.write(csv_bytes(data, "excel" if dialect == "excel" else "rfc4180"))
    else:
        sys.stdout.buffer.write(msgspec.json.encode(data) + b"\n")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Migrate, then serve with granian (the production server)."""
    from granian import Granian
    from granian.constants import Interfaces

    settings = _settings()
    _check_address(host, port)
    _run(lambda engine, _: migrate(engine))
    click.echo(f"serving {settings.database_url} on http://{host}:{port} ({workers} worker(s))")
    server: Any = Granian(
        "app.asgi:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
    )
    server.serve()


@main.command(name="mirror")
@click.option("--source", required=True, help="The service's base URL, e.g. https://host:8000")
@click.option("--into", required=True, help="sqlite:///relative.db, sqlite:////abs.db or a path")
@click.option("--once", is_flag=True, help="Stop when caught up instead of following for ever.")
@click.option(
    "--wait",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 30),
    help="Seconds each feed request long-polls while following.",
)
@click.option("--token", envvar="CODELISTS_TOKEN", help="Bearer token (scope sync), if needed.")
def mirror_command(source: str, into: str, once: bool, wait: float, token: str | None) -> None:
    """Keep a local SQLite copy of every list: the export first, then the change feed."""
    from app.sync.mirror import run

    _check_source(source)
    sys.exit(run(source, into, once=once, wait=wait, token=token))


def _check_source(source: str) -> None:
    """A mirror source is an http(s) URL with a host; anything else is a mistake, not a network
    failure to retry."""
    import httpx  # only here: it costs every other command start-up time

    try:
        url = httpx.URL(source)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise CommandFailed(f"--source {source!r} is not a URL ({_one_line(exc)})") from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise CommandFailed(
            f"--source {source!r} is not an http(s) URL with a host, e.g. https://host:8000"
        )


def _check_address(host: str, port: int) -> None:
    """Fail in one line now if ``host:port`` cannot be listened on (in use, unknown host, not
    ours), rather than with the server's own multi-line report after start-up."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        # create_server appends "(while attempting to bind on address ...)": said already.
        reason = (exc.strerror or str(exc)).split(" (while attempting", 1)[0]
        raise CommandFailed(f"cannot listen on {host}:{port}: {_one_line(reason)}") from None
