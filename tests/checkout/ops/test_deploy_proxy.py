"""The deployment files agree on who may set the client's address: the env file (Caddy on the
same host, the systemd edge on 127.0.0.1), compose (Caddy at a fixed address on its network, the
edge unpublished) and the image (leaves it to the environment)."""

from __future__ import annotations

import ipaddress
import shlex
from pathlib import Path

import yaml

from checkout.core.settings import load_settings
from checkout.ops import deploy

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def env_file() -> dict[str, str]:
    lines = (DEPLOY / "env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_env_file_trusts_only_caddy_on_the_same_host():
    env = env_file()
    assert env["TRUST_PROXY"] == "true" and env["FORWARDED_ALLOW_IPS"] == "127.0.0.1"
    assert deploy.env_example() == (DEPLOY / "env.example").read_text()
    unit = (DEPLOY / "systemd" / "digitaldock-edge@.service").read_text()
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(start.removeprefix("ExecStart="))
    assert argv[argv.index("--host") + 1] == "127.0.0.1"  # reachable by local processes (Caddy) only
    assert "EnvironmentFile=/etc/digitaldock/env" in unit  # the env file decides, nothing in the unit
    assert not [line for line in unit.splitlines() if line.startswith("Environment=")]


def test_compose_trusts_exactly_caddys_address_and_publishes_no_edge_port():
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    edge, caddy = compose["services"]["edge"], compose["services"]["caddy"]
    assert "ports" not in edge  # only the compose network reaches the edge
    caddy_ip = caddy["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(caddy_ip) in ipaddress.ip_network(subnet)
    assert edge["environment"]["TRUST_PROXY"] == "true"
    assert edge["environment"]["FORWARDED_ALLOW_IPS"] == caddy_ip
    assert caddy["environment"]["EDGE_UPSTREAMS"].startswith("edge:")
    secrets = {"SECRET_KEY": "k", "JWT_SECRET": "j", "PAYSTACK_SECRET_KEY": "sk_live_x"}  # production's
    settings = load_settings(environ={**env_file(), **secrets, **edge["environment"]}, dotenv=None)
    assert settings.TRUST_PROXY is True and settings.FORWARDED_ALLOW_IPS == caddy_ip


def test_the_image_leaves_the_proxy_settings_to_the_environment():
    text = (DEPLOY / "Dockerfile").read_text()
    env_lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("TRUST_PROXY" in line or "FORWARDED_ALLOW_IPS" in line for line in env_lines)
