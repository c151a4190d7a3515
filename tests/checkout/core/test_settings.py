"""Settings: defaults, precedence, casting errors naming the key, production requirements."""

from __future__ import annotations

import pytest

from checkout.core.settings import SETTINGS, Secret, SettingsError, load_settings, settings_table


def test_defaults_need_no_environment(tmp_path):
    s = load_settings(environ={"DIGITALDOCK_DATA_DIR": str(tmp_path)}, dotenv=None)
    assert s.production is False and s.SITE_URL == "http://127.0.0.1:8000"
    assert s.database_path == tmp_path / "edge.sqlite3" and s.email_dir == tmp_path / "emails"
    again = load_settings(environ={"DIGITALDOCK_DATA_DIR": str(tmp_path)}, dotenv=None)
    assert s.SECRET_KEY == again.SECRET_KEY  # the development key persists
    assert "secret_key" not in repr(s).lower() or "**********" in repr(s)
    assert s.SECRET_KEY.reveal() not in repr(s)


def test_precedence_override_env_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nLOG_LEVEL='DEBUG'\nSESSION_DAYS=3\nnonsense\n")
    s = load_settings(environ={"SESSION_DAYS": "5", "DIGITALDOCK_DATA_DIR": str(tmp_path)}, dotenv=env_file)
    assert s.LOG_LEVEL == "DEBUG" and s.SESSION_DAYS == 5
    s = load_settings(environ={"SESSION_DAYS": "5", "DIGITALDOCK_DATA_DIR": str(tmp_path)}, dotenv=env_file, SESSION_DAYS=7)
    assert s.SESSION_DAYS == 7
    assert s.replace(SESSION_DAYS=9).SESSION_DAYS == 9


@pytest.mark.parametrize("env, message", [
    ({"SESSION_DAYS": "many"}, "SESSION_DAYS='many': expected int"),
    ({"TRUST_PROXY": "maybe"}, "TRUST_PROXY='maybe': expected bool"),
    ({"DIGITALDOCK_ENV": "staging"}, "DIGITALDOCK_ENV='staging'"),
    ({"EMAIL_BACKEND": "smtp"}, "EMAIL_BACKEND='smtp'"),
    ({"EMAIL_BACKEND": "resend"}, "RESEND_API_KEY"),
    ({"SITE_URL": "example.com"}, "SITE_URL='example.com'"),
    ({"DIGITALDOCK_ENV": "production"}, "production mode needs these settings: SECRET_KEY, JWT_SECRET"),
    ({"DIGITALDOCK_ENV": "production", "SECRET_KEY": "s", "JWT_SECRET": "j", "EMAIL_BACKEND": "resend"}, "RESEND_API_KEY"),
])
def test_bad_values_name_the_key(tmp_path, env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        load_settings(environ={"DIGITALDOCK_DATA_DIR": str(tmp_path), **env}, dotenv=None)


def test_unknown_override_and_wrong_types(tmp_path):
    with pytest.raises(SettingsError, match="NOPE: unknown setting"):
        load_settings(environ={}, dotenv=None, NOPE=1)
    with pytest.raises(SettingsError, match="SESSION_DAYS"):
        load_settings(environ={"DIGITALDOCK_DATA_DIR": str(tmp_path)}, dotenv=None, SESSION_DAYS=[1])
    s = load_settings(environ={"DIGITALDOCK_DATA_DIR": str(tmp_path), "TRUST_PROXY": "yes"}, dotenv=None)
    assert s.TRUST_PROXY is True
    with pytest.raises(AttributeError):
        s.NOT_A_SETTING


def test_production_with_secrets(tmp_path):
    s = load_settings(environ={"DIGITALDOCK_ENV": "production", "SECRET_KEY": "k" * 40, "JWT_SECRET": "j" * 40,
                               "PAYSTACK_SECRET_KEY": "sk_live_" + "p" * 32, "DIGITALDOCK_DATA_DIR": str(tmp_path)}, dotenv=None)
    assert s.production and not (tmp_path / "secret_key").exists()


def test_secret_hides_itself():
    s = Secret("hunter2")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s) and s.reveal() == "hunter2"
    assert repr(Secret("")) == "Secret('')" and not Secret("") and hash(s) == hash(Secret("hunter2"))


def test_every_setting_is_documented():
    rows = settings_table()
    assert len(rows) == len(SETTINGS) and all(help_ for _, _, help_ in rows)
    assert ("SECRET_KEY", "", rows[[r[0] for r in rows].index("SECRET_KEY")][2]) in rows
    names = [r[0] for r in rows]
    assert len(set(names)) == len(names)
