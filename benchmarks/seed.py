"""Seed benchmark: `digitaldock seed --products N --buyers N --orders N` in a fresh folder.

Runs the real command (a fresh process, the repository's content copied first) and prints its
own timings per step, the database size and `digitaldock ledger check`'s verdict. Usage:

    .venv/bin/python benchmarks/seed.py --products 10000 --buyers 5000 --orders 100000
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--buyers", type=int, default=5_000)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shutil.copytree(ROOT / "content", base / "content")
        env = {**os.environ, "DIGITALDOCK_DATA_DIR": str(base / "data"), "CONTENT_DIR": str(base / "content"),
               "CATALOG_PATH": str(base / "output" / "catalog.json"), "LOG_LEVEL": "WARNING"}
        exe = [sys.executable, "-m", "checkout.cli.main"]
        started = time.perf_counter()
        done = subprocess.run([*exe, "seed", "--products", str(args.products), "--buyers", str(args.buyers),
                               "--orders", str(args.orders)], env=env, cwd=base, capture_output=True, text=True)
        total = time.perf_counter() - started
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        steps = [line for line in done.stderr.splitlines() if " s  " in line and not line.startswith("{")]
        print(f"seed --products {args.products} --buyers {args.buyers} --orders {args.orders}: "
              f"exit {done.returncode}, {total:.1f} s in all, {cpu.ru_utime + cpu.ru_stime:.1f} s of CPU "
              f"(the build's processes included); 1-minute load {load:.1f} at the end")
        for line in steps:
            if "orders" not in line or "paid orders" in line:
                print("  " + line.strip())
        if done.returncode:
            print(done.stderr[-2000:])
        db = base / "data" / "edge.sqlite3"
        print(f"  database: {db.stat().st_size / 1e6:.0f} MB")
        check = subprocess.run([*exe, "ledger", "check"], env=env, cwd=base, capture_output=True, text=True)
        print(f"  ledger check: exit {check.returncode} {check.stdout.strip()[-200:]}")


if __name__ == "__main__":
    main()
