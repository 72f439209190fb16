"""The ``codelists`` command (api.md "Running"): migrate, seed, serve, change sets, tokens."""

from __future__ import annotations

import getpass
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import msgspec
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli.boundary import CommandFailed, Commands, check_address, check_source
from app.cli.boundary import run as _run
from app.cli.boundary import settings as _settings
from app.cli.render import render_plan
from app.domain.clock import Clock
from app.domain.documents import ChangeSetDocument, parse_document
from app.domain.errors import InvalidDocument
from app.domain.principals import SCOPES
from app.identity import tokens
from app.server.logs import configure_logging
from app.server.settings import Settings
from app.store import audit
from app.store.database import bundled_folder, migrate
from app.store.export import CSV_DIALECTS, csv_bytes
from app.store.export import export as read_export
from app.store.publish import ChangeSetConflict, Preview, plan_only, submit

log = logging.getLogger("codelists.serve")


def _clock(settings: Settings) -> Clock:
    # The offset is for tests of midnights only: publishes on the service processes' clock.
    return Clock(settings.zone(), timedelta(seconds=settings.clock_offset_seconds))


def operator() -> str:
    """The command line's actor in the audit log: ``cli:<user>`` (api.md "Audit")."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unknown uid)
        user = "unknown"
    return f"cli:{user}"


def _read_document(path: Path) -> tuple[ChangeSetDocument, int]:
    """The document in ``path`` and its size in bytes (its limit is checked while planning)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandFailed(f"cannot read {path}: {exc.strerror}") from None
    return parse_document(raw, yaml=path.suffix.lower() in {".yaml", ".yml"}), len(raw)


def _fail_invalid(path: Path, error: InvalidDocument) -> None:
    click.echo(f"{path}: {len(error.errors)} error(s); nothing was stored", err=True)
    for item in error.errors:
        click.echo(f"  {item.path or '(document)'}: {item.message}", err=True)
    sys.exit(1)


@click.group(cls=Commands)
def main() -> None:
    """Code lists: a versioned, cacheable code-list service."""


@main.command(name="migrate")
def migrate_command() -> None:
    """Run `alembic upgrade head` on DATABASE_URL."""
    _run(lambda engine, _: migrate(engine), migrates=True)
    click.echo("migrated to head")


async def _apply(engine: AsyncEngine, settings: Settings, path: Path, author: str) -> str:
    document, size = _read_document(path)
    outcome = await submit(
        engine,
        document,
        author=author,
        now=_clock(settings).now(),
        publish=True,
        document_bytes=size,
    )
    versions = outcome.record.versions or {}
    if not outcome.created:
        return f"{path.name}: {document.id} already published; nothing changed"
    if not versions:
        return f"{path.name}: {document.id} published; it changed nothing"
    listed = ", ".join(f"{key} v{version}" for key, version in sorted(versions.items()))
    return f"{path.name}: {document.id} published: {listed}"


def _default_seed() -> Path:
    """``./seed`` when there is one (a checkout), else the seed packaged with the service."""
    local = Path("seed")
    return local if local.is_dir() else bundled_folder("seed", "seed")


@main.command()
@click.argument(
    "directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
def seed(directory: Path | None) -> None:
    """Publish every change set in DIRECTORY (default: seed/) in file-name order; running it
    again changes nothing."""
    directory = directory or _default_seed()
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in {".yaml", ".yml", ".json"})
    if not files:
        raise CommandFailed(f"no change sets (*.yaml, *.yml, *.json) in {directory}")

    async def work(engine: AsyncEngine, settings: Settings) -> None:
        await migrate(engine)
        for path in files:
            try:
                click.echo(await _apply(engine, settings, path, author=operator()))
            except InvalidDocument as exc:
                _fail_invalid(path, exc)
            except ChangeSetConflict as exc:
                raise CommandFailed(f"{path.name}: {exc}") from None

    _run(work, migrates=True)


@main.group()
def changeset() -> None:
    """Plan or apply a change-set document (YAML or JSON)."""


@changeset.command(name="plan")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def plan_command(file: Path) -> None:
    """Print what publishing FILE would change, value by value."""

    async def work(engine: AsyncEngine, _: Settings) -> Preview:
        document, size = _read_document(file)
        return await plan_only(engine, document, document_bytes=size)

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
@click.option("--author", default=None, help="Recorded as the author (default cli:<user>).")
def apply_command(file: Path, author: str | None) -> None:
    """Plan and publish FILE in one transaction, as the operator (no approval needed)."""
    author = author or operator()
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
        now = _clock(settings).now()
        async with engine.begin() as connection:
            value = await tokens.create(connection, name=name, scopes=scopes, now=now)
            await audit.append(
                connection,
                actor=operator(),
                action="token.created",
                target=f"token:{name}",
                now=now,
                detail={"scopes": sorted(set(scopes))},
            )
            return value

    try:
        value = _run(work, migrates=True)
    except tokens.InvalidTokenName as exc:
        raise CommandFailed(f"--name: {exc}") from None
    click.echo(f"token for {name} with scopes {', '.join(sorted(set(scopes)))}:")
    click.echo(value)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"


@token.command(name="list")
def token_list() -> None:
    """List tokens: name, scopes, created, last used, revoked (never the token itself)."""

    async def work(engine: AsyncEngine, _: Settings) -> list[tokens.TokenInfo]:
        await migrate(engine)
        async with engine.connect() as connection:
            return await tokens.list_all(connection)

    rows = [("NAME", "SCOPES", "CREATED", "LAST USED", "REVOKED")]
    rows += [
        (
            info.name,
            ",".join(info.scopes),
            _when(info.created_at),
            _when(info.last_used_at),
            _when(info.revoked_at),
        )
        for info in _run(work, migrates=True)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = zip(row, widths, strict=True)
        click.echo("  ".join(cell.ljust(width) for cell, width in cells).rstrip())


@token.command(name="revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke every token named NAME: each is refused (401) everywhere within a second."""

    async def work(engine: AsyncEngine, settings: Settings) -> tuple[int, int]:
        await migrate(engine)
        now = _clock(settings).now()
        async with engine.begin() as connection:
            revoked, total = await tokens.revoke(connection, name, now)
            if revoked:
                await audit.append(
                    connection,
                    actor=operator(),
                    action="token.revoked",
                    target=f"token:{name}",
                    now=now,
                    detail={"tokens": revoked},
                )
            return revoked, total

    revoked, total = _run(work, migrates=True)
    if total == 0:
        raise CommandFailed(f"there is no token named {name!r}")
    if revoked == 0:
        click.echo(f"every token named {name} was revoked already")
    else:
        click.echo(f"revoked {revoked} token(s) named {name}")


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
    from granian.constants import Interfaces

    from app.cli.serving import LOGGING, Server

    settings = _settings()
    check_address(host, port)
    _run(lambda engine, _: migrate(engine), migrates=True)
    configure_logging(settings.log_level, buffer_lines=settings.log_buffer_lines)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    log.info("serving %s on http://%s:%d (%d worker(s))", shown, host, port, workers)
    server = Server(
        "app.server.app:serve_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_dictconfig=LOGGING,
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
    from app.mirror.client import run

    check_source(source)
    sys.exit(run(source, into, once=once, wait=wait, token=token))
