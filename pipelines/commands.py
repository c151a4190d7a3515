"""The pipeline's subcommands: `validate`, `scan`, `publish` (thin layers over the modules)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from digitaldock.storage import Storage, StorageError, s3_client, storage_from_env


def content_dir_option(f):
    return click.option("--content-dir", default="content", show_default=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="The content folder.")(f)


def _storage(content_dir: Path, env: Mapping[str, str] | None = None) -> Storage:
    """Storage from the environment; the local default lives inside the chosen content folder."""
    env = dict(os.environ if env is None else env)
    env.setdefault("STORAGE_DIR", str(content_dir / "storage"))
    try:
        return storage_from_env(env)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text", show_default=True,
              help="github prints GitHub Actions annotations.")
@content_dir_option
@click.option("--base-ref", default="HEAD", show_default=True,
              help="git revision legal documents are compared with ('' to skip).")
def validate(paths: tuple[Path, ...], fmt: str, content_dir: Path, base_ref: str) -> None:
    """Check all content; report every problem in every file (only PATHS' when given)."""
    from .validate import ValidateError, format_problem
    from .validate import validate as run

    try:
        report = run(content_dir, _storage(content_dir), paths=paths, base_ref=base_ref or None)
    except (ValidateError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    for problem in report.problems:
        click.echo(format_problem(problem, fmt))
    if not report.ok:
        n, files = len(report.problems), len({p.path for p in report.problems})
        raise click.ClickException(f"{n} problem{'s' * (n != 1)} in {files} file{'s' * (files != 1)}")
    click.echo(report.summary())


@click.command()
@content_dir_option
@click.option("--skip-virus-scan", is_flag=True,
              help="Only check file types; for local use when no clamd is running.")
def scan(content_dir: Path, skip_virus_scan: bool) -> None:
    """Scan product files and images with clamd and a file type allowlist; quarantine failures."""
    from .scan import Clamd, ScanError
    from .scan import scan as run

    try:
        clamd = Clamd.from_env()
        if skip_virus_scan:
            click.secho("WARNING: --skip-virus-scan: files are NOT checked for viruses, only for "
                        "their type. Never publish from this run.", fg="red", bold=True, err=True)
            clamd = None
        elif clamd is None:
            raise ScanError("clamd is not configured: set CLAMD_SOCKET, or CLAMD_HOST and CLAMD_PORT "
                            "(or pass --skip-virus-scan for a local type check only)")
        report = run(content_dir, _storage(content_dir), clamd)
    except (ScanError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    for finding in report.findings:
        click.echo(f"QUARANTINED {finding}" if finding.quarantined_as else f"MISSING {finding}")
    what = "virus and type" if report.virus_scan else "type only, NO virus scan"
    if not report.ok:
        n = len(report.findings)
        raise click.ClickException(f"{n} file{'s' * (n != 1)} refused ({what})")
    click.echo(f"scan OK: {report.scanned} files clean ({what})")


@click.command()
@click.option("--bucket", required=True, envvar="S3_SITE_BUCKET", help="The bucket that serves the site.")
@click.option("--endpoint-url", default=None, envvar="S3_ENDPOINT_URL",
              help="S3-compatible endpoint (R2: https://<account>.r2.cloudflarestorage.com).")
@click.option("--prefix", default="", help="A folder inside the bucket.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--output", "-o", default="output", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="The built site.")
def publish(bucket: str, endpoint_url: str | None, prefix: str, dry_run: bool, output: Path) -> None:
    """Sync the built site to the bucket: changed files only, stale ones removed last."""
    from .publish import PublishError
    from .publish import publish as run

    try:
        client = s3_client(endpoint_url)
        run(output, bucket, client=client, prefix=prefix, endpoint_url=endpoint_url,
            dry_run=dry_run, echo=click.echo)
    except (PublishError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = [validate, scan, publish]
