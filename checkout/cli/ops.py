"""Operations subcommands: backup (+ prune, --schedule), replicate, restore, restore-drill, alerts,
uptime, deploy. Thin: each builds settings and calls one function of backup, alerts, uptime or deploy.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import click

from checkout.cli.common import make_edge
from checkout.cli.common import settings as _settings
from checkout.ops import alerts
from checkout.ops.backup import (
    BackupError,
    check_replica_freshness,
    drill,
    list_snapshots,
    restore,
    run_backup,
    run_prune,
    snapshot_storage,
)
from checkout.ops.deploy import DeployError, deploy
from checkout.ops.uptime import default_urls, probe_all


def _parse_time(text: str) -> float:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO time such as 2026-11-27T08:00:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


@click.group("backup", invoke_without_command=True)
@click.option("--schedule", is_flag=True, help="Keep running: a snapshot every BACKUP_INTERVAL_SECONDS, pruning after each.")
@click.option("--max-runs", type=int, default=0, hidden=True, help="Stop --schedule after this many runs (tests).")
@click.pass_context
def backup(ctx: click.Context, schedule: bool, max_runs: int) -> None:
    """Take a consistent, compressed snapshot of the edge database and upload it."""
    if ctx.invoked_subcommand is not None:
        return

    e = make_edge()
    runs, failed = 0, False
    while True:
        try:
            m = run_backup(e)
            click.echo(f"snapshot {m['key']} sha256 {m['sha256']} size {m['size']} "
                       f"rows {sum(m['row_counts'].values())}")
            if schedule:
                for key in run_prune(e):
                    click.echo(f"pruned {key}")
        except BackupError as exc:
            if not schedule:
                raise click.ClickException(str(exc)) from None
            failed = True
            click.echo(str(exc), err=True)
        runs += 1
        if not schedule or (max_runs and runs >= max_runs):
            break
        time.sleep(e.settings.BACKUP_INTERVAL_SECONDS)
    if failed:
        sys.exit(1)


@backup.command("prune")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def backup_prune(dry_run: bool) -> None:
    """Apply the snapshot retention rules (48 h hourly, 30 days daily/weekly, 1 year monthly)."""

    removed = run_prune(make_edge(), dry_run=dry_run)
    for key in removed:
        click.echo(f"{'would remove' if dry_run else 'removed'} {key}")
    click.echo(f"{len(removed)} snapshot(s) {'to remove' if dry_run else 'removed'}")


@backup.command("list")
def backup_list() -> None:
    """List the snapshots, oldest first."""

    storage = snapshot_storage(_settings())
    for key in list_snapshots(storage):
        click.echo(key)


@click.command("restore")
@click.option("--latest", "mode", flag_value="latest", help="Restore the newest backup.")
@click.option("--at", "at", metavar="TIME", help="Restore the state at this ISO time (UTC).")
@click.option("--snapshot", metavar="KEY", help="Restore this snapshot key (see `digitaldock backup list`).")
@click.option("--to", "to", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the database (default: DATABASE_PATH).")
@click.option("--from", "source", type=click.Choice(["auto", "litestream", "snapshot"]), default="auto",
              show_default=True, help="Litestream replica or snapshots (auto: Litestream when configured).")
@click.option("--force", is_flag=True, help="Overwrite an existing database (stop the edge first).")
def restore_cmd(mode: str | None, at: str | None, snapshot: str | None, to: Path | None, source: str,
                force: bool) -> None:
    """Restore the edge database from Litestream or a snapshot."""
    from digitaldock.storage import StorageError

    if sum(bool(x) for x in (mode, at, snapshot)) != 1:
        raise click.UsageError("give exactly one of --latest, --at TIME, --snapshot KEY")
    settings = _settings()
    try:
        r = restore(settings, to, at=_parse_time(at) if at else None, snapshot=snapshot, source=source, force=force)
    except (BackupError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {r.path} from {r.source}{' ' + r.key if r.key else ''}; integrity ok")


@click.command("replicate")
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Litestream configuration (deploy/litestream.yml); default: rendered from the settings "
                   "into DIGITALDOCK_DATA_DIR.")
def replicate_cmd(config: Path | None) -> None:  # pragma: no cover - replaced by litestream (exec)
    """Replicate the edge database continuously with Litestream (runs until stopped).

    Runs `litestream replicate` in this process's place, with the environment the restore
    uses: AWS_CA_BUNDLE removed for a plain-http endpoint, where Litestream would otherwise
    fail every upload. The units and compose run this instead of litestream itself.
    """
    import os

    from checkout.ops.backup import replicate_command

    try:
        binary, argv, env = replicate_command(_settings(), config)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    sys.stdout.flush()
    os.execve(binary, argv, env)  # signals from systemd or docker reach litestream itself


@click.command("restore-drill")
@click.option("--scratch", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the restored copy (default: a temporary folder, removed after).")
@click.option("--from", "source", type=click.Choice(["auto", "litestream", "snapshot"]), default="auto", show_default=True)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for /readyz.")
def restore_drill(scratch: Path | None, source: str, timeout: float) -> None:
    """Restore the latest backup, check it, start an edge on it; print RTO and RPO (seconds)."""
    from digitaldock.storage import StorageError

    settings = _settings()
    try:
        report = drill(settings, scratch, source=source, timeout=timeout)
    except (BackupError, StorageError) as exc:
        click.echo(f"drill failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored from {report.source}{' ' + report.key if report.key else ''}")
    click.echo("rows " + json.dumps(report.row_counts, sort_keys=True))
    for problem in report.problems:
        click.echo(f"PROBLEM {problem}")
    click.echo("integrity ok" if report.ok else f"drill FAILED: {len(report.problems)} problem(s)")
    click.echo(f"RTO {report.rto:.2f}")
    click.echo(f"RPO {report.rpo:.2f}" if report.rpo is not None else "RPO unknown")
    if not report.ok:
        sys.exit(1)


@click.command("alerts")
def alerts_cmd() -> None:
    """Run every alert check (backups, replica, emails, webhooks, orders, payouts, disk) once."""
    from digitaldock.storage import StorageError

    e = make_edge()
    try:
        check_replica_freshness(e)
    except StorageError as exc:
        alerts.set_state(e, "replica", {"configured": True, "stale": True,
                                        "message": f"cannot check the Litestream replica: {exc}"})
    firing = alerts.run_checks(e)
    for kind, message in firing.items():
        click.echo(f"ALERT {kind}: {message}")
    if not firing:
        click.echo("no alerts")


@click.command("uptime")
@click.argument("urls", nargs=-1)
@click.option("--timeout", type=float, default=10.0, show_default=True)
@click.option("--alert", is_flag=True, help="Also mail the admins (run on the edge host, it needs the database).")
def uptime_cmd(urls: tuple[str, ...], timeout: float, alert: bool) -> None:
    """Probe the site, catalog.json and /readyz (default: from SITE_URL and CHECKOUT_URL)."""

    if not urls:
        s = _settings()
        urls = tuple(default_urls(s.SITE_URL, s.CHECKOUT_URL))
    results = probe_all(list(urls), timeout)
    failed = [p for p in results if not p.ok]
    if failed:
        if alert:
            alerts.raise_alert(make_edge(), "uptime", failed[0].reason)
        raise click.ClickException(failed[0].reason)
    if alert:
        alerts.clear(make_edge(), "uptime")
    click.echo(f"ok: {len(results)} URL(s) up" + (" (edge degraded)" if any(p.detail for p in results) else ""))


@click.command("deploy")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/lib/digitaldock/deploy"),
              show_default=True, help="Where the current port and pid are kept.")
@click.option("--caddy-admin", default="http://127.0.0.1:2019", show_default=True, help="Caddy's admin API.")
@click.option("--ports", default="8001,8002", show_default=True, help="The two ports the edge alternates between.")
@click.option("--manager", type=click.Choice(["process", "systemd"]), default="process", show_default=True,
              help="Run edges as detached processes or as digitaldock-edge@PORT systemd units.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for the new /readyz.")
def deploy_cmd(state_dir: Path, caddy_admin: str, ports: str, manager: str, timeout: float) -> None:
    """Zero-downtime deploy: new edge beside the old, wait for /readyz, drain and stop the old."""

    try:
        a, b = (int(p) for p in ports.split(","))
    except ValueError:
        raise click.BadParameter("--ports takes two ports, e.g. 8001,8002") from None
    try:
        deploy(state_dir, caddy_admin, (a, b), manager, ready_timeout=timeout, say=click.echo)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = [backup, replicate_cmd, restore_cmd, restore_drill, alerts_cmd, uptime_cmd, deploy_cmd]
