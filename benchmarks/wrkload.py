"""Drive a server with `wrk` (Debian package `wrk`) replaying pre-generated requests through
`benchmarks/replay.lua`: each request sent exactly once, one connection per wrk thread, the run
bounded by the number of requests and by a time limit. wrk is C with an epoll loop, so on the
same cores it costs a small fraction of what a Python client does and the figures show the
server, not the load generator.

    from wrkload import Request, run
    result = run("http://127.0.0.1:8000", [Request("POST", "/hook", body, {"x-sig": s}), ...],
                 concurrency=16, headers={"Cookie": "..."})
    result["rps"], result["p99_ms"]
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SCRIPT = Path(__file__).resolve().parent / "replay.lua"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        parts = [self.method, self.path, self.body, *(f"{k}: {v}" for k, v in self.headers.items())]
        if any("\t" in p or "\n" in p or "\r" in p for p in parts):
            raise ValueError("a replayed request cannot contain tabs or line breaks")
        return "\t".join(parts)


class Profile:
    """`py-spy record` on a server process while a phase runs (`pip install py-spy`; needs
    ptrace rights, e.g. root): collapsed stacks in `out`, for `summarise`."""

    def __init__(self, pid: int, out: Path | None) -> None:
        self.pid, self.out, self.proc = pid, out, None

    def __enter__(self) -> "Profile":
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if self.out is not None:
            self.proc = subprocess.Popen([spy, "record", "--pid", str(self.pid), "--rate", "250", "--format", "raw",
                                          "--output", str(self.out), "--nonblocking"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # py-spy attaches
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            self.proc.wait(timeout=60)
            print(summarise(self.out))


def summarise(path: Path | None, top: int = 25) -> str:
    """The functions with the most samples (inclusive and self) in a collapsed-stack file."""
    if path is None or not path.exists():
        return "no profile written"
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        count = int(n)
        total += count
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    out = [f"profile {path}: {total} samples", "  inclusive:"]
    out += [f"    {n / total:6.1%}  {f}" for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]]
    out += ["  self:"]
    out += [f"    {n / total:6.1%}  {f}" for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(out)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return found


def run(url: str, requests: list[Request], concurrency: int, headers: dict[str, str] | None = None,
        time_limit: int = 300) -> dict:
    """Replay `requests` against `url` (127.0.0.1 only) with `concurrency` connections; the
    figures wrk measured: rps, p50/p95/p99/max in ms, statuses, errors."""
    host = urlsplit(url).hostname
    if host != "127.0.0.1":
        raise SystemExit(f"benchmarks only drive 127.0.0.1, not {host}")
    if not requests:
        raise ValueError("nothing to replay")
    threads = max(1, min(concurrency, len(requests)))
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "requests.tsv"
        file.write_text("\n".join(r.line() for r in requests) + "\n")
        done = Path(tmp) / "done"
        done.mkdir()
        cmd = [wrk_binary(), "-t", str(threads), "-c", str(threads), "-d", f"{time_limit}s", "--timeout", "30s",
               "-s", str(SCRIPT)]
        for name, value in (headers or {}).items():
            cmd += ["-H", f"{name}: {value}"]
        cmd += [url, "--", str(file), str(threads), str(done)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + time_limit + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if len(os.listdir(done)) >= threads:
                proc.send_signal(signal.SIGINT)  # wrk's main thread sleeps for -d; wake it to report
                break
            time.sleep(0.01)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    lines = [ln for ln in out.splitlines() if ln.startswith("WRKJSON ")]
    if not lines:
        raise SystemExit(f"wrk gave no result (exit {proc.returncode}): {err.strip() or out.strip()}")
    r = json.loads(lines[-1][len("WRKJSON "):])
    r["statuses"] = {int(k): v for k, v in r["statuses"].items()}
    r["rps"] = r["answered"] / r["seconds"] if r["seconds"] else 0.0
    for p in ("p50", "p95", "p99", "max"):
        r[f"{p}_ms"] = r[f"{p}_us"] / 1000
    r["threads"] = threads
    return r
