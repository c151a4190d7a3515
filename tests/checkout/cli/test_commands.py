"""The digitaldock subcommands of the edge, through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from checkout.accounts import users
from checkout.cli import edge as edge_commands
from checkout.cli.edge import edge, migrate, outbox_cmd, retention, seed, user
from checkout.cli.main import all_commands
from checkout.core.db import migration_files
from checkout.core.errors import ValidationFailed
from checkout.core.settings import load_settings
from checkout.wiring import build_edge


@pytest.fixture
def env(tmp_path, catalog_path):
    return {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(catalog_path),
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
            "PAYSTACK_BASE_URL": "http://127.0.0.1:9"}  # no sandbox: seed makes no demo sales


def run(cmd, args, env):
    return CliRunner().invoke(cmd, args, env=env, catch_exceptions=False)


def test_commands_are_registered():
    assert {"edge", "migrate", "seed", "retention", "user", "outbox"} <= {c.name for c in edge_commands.COMMANDS}
    assert {"edge", "migrate", "seed", "retention", "user"} <= set(all_commands())


def test_migrate(env):
    r = run(migrate, [], env)
    assert r.exit_code == 0 and f"schema version {migration_files()[-1][0]}" in r.output


def test_seed_prints_credentials_and_remembers_them(env, tmp_path):
    r = run(seed, [], env)
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert [l.split()[0] for l in lines[:3]] == ["buyer", "seller", "admin"]
    assert all("demo-" in l for l in lines[:3])
    # the demo seller owns a catalogue seller out of the box (issue #16)
    assert lines[3].startswith("seller  seller@example.com manages the catalogue seller ")
    r = run(seed, [], env)
    assert r.stdout.splitlines() == lines  # shown again from the data folder
    saved = next(tmp_path.rglob("demo-accounts.txt"))
    assert saved.stat().st_mode & 0o077 == 0
    saved.unlink()
    r = run(seed, [], env)
    assert "exists, password unchanged" in r.output


def test_user_create_admin(env):
    r = run(user, ["create", "root@example.com", "--admin", "--password", "tall-granite-window-8"], env)
    assert r.exit_code == 0 and json.loads(r.stdout)["role"] == "admin"
    r = run(user, ["create", "root@example.com", "--password", "tall-granite-window-8"], env)
    assert r.exit_code == 1 and "already exists" in r.output
    r = run(user, ["create", "x@example.com", "--password", "password123"], env)
    assert r.exit_code == 1 and "too common" in r.output
    r = run(user, ["create", "not-an-email", "--password", "tall-granite-window-8"], env)
    assert r.exit_code == 1 and "not a valid email" in r.output


def test_retention_and_outbox(env):
    r = run(retention, [], env)
    assert r.exit_code == 0 and "accounts_anonymised: 0" in r.output
    r = run(outbox_cmd, ["--once"], env)
    assert r.exit_code == 0 and json.loads(r.stdout) == {"sent": 0, "retry": 0, "dead": 0}


def test_production_without_secrets_is_a_clear_error(env):
    r = run(edge, [], {**env, "DIGITALDOCK_ENV": "production"})
    assert r.exit_code == 1 and "production mode needs these settings: SECRET_KEY, JWT_SECRET" in r.output
    r = run(migrate, [], {**env, "SESSION_DAYS": "x"})
    assert r.exit_code == 1 and "SESSION_DAYS='x'" in r.output


def test_edge_runs_uvicorn_with_defaults(env, monkeypatch):
    import uvicorn
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    r = run(edge, ["--port", "9999"], env)
    assert r.exit_code == 0 and seen["host"] == "127.0.0.1" and seen["port"] == 9999


def test_user_role_change_is_audited(env):
    run(user, ["create", "sam@example.com", "--password", "tall-granite-window-8"], env)
    r = run(user, ["role", "sam@example.com", "seller"], env)
    assert r.exit_code == 0 and json.loads(r.stdout)["role"] == "seller"
    r = run(user, ["role", "ghost@example.com", "admin"], env)
    assert r.exit_code == 1 and "no account" in r.output
    e = build_edge(load_settings(environ=env, dotenv=None))
    assert e.db.execute("SELECT action FROM audit_log ORDER BY id DESC").fetchone()[0] == "user.role_changed"
    e.close()


def test_set_role_refuses_unknown_roles(client):
    import pytest
    with pytest.raises(ValidationFailed):
        users.set_role(client.app.state.edge, 1, "wizard", None)
