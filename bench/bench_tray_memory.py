"""Does the tray's memory grow with use? (issue 12, item 9: 76 MB -> 89 MB in 15 minutes.)

    .venv/bin/python bench/bench_tray_memory.py [--minutes 3] [--every 3] [--sample 15] [--check]

Starts a real X session (Xvfb, a D-Bus session bus, dunst, trayer: the tests' ``desktop``
fixture) and a private HOME with five exec-plugin contexts, wrapped, three pinned with short-lived
tokens (``--ttl``, default 120 s) so that the warmer refreshes them all the time. Then, for
``--minutes``, every ``--every`` seconds it uses the menu as a person would (xdotool clicks and
keys): opens and closes it, opens a context's submenu, clears all cached credentials (the pinned
ones are fetched again, each change rebuilds the menu and redraws the icon), switches the current
context back and forth. Every ``--sample`` seconds it prints the tray's resident memory.

The last line compares the RSS after the first minute (GTK's caches filled) with the end:
``--check`` exits 1 when it grew by more than 5 MB (the issue's goal: flat within ±5 MB over an
hour). Every process started is ended by PID.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures_core import kill_pid  # noqa: E402
from tests.fixtures_desktop import Desktop, TrayApp, running_desktop  # noqa: E402
from tests.tray_helpers import bench_home  # noqa: E402

GROWTH_LIMIT_MB = 5.0
CONTEXTS = ("dev", "eu", "prod", "staging", "us")  # the menu lists them in this order
PINNED = ("prod", "staging", "dev")
KUBEWARM = Path(sys.executable).parent / "kubewarm"
# enabled menu items: the five contexts, Switch context, Clear all, …
SWITCH, CLEAR = len(CONTEXTS), len(CONTEXTS) + 1


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        line = next(line for line in fh if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024.0


def use_once(app: TrayApp, step: int) -> str:
    """One thing a user does with the menu; returns its name."""
    kind = step % 4
    if kind == 0:
        app.click_icon()
        time.sleep(0.5)
        app.desktop.xdotool("key", "Escape")
        return "open+close"
    if kind == 1:
        app.choose(CLEAR)
        return "clear all"
    if kind == 2:
        app.choose(SWITCH, sub_index=(step // 4) % 2)
        return "switch context"
    app.click_icon()
    time.sleep(0.3)
    app.desktop.xdotool("key", "--delay", "80", "Down", "Right")
    time.sleep(0.3)
    app.desktop.xdotool("key", "Escape", "Escape")
    return "submenu"


def run(desktop: Desktop, env: dict[str, str], ns: argparse.Namespace, log: Path) -> list:
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(KUBEWARM)], env=env, stdout=out, stderr=subprocess.STDOUT)
    app = TrayApp(proc, desktop, log)
    samples: list[tuple[float, float, int]] = []
    try:
        time.sleep(5)  # icon shown, pinned contexts warmed
        if proc.poll() is not None:
            raise RuntimeError(f"the tray exited: {log.read_text()}")
        start = time.monotonic()
        end = start + ns.minutes * 60
        next_sample, step = start, 0
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                samples.append((now - start, rss_mb(proc.pid), step))
                print(f"{now - start:7.0f} s  RSS {samples[-1][1]:6.1f} MB  ({step} actions)")
                sys.stdout.flush()
                next_sample += ns.sample
            use_once(app, step)
            step += 1
            time.sleep(max(0.0, ns.every - 1.0))
            if proc.poll() is not None:
                raise RuntimeError(f"the tray exited: {log.read_text()}")
        samples.append((time.monotonic() - start, rss_mb(proc.pid), step))
        print(f"{samples[-1][0]:7.0f} s  RSS {samples[-1][1]:6.1f} MB  ({step} actions)")
    finally:
        kill_pid(proc.pid)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long (default 3)")
    parser.add_argument("--every", type=float, default=3.0, help="s between actions (default 3)")
    parser.add_argument("--sample", type=float, default=15.0, help="s between RSS samples")
    parser.add_argument("--ttl", type=float, default=120.0, help="token lifetime (default 120)")
    parser.add_argument("--check", action="store_true", help="exit 1 when RSS grew > 5 MB")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubewarm-bench-tray-memory-") as tmp:
        work = Path(tmp)
        (work / "desktop").mkdir()
        with running_desktop(work / "desktop") as desktop:
            env = {**bench_home(work, CONTEXTS, PINNED, ns.ttl), **desktop.session}
            samples = run(desktop, env, ns, work / "tray.log")
            runs = len((work / "plugin-runs.log").read_text().splitlines())
    first, last = samples[0][1], samples[-1][1]
    settled = next((s[1] for s in samples if s[0] >= 60), first)
    growth = last - settled
    print(
        f"tray RSS: {first:.1f} MB at start, {settled:.1f} MB after 1 min, {last:.1f} MB after"
        f" {samples[-1][0] / 60:.1f} min and {samples[-1][2]} menu actions ({runs} plugin runs):"
        f" {growth:+.1f} MB since the first minute (goal: within ±{GROWTH_LIMIT_MB:.0f} MB)"
    )
    return 1 if ns.check and abs(growth) > GROWTH_LIMIT_MB else 0


if __name__ == "__main__":
    sys.exit(main())
