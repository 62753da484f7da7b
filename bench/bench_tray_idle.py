"""What the tray app costs while it waits: resident memory and CPU over an idle minute (issue 5).

    .venv/bin/python bench/bench_tray_idle.py [--seconds 60] [--settle 10] [--check]

Starts a real X session (Xvfb, a D-Bus session bus, dunst, trayer: the same as the tests'
``desktop`` fixture) and a private HOME with a kubeconfig of five exec-plugin contexts, wrapped,
three of them pinned, their 15-minute tokens fetched by the tray at start. Then, for each of

- ``kubewarm`` (the tray app: pystray's appindicator backend on GTK), and
- ``kubewarm tray --no-icon`` (the headless warmer),

it lets the process settle, and over the idle window reads from ``/proc``: resident memory
(VmRSS, and its peak VmHWM), CPU time used (user + system), and how often the process woke up
(context switches). Prints one row per mode. ``--check`` exits 1 when RSS exceeds 80 MB or CPU
exceeds 1% of one core (targets of the issue: RSS ≤ 80 MB, CPU ≈ 0). Every process started is
ended by PID.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures_core import kill_pid  # noqa: E402
from tests.fixtures_desktop import running_desktop  # noqa: E402
from tests.tray_helpers import bench_home  # noqa: E402

RSS_LIMIT_MB = 80.0
CPU_LIMIT_PERCENT = 1.0
CONTEXTS = ("prod", "staging", "dev", "eu", "us")
PINNED = ("prod", "staging", "dev")
KUBEWARM = Path(sys.executable).parent / "kubewarm"


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return dict(line.split(":", 1) for line in fh if ":" in line)


def _kib(value: str) -> float:
    return float(value.split()[0]) / 1024.0


def _cpu_seconds(pid: int) -> float:
    if sys.platform == "win32":  # /proc and os.sysconf: this benchmark runs on Linux
        raise SystemExit("bench_tray_idle.py measures a Linux desktop")
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _switches(pid: int) -> int:
    """Context switches of every thread: each one is a wake-up (or a preemption)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status", encoding="ascii") as fh:
                status = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue  # a thread that just ended
        total += int(status["voluntary_ctxt_switches"]) + int(status["nonvoluntary_ctxt_switches"])
    return total


def _threads(pid: int) -> int:
    return int(_status(pid)["Threads"])


def measure(argv: list[str], env: dict[str, str], settle: float, seconds: float, log: Path) -> dict:
    """Start ``argv``, wait ``settle`` s, then read its cost over ``seconds`` s of idling."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        runs = log.parent / "plugin-runs.log"
        while time.monotonic() < deadline:  # the pinned contexts are warmed at start
            if runs.exists() and len(runs.read_text().splitlines()) >= len(PINNED):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"{argv} exited: {log.read_text()}")
            time.sleep(0.2)
        time.sleep(settle)
        cpu0, switches0, wall0 = _cpu_seconds(proc.pid), _switches(proc.pid), time.monotonic()
        samples = []
        while time.monotonic() - wall0 < seconds:
            samples.append(_kib(_status(proc.pid)["VmRSS"]))
            time.sleep(min(5.0, max(seconds - (time.monotonic() - wall0), 0.01)))
        cpu1, switches1, wall1 = _cpu_seconds(proc.pid), _switches(proc.pid), time.monotonic()
        status = _status(proc.pid)
        elapsed = wall1 - wall0
        return {
            "rss": max([*samples, _kib(status["VmRSS"])]),
            "peak": _kib(status["VmHWM"]),
            "cpu_s": cpu1 - cpu0,
            "cpu_pct": 100.0 * (cpu1 - cpu0) / elapsed,
            "wakeups_per_min": (switches1 - switches0) * 60.0 / elapsed,
            "threads": _threads(proc.pid),
            "seconds": elapsed,
        }
    finally:
        kill_pid(proc.pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="idle window (default 60)")
    parser.add_argument("--settle", type=float, default=10.0, help="wait after start (default 10)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ns = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="kubewarm-bench-tray-") as tmp:
        work = Path(tmp)
        (work / "desktop").mkdir()
        with running_desktop(work / "desktop") as desktop:
            for mode, args in (("tray (icon)", []), ("--no-icon", ["tray", "--no-icon"])):
                run_dir = work / mode.strip("-() ").replace(" ", "-")
                run_dir.mkdir()
                env = {**bench_home(run_dir, CONTEXTS, PINNED, 900), **desktop.session}
                result = measure(
                    [str(KUBEWARM), *args], env, ns.settle, ns.seconds, run_dir / "out.log"
                )
                rows.append((mode, result))
    print(f"kubewarm idle cost: {len(CONTEXTS)} contexts, {len(PINNED)} pinned (15-min tokens)")
    print(f"{'mode':<13} {'RSS MB':>7} {'peak MB':>8} {'CPU s':>7} {'CPU %':>6} "
          f"{'wakeups/min':>12} {'threads':>8} {'window s':>9}")  # fmt: skip
    failed = False
    for mode, r in rows:
        print(
            f"{mode:<13} {r['rss']:>7.1f} {r['peak']:>8.1f} {r['cpu_s']:>7.2f} {r['cpu_pct']:>6.2f}"
            f" {r['wakeups_per_min']:>12.0f} {r['threads']:>8d} {r['seconds']:>9.1f}"
        )
        failed |= r["rss"] > RSS_LIMIT_MB or r["cpu_pct"] > CPU_LIMIT_PERCENT
    print(f"targets: RSS <= {RSS_LIMIT_MB:.0f} MB, CPU <= {CPU_LIMIT_PERCENT:.0f}% of one core")
    if failed:
        print("TARGET MISSED")
    return 1 if failed and ns.check else 0


if __name__ == "__main__":
    sys.exit(main())
