"""The runbook names only commands that exist, and the GitHub workflows pass actionlint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click

from checkout.cli.main import all_commands

ROOT = Path(__file__).resolve().parents[3]
# Commands the runbook may name before another issue ships them (marked "(planned)" there).
NOT_YET: set[str] = set()


def _commands_named(text: str) -> set[str]:
    found = set()
    for m in re.finditer(r"digitaldock ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", text):
        found.add(" ".join(w for w in m.groups() if w))
    return found


def _exists(words: str) -> bool:
    first, _, second = words.partition(" ")
    cmd = all_commands().get(first)
    if cmd is None:
        return False
    if second and isinstance(cmd, click.Group):
        # "digitaldock backup prune" names a subcommand; "digitaldock uptime --alert" does not
        return second in cmd.commands or not cmd.commands
    return True


def test_every_command_in_the_runbook_exists():
    text = (ROOT / "docs" / "operations.md").read_text()
    named = _commands_named(text)
    assert {"backup", "backup prune", "restore", "restore-drill", "uptime", "deploy", "reconcile",
            "retention", "ledger check"} <= named
    missing = sorted(w for w in named if not _exists(w) and w not in NOT_YET)
    assert not missing, f"the runbook names commands that do not exist: {missing}"
    for planned in NOT_YET:  # an allowlisted command is marked as planned where it is named
        assert "(planned" in text.split(f"digitaldock {planned}", 1)[1][:200]


def test_runbook_covers_each_procedure():
    text = (ROOT / "docs" / "operations.md").read_text()
    for heading in ("## Deploy", "## Roll back", "## Rotate secrets", "## Backups and restore",
                    "## Paystack outage", "## Replay missed webhooks", "## GDPR request", "## Malware report"):
        assert heading in text
    assert "RTO" in text and "RPO" in text and "DOWNLOAD_SECRET_KEYS" in text


def test_workflows_pass_actionlint():
    files = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert any(f.endswith("ci.yml") for f in files) and any(f.endswith("content.yml") for f in files)
    r = subprocess.run([str(Path(sys.executable).parent / "actionlint"), "-no-color", *files],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ci_tests_every_push_and_deploys_only_tags_that_pass():
    import yaml

    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    on = ci[True] if True in ci else ci["on"]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in on and on["push"]["tags"] == ["v*"]
    assert any(step.get("run") == "./scripts/test" for step in ci["jobs"]["test"]["steps"])
    job = ci["jobs"]["deploy-edge"]
    assert job["needs"] == "test" and "refs/tags/v" in job["if"]
    assert any("deploy/deploy.sh" in step.get("run", "") for step in job["steps"])
