"""`digitaldock dev`: the whole local stack in one command, on embedded defaults.

Starts the storefront (build, serve on :8000, rebuild on change), then the checkout edge
(:8001) and the Paystack sandbox (:8002) when those commands are installed, and stops them
all together. Each runs as its own process so a crash in one is visible and does not take
the others down silently.

`--proxy` puts the three behind Caddy on one port, each on its own name as in production
(`digitaldock.localhost`, `checkout.digitaldock.localhost`, `paystack.digitaldock.localhost`;
browsers send every `*.localhost` name to this machine), so cookies, CORS and the CSP see the
same two origins as the real site. `--https` does the same over TLS with Caddy's internal
certificate authority: `https://digitaldock.localhost:8443`, and the edge's cookies are
`Secure` as in production (issue #21).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import click

SITE_PORT, EDGE_PORT, SANDBOX_PORT = 8000, 8001, 8002
DOMAIN = "digitaldock.localhost"
PROXY_HTTP_PORT, PROXY_HTTPS_PORT = 8080, 8443


def proxy_urls(https: bool, port: int | None = None) -> dict[str, str]:
    """The public URLs of the stack behind the development proxy."""
    scheme = "https" if https else "http"
    port = port or (PROXY_HTTPS_PORT if https else PROXY_HTTP_PORT)
    return {"SITE_URL": f"{scheme}://{DOMAIN}:{port}", "CHECKOUT_URL": f"{scheme}://checkout.{DOMAIN}:{port}",
            "SANDBOX_URL": f"{scheme}://paystack.{DOMAIN}:{port}"}


def caddyfile(https: bool, port: int | None = None, host: str = "127.0.0.1",
              upstreams: tuple[int, int, int] = (SITE_PORT, EDGE_PORT, SANDBOX_PORT)) -> str:
    """Caddy's configuration for the development proxy: one port, one name per part."""
    urls = proxy_urls(https, port)
    port = port or (PROXY_HTTPS_PORT if https else PROXY_HTTP_PORT)
    options = ["admin off", "skip_install_trust"]
    if https:
        options += ["local_certs", f"https_port {port}", "auto_https disable_redirects"]
    else:
        options += ["auto_https off", f"http_port {port}"]
    sites = []
    for url, upstream in zip((urls["SITE_URL"], urls["CHECKOUT_URL"], urls["SANDBOX_URL"]), upstreams, strict=True):
        tls = "\n\ttls internal" if https else ""
        sites.append(f"{url} {{{tls}\n\treverse_proxy {host}:{upstream}\n}}\n")
    return "{\n" + "".join(f"\t{o}\n" for o in options) + "}\n\n" + "\n".join(sites)


def proxied_env(env: dict[str, str], https: bool, port: int | None = None) -> dict[str, str]:
    """The stack's environment when it is reached through the proxy: public URLs on the
    proxy's names, the forwarded scheme and address believed from Caddy on this machine."""
    urls = proxy_urls(https, port)
    return {**env, "SITE_URL": urls["SITE_URL"], "CHECKOUT_URL": urls["CHECKOUT_URL"], "TRUST_PROXY": "true",
            "FORWARDED_ALLOW_IPS": "127.0.0.1,::1",
            "PAYSTACK_WEBHOOK_URL": f"http://127.0.0.1:{EDGE_PORT}/webhooks/paystack"}


def stack(host: str = "127.0.0.1") -> list[tuple[str, list[str]]]:
    """The processes of the local stack, as (name, argv)."""
    exe = [sys.executable, "-m", "checkout.cli.main"]
    return [("storefront", exe + ["serve", "--host", host, "--port", str(SITE_PORT)]),
            ("edge", exe + ["edge", "--host", host, "--port", str(EDGE_PORT)]),
            ("sandbox", exe + ["sandbox", "--host", host, "--port", str(SANDBOX_PORT)])]


def stack_env(host: str = "127.0.0.1") -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SITE_URL", f"http://{host}:{SITE_PORT}")
    env.setdefault("CHECKOUT_URL", f"http://{host}:{EDGE_PORT}")
    env.setdefault("PAYSTACK_BASE_URL", f"http://{host}:{SANDBOX_PORT}")
    env.setdefault("PAYSTACK_WEBHOOK_URL", f"http://{host}:{EDGE_PORT}/webhooks/paystack")
    return env


QUIET_PARTS = ("edge", "sandbox", "proxy")  # they log a JSON line per request: to files, unless --verbose


def log_folder(env: dict[str, str]) -> Path:
    return Path(env.get("DIGITALDOCK_DATA_DIR") or "data") / "logs"


def output_for(name: str, folder: Path, verbose: bool) -> IO[bytes] | None:
    """Where a part's output goes: the terminal (None) for the storefront, which prints the
    content problems an author must see, and a file in `folder` for the JSON-logging parts."""
    if verbose or name not in QUIET_PARTS:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return (folder / f"{name}.log").open("ab")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def proxy_part(env: dict[str, str], https: bool, port: int | None) -> tuple[str, list[str]]:
    """Write the proxy's Caddyfile into the data folder; the process that runs it."""
    folder = Path(env.get("DIGITALDOCK_DATA_DIR") or "data") / "proxy"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "Caddyfile"
    config.write_text(caddyfile(https, port), "utf-8")
    env["XDG_DATA_HOME"] = str(folder.resolve())  # Caddy's internal CA stays in the data folder
    env["XDG_CONFIG_HOME"] = str(folder.resolve())
    return "proxy", [shutil.which("caddy") or "caddy", "run", "--config", str(config), "--adapter", "caddyfile"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Print the edge's and the sandbox's logs here too.")
@click.option("--proxy", is_flag=True, help=f"Everything behind Caddy on one port ({DOMAIN}:{PROXY_HTTP_PORT}).")
@click.option("--https", is_flag=True, help=f"The proxy over TLS with Caddy's local CA ({DOMAIN}:{PROXY_HTTPS_PORT}); "
              "cookies are Secure.")
@click.option("--proxy-port", type=click.IntRange(1, 65535), default=None, help="The proxy's port.")
def dev(host: str, verbose: bool, proxy: bool, https: bool,
        proxy_port: int | None) -> None:  # pragma: no cover - interactive; its parts are tested one by one
    """Run the storefront, the checkout edge and the Paystack sandbox together (Ctrl-C stops)."""
    env = stack_env(host)
    parts = stack(host)
    if proxy or https:
        if shutil.which("caddy") is None:
            raise click.ClickException("--proxy and --https need Caddy (scripts/system-packages installs it)")
        env = proxied_env(env, https, proxy_port)
        parts = [*parts, proxy_part(env, https, proxy_port)]
    logs = log_folder(env)
    running = []
    for name, argv in parts:
        out = output_for(name, logs, verbose)
        running.append((name, subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)))
        if out:
            out.close()  # the child has its own copy
        if name == "storefront":
            time.sleep(1.5)  # the edge reads the catalogue the first build writes
    time.sleep(1.0)
    click.echo("\nDemo accounts (role, email, password):")
    seeded = subprocess.run([sys.executable, "-m", "checkout.cli.main", "seed", "--wait", "30"], env=env, check=False,
                            stderr=None if verbose else subprocess.PIPE, text=True)
    if seeded.returncode and seeded.stderr:  # its JSON logs are noise, but not its failure
        click.echo(seeded.stderr.strip().splitlines()[-1], err=True)
    quiet = [] if verbose else [n for n, _ in running if n in QUIET_PARTS]
    site = env["SITE_URL"] if (proxy or https) else f"http://{host}:{SITE_PORT}"
    if https:
        root = Path(env["XDG_DATA_HOME"]) / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        click.echo(f"Caddy's local certificate authority: {root} (trust it in your browser, or run `caddy trust`)")
    click.echo(f"\nDigitalDock is running: open {site}/  (Ctrl-C stops everything)\n"
               f"Pay with the Paystack sandbox's test page; downloads appear in "
               f"{env['CHECKOUT_URL'] if (proxy or https) else f'http://{host}:{EDGE_PORT}'}/library\n"
               + (f"Logs of the {' and the '.join(quiet)}: {logs}/ (or run with --verbose)\n" if quiet else ""))
    try:
        while all(p.poll() is None for _, p in running):
            time.sleep(0.5)
        dead = [name for name, p in running if p.poll() is not None]
        click.echo(f"stopped because {', '.join(dead)} exited", err=True)
        for name in dead:
            if name in QUIET_PARTS and not verbose:
                click.echo(f"--- last lines of {logs / (name + '.log')}:\n{tail(logs / (name + '.log'))}", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for _, p in running:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in running:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


COMMANDS = [dev]
