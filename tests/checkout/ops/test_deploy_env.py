"""The deployment files agree on one production: the environment file (generated, copied to
/etc/digitaldock/env), the image's ENV, compose (whose env_file overrides the image's ENV, and
whose `environment` overrides both) and Caddy's domains."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from checkout.core.settings import SettingsError, load_settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SECRETS = {"SECRET_KEY": "a-real-secret", "JWT_SECRET": "another-real-secret", "PAYSTACK_SECRET_KEY": "sk_live_x"}


def env_file() -> dict[str, str]:
    lines = (DEPLOY / "env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def image_env() -> dict[str, str]:
    """The Dockerfile's ENV instruction of the final stage, as name -> value."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    final = text.rsplit("\nFROM ", 1)[1]
    found: dict[str, str] = {}
    for line in final.splitlines():
        if line.startswith("ENV "):
            found.update(pair.split("=", 1) for pair in shlex.split(line[4:]))
    return found


def compose_services() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text())["services"]


def effective(service: dict) -> dict[str, str]:
    """What a compose service of the image runs with: ENV < env_file < environment."""
    assert service["env_file"] == "/etc/digitaldock/env"
    return {**image_env(), **env_file(), **{k: str(v) for k, v in (service.get("environment") or {}).items()}}


def test_the_env_file_and_the_image_are_production_and_compose_keeps_it():
    assert env_file()["DIGITALDOCK_ENV"] == "production"
    assert image_env()["DIGITALDOCK_ENV"] == "production"
    for name, service in compose_services().items():
        if service.get("image") == "digitaldock-edge":
            assert effective(service)["DIGITALDOCK_ENV"] == "production", name
    units = (DEPLOY / "systemd").glob("*.service")
    assert not [u.name for u in units if re.search(r"^Environment=.*DIGITALDOCK_ENV", u.read_text(), re.M)]


def test_compose_runs_the_image_with_the_images_paths():
    """The env file is for the systemd host; in a container its paths would point into the
    read-only image, so compose sets the image's own values again where the file has others."""
    image = image_env()
    for name, service in compose_services().items():
        if service.get("image") != "digitaldock-edge":
            continue
        run = effective(service)
        for key in ("DIGITALDOCK_DATA_DIR", "DATABASE_PATH") + (("CATALOG_PATH",) if name == "edge" else ()):
            assert run[key] == image[key], (name, key, run[key])


def test_the_env_file_is_a_production_configuration_once_its_secrets_are_filled_in():
    env = env_file()
    settings = load_settings(environ={**env, **SECRETS}, dotenv=None)
    assert settings.production and settings.TRUST_PROXY
    assert settings.data_dir == Path("/var/lib/digitaldock")
    unit = (DEPLOY / "systemd" / "digitaldock-edge@.service").read_text()
    assert "ReadWritePaths=/var/lib/digitaldock" in unit  # the one folder the units may write
    # Caddy's domains are the URLs the edge, the storefront's policy and the links use
    assert urlsplit(env["SITE_URL"]) == ("https", env["SITE_DOMAIN"], "", "", "")
    assert urlsplit(env["CHECKOUT_URL"]) == ("https", env["CHECKOUT_DOMAIN"], "", "", "")
    with pytest.raises(SettingsError, match="SECRET_KEY, JWT_SECRET, PAYSTACK_SECRET_KEY"):
        load_settings(environ=env, dotenv=None)
