"""Warm cache hit through the kubeconfig launcher, side by side with the interpreter floor.

    .venv/bin/python bench/bench_launcher.py [--runs 200]

Writes a launcher (``kubewarm.engine.kubeconfig.launcher.write_launcher``) into a temporary
directory, fills the file store once through it with a tiny plugin, then alternates, run after run:
``python -I -S -c pass`` (the floor), the launcher on a cache hit, the pip-installed
``kubewarm-exec`` script and ``python -c pass``. Prints median milliseconds and ratios to the
floor; exits 1 when the launcher's median exceeds ``--limit`` x the floor (default 1.3).

``KUBERNETES_EXEC_INFO`` is not set: with it, the shim treats a second request from the same
parent process as a rejected token (client-go's retry after a 401), and every run here has the
same parent. ``bench/bench_shim.py`` measures the whole path through real kubectl.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PLUGIN_CODE = (
    "import datetime,json;"
    "t=datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(hours=1);"
    "print(json.dumps({'apiVersion':'client.authentication.k8s.io/v1beta1',"
    "'kind':'ExecCredential','status':{'token':'bench-token',"
    "'expirationTimestamp':t.strftime('%Y-%m-%dT%H:%M:%SZ')}}))"
)


def _spawn_ms(argv: list[str], env: dict[str, str]) -> float:
    if sys.platform == "win32":  # os.posix_spawn; the launcher is a #! script, POSIX only
        raise SystemExit("bench_launcher.py measures a POSIX #! launcher")
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=_QUIET)
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter() - started) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed (exit {os.waitstatus_to_exitcode(status)})")
    return elapsed


_QUIET = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)] if os.name == "posix" else []


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--limit", type=float, default=1.3)
    ns = parser.parse_args()

    from kubewarm.engine.kubeconfig.launcher import write_launcher

    work = tempfile.mkdtemp(prefix="kubewarm-bench-")
    try:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": work,
            "KUBEWARM_STORE": "file",
            "KUBEWARM_CACHE_DIR": os.path.join(work, "cache"),
            "KUBEWARM_CONFIG_DIR": os.path.join(work, "config"),
            "KUBEWARM_USER": "bench",
        }
        launcher = write_launcher(os.path.join(work, "bin", "kubewarm-exec"))
        plugin = [sys.executable, "-c", PLUGIN_CODE]
        subprocess.run([launcher, *plugin], env=env, check=True, capture_output=True)
        candidates = {
            "python -I -S -c pass (floor)": [sys.executable, "-I", "-S", "-c", "pass"],
            "launcher, cache hit": [launcher, *plugin],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        script = os.path.join(os.path.dirname(sys.executable), "kubewarm-exec")
        if os.path.exists(script):
            candidates["pip's kubewarm-exec, cache hit"] = [script, *plugin]
        times: dict[str, list[float]] = {name: [] for name in candidates}
        for argv in candidates.values():  # warm the page cache
            _spawn_ms(argv, env)
        for _ in range(ns.runs):
            for name, argv in candidates.items():
                times[name].append(_spawn_ms(argv, env))
        floor = statistics.median(times["python -I -S -c pass (floor)"])
        print(f"{ns.runs} runs each, interleaved; medians:")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"  {name:34s} {median:7.2f} ms  {median / floor:5.2f}x")
        ratio = statistics.median(times["launcher, cache hit"]) / floor
        print(f"launcher / floor = {ratio:.2f} (limit {ns.limit})")
        return 0 if ratio <= ns.limit else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
