"""The development proxy (issue #21): `digitaldock dev --proxy|--https` puts the storefront, the
edge and the sandbox behind a real Caddy on one port, each on its own name as in production,
and over TLS from Caddy's internal CA the edge's cookies are Secure."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from checkout.cli import dev

from ...servers import free_port, serve

pytestmark = pytest.mark.skipif(shutil.which("caddy") is None, reason="Caddy is not installed")


def upstream(name: str) -> Starlette:
    async def who(request: Request) -> JSONResponse:
        return JSONResponse({"part": name, "host": request.headers.get("host"),
                             "proto": request.headers.get("x-forwarded-proto")})
    return Starlette(routes=[Route("/{path:path}", who)])


def through(url: str, port: int, https: bool, root: object = False) -> httpx.Response:
    """GET `url` (a *.localhost name) at the proxy on 127.0.0.1, with the name in Host and SNI."""
    host = url.split("://", 1)[1].split(":", 1)[0]
    scheme = "https" if https else "http"
    with httpx.Client(verify=root) as client:
        return client.get(f"{scheme}://127.0.0.1:{port}/x", headers={"Host": f"{host}:{port}"},
                          extensions={"sni_hostname": host})


@pytest.mark.parametrize("https", [False, True])
def test_one_port_routes_each_name_to_its_part(tmp_path, https):
    port = free_port()
    with serve(upstream("storefront")) as site, serve(upstream("edge")) as edge, serve(upstream("sandbox")) as box:
        config = tmp_path / "Caddyfile"
        config.write_text(dev.caddyfile(https, port, upstreams=(site.port, edge.port, box.port)))
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
               "XDG_CONFIG_HOME": str(tmp_path)}
        check = subprocess.run(["caddy", "validate", "--config", str(config), "--adapter", "caddyfile"], env=env,
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr[-2000:]
        with serve(["caddy", "run", "--config", str(config), "--adapter", "caddyfile"], port=port, env=env) as proxy:
            urls = dev.proxy_urls(https, port)
            root = tmp_path / "caddy" / "pki" / "authorities" / "local" / "root.crt"
            for _ in range(100):  # Caddy issues its certificates just after it starts listening
                if not https or root.exists():
                    break
                time.sleep(0.1)
            verify = ssl.create_default_context(cafile=str(root)) if https else False
            for key, part in (("SITE_URL", "storefront"), ("CHECKOUT_URL", "edge"), ("SANDBOX_URL", "sandbox")):
                for _ in range(50):
                    try:
                        r = through(urls[key], port, https, verify)
                        break
                    except httpx.ConnectError:
                        time.sleep(0.1)
                assert r.status_code == 200, r.text
                assert r.json()["part"] == part and r.json()["proto"] == ("https" if https else "http")
            assert proxy.proc.poll() is None


def test_the_stack_behind_the_proxy_uses_its_names_and_secure_cookies(tmp_path):
    from checkout.core.settings import load_settings

    env = dev.proxied_env(dev.stack_env("127.0.0.1"), https=True)
    assert env["SITE_URL"] == "https://digitaldock.localhost:8443"
    assert env["CHECKOUT_URL"] == "https://checkout.digitaldock.localhost:8443"
    assert env["TRUST_PROXY"] == "true"
    settings = load_settings(environ={"DIGITALDOCK_DATA_DIR": str(tmp_path), "CHECKOUT_URL": env["CHECKOUT_URL"]},
                             dotenv=None)
    assert settings.secure_cookies
    name, argv = dev.proxy_part({"DIGITALDOCK_DATA_DIR": str(tmp_path)}, True, None)
    assert name == "proxy" and argv[1:3] == ["run", "--config"]
    assert "tls internal" in (tmp_path / "proxy" / "Caddyfile").read_text()
