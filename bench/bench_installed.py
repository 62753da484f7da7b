"""The installed Debian package, side by side with the interpreter floor.

    sudo apt-get install ./dist/kubewarm_*.deb && python3 bench/bench_installed.py [--rounds 60]

In a fresh HOME it writes a kubeconfig whose exec plugin is a small sh script, runs the
installed ``kubewarm inject`` (``/usr/bin/kubewarm``), fills the cache, then times, interleaved
in a shuffled order each round (medians of wall time and of CPU time, which other processes on
a busy machine disturb less):

- ``/usr/bin/python3 -I -S -c pass``: the floor;
- a warm hit through what ``inject`` wrote (sh checks the interpreter, then python3 -IS);
- the same file run by python3 -IS directly (what a ``#!python -IS`` shebang would cost): the
  difference is what the uninstall guard costs on every hit;
- a warm hit through the app's stub, ``/usr/bin/kubewarm exec …``;
- after an "uninstall" (a copy of the launcher whose interpreter is gone): the pass-through to
  the plugin, next to the plugin run directly.
Also prints the package's size when ``--deb`` names it. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLUGIN = """#!/bin/sh
exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",\
"status":{"token":"bench","expirationTimestamp":"%s"}}\\n' "$exp"
"""
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "https://127.0.0.1:9"}}
contexts:
- name: bench
  context: {{cluster: c, user: bench}}
current-context: bench
users:
- name: bench
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {plugin}
"""


def spawn(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one run, output discarded."""
    assert sys.platform != "win32", "the .deb benchmark runs on Linux"
    quiet = [
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=quiet)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {argv}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--app", default="/usr/bin/kubewarm")
    parser.add_argument("--deb", help="the .deb, to print its size")
    ns = parser.parse_args(argv)
    if not os.access(ns.app, os.X_OK):
        print(f"{ns.app} is not installed: apt-get install ./dist/kubewarm_*.deb", file=sys.stderr)
        return 1
    home = Path(tempfile.mkdtemp(prefix="kubewarm-bench-"))
    try:
        plugin = home / "plugin.sh"
        plugin.write_text(PLUGIN)
        plugin.chmod(0o755)
        (home / ".kube").mkdir()
        (home / ".kube" / "config").write_text(KUBECONFIG.format(plugin=plugin))
        env = {
            "HOME": str(home),
            "PATH": "/usr/bin:/bin",
            "KUBEWARM_STORE": "file",
            "KUBEWARM_USER": "bench",
        }
        subprocess.run([ns.app, "inject"], env=env, check=True, capture_output=True, timeout=120)
        launcher = home / ".local" / "share" / "kubewarm" / "bin" / "kubewarm-exec"
        text = launcher.read_text()
        python = next(
            line.split("exec ", 1)[1].split(" ", 1)[0].strip("'")
            for line in text.splitlines()
            if line.startswith("[ -x ")
        )
        orphan = home / "orphan-launcher"
        orphan.write_text(text.replace(python, str(home / "gone" / "python3")))
        orphan.chmod(0o755)
        spawn([str(launcher), str(plugin)], env)  # fill the cache
        cases = {
            "python3 -I -S -c pass (floor)": ["/usr/bin/python3", "-I", "-S", "-c", "pass"],
            "inject's launcher, hit (sh + python3 -IS)": [str(launcher), str(plugin)],
            "same file, python3 -IS directly (no sh)": [python, "-IS", str(launcher), str(plugin)],
            "app stub, hit (/usr/bin/kubewarm exec)": [ns.app, "exec", str(plugin)],
            "plugin run directly": [str(plugin)],
            "launcher after uninstall (pass-through)": [str(orphan), str(plugin)],
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for case in cases.values():  # warm up
            spawn(case, env)
        for _ in range(ns.rounds):
            order = list(cases)
            random.shuffle(order)
            for name in order:
                runs[name].append(spawn(cases[name], env))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    floor = [statistics.median(r[i] for r in runs["python3 -I -S -c pass (floor)"]) for i in (0, 1)]
    print(f"{'what':46} {'wall':>9} {'ratio':>7} {'CPU':>9} {'ratio':>7}")
    for name, r in runs.items():
        wall = statistics.median(x[0] for x in r)
        cpu = statistics.median(x[1] for x in r)
        print(
            f"{name:46} {wall * 1e3:7.1f}ms {wall / floor[0]:6.2f}x"
            f" {cpu * 1e3:7.1f}ms {cpu / floor[1]:6.2f}x"
        )

    def med(name: str, i: int) -> float:
        return statistics.median(x[i] for x in runs[name])

    guard = med("inject's launcher, hit (sh + python3 -IS)", 0) - med(
        "same file, python3 -IS directly (no sh)", 0
    )
    through = med("launcher after uninstall (pass-through)", 0) - med("plugin run directly", 0)
    print(f"- installed hit / floor: {med(list(runs)[1], 0) / floor[0]:.2f}x (goal <= 1.3x)")
    print(f"- the uninstall guard (sh) on every hit: {guard * 1e3:+.1f} ms")
    print(f"- pass-through after uninstall, over the plugin alone: {through * 1e3:+.1f} ms")
    if ns.deb:
        size = os.path.getsize(ns.deb)
        print(f"- package: {os.path.basename(ns.deb)} {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
