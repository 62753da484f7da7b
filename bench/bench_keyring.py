"""Cache hits through the Secret Service, side by side with the interpreter floor (issue 3).

    .venv/bin/python bench/bench_keyring.py [--rounds 60] [--venv DIR] [--check]

Starts a real gnome-keyring-daemon on a private D-Bus session bus, installs kubewarm from this
checkout into a fresh venv (``pip install --no-deps``, as a user's install lays it out), fills
the OS keyring store once through the engine's full path (``credentials.refresh``, what the
tray runs, writing through ``keyring``), then alternates, round by round so machine noise hits
every row alike:

- ``python -I -S -c pass``: the floor any Python shim pays;
- ``kubewarm-exec`` as pip put it on PATH, hit from the keyring (lean D-Bus reader);
- the launcher ``kubewarm inject`` writes into kubeconfig (``#!/abs/python -IS``), same hit;
- the same hit from the file store, for reference;
- a naive shim: ``python -c 'import keyring; print(keyring.get_password(...))'``.

Prints median milliseconds and ratios to the floor, plus what a launcher hit imports (from
``python -X importtime``). ``--check`` exits 1 when a target is missed (kubewarm-exec ≤ 2.0×,
launcher ≤ 1.6×). Every process started is ended by PID; loops are bounded.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures_keyring import SecretService  # noqa: E402

TARGETS = {"kubewarm-exec": 2.0, "launcher": 1.6}
TIME_BUDGET = 300.0
_QUIET = (
    [
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    if sys.platform != "win32"
    else []
)


def spawn_seconds(argv: list[str], env: dict[str, str]) -> float:
    if sys.platform == "win32":  # os.posix_spawn: the Secret Service benchmark runs on Linux
        raise SystemExit("bench_keyring.py measures the Linux Secret Service")
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=_QUIET)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed (exit {os.waitstatus_to_exitcode(status)})")
    return elapsed


def output(argv: list[str], env: dict[str, str]) -> bytes:
    return subprocess.run(argv, env=env, capture_output=True, timeout=60, check=True).stdout


def make_venv(target: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run([*pip, str(ROOT)], check=True)
    return target


def seed(env: dict[str, str], plugin: list[str]) -> str:
    """Fill the store through the engine's full path (keyring); returns the cache key."""
    code = (
        "import os, sys\n"
        "from kubewarm.engine import credentials, settings\n"
        "values = settings.load()\n"
        "outcome = credentials.refresh(sys.argv[1:], dict(os.environ), values)\n"
        "assert outcome.ok, outcome.reason\n"
        "print(outcome.key)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *plugin], env=env, capture_output=True, text=True, timeout=120
    )
    if out.returncode != 0:
        raise SystemExit(f"seeding the store failed: {out.stderr[-500:]}")
    return out.stdout.strip().splitlines()[-1]


def imports_of(argv: list[str], env: dict[str, str]) -> list[tuple[int, str]]:
    """(cumulative µs, module) for each top-level import of a run, from -X importtime
    (``argv[0]`` is a ``#!python -IS`` script: run by its interpreter with -X importtime)."""
    with open(argv[0], encoding="utf-8") as fh:
        python = fh.readline()[2:].split()[0]
    result = subprocess.run(
        [python, "-X", "importtime", "-I", "-S", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2][1:]
            if not name.startswith(" "):  # top level only
                found.append((int(parts[1]), name.strip()))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--venv", type=Path, help="reuse this venv (kubewarm installed in it)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (tests/install-system-deps.sh)")

    work = Path(tempfile.mkdtemp(prefix="kubewarm-bench-keyring-"))
    service = SecretService(work / "secret-service")
    try:
        service.start()
        venv = args.venv or make_venv(work / "venv")
        python = str(venv / "bin" / "python")
        floor_python = os.path.realpath(python)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEWARM_", "DBUS_"))}
        base.update(HOME=str(work / "home"), DBUS_SESSION_BUS_ADDRESS=service.address)
        (work / "home").mkdir()
        keyring_env = {
            **base,
            "KUBEWARM_CACHE_DIR": str(work / "cache-keyring"),
            "KUBEWARM_CONFIG_DIR": str(work / "config"),
            "KUBEWARM_STORE": "auto",
        }
        file_env = {**keyring_env, "KUBEWARM_CACHE_DIR": str(work / "cache-file")}
        file_env["KUBEWARM_STORE"] = "file"
        log = work / "plugin-runs.log"
        plugin = [sys.executable, str(ROOT / "tests" / "fake_plugin.py"), "--ttl", "7200"]
        plugin += ["--log", str(log)]
        key = seed(keyring_env, plugin)
        seed(file_env, plugin)
        record = (work / "cache-keyring" / "store").read_text().splitlines()[0]
        if record != "keyring":
            raise SystemExit(f"auto did not choose the keyring: {record!r}")

        shim = str(venv / "bin" / "kubewarm-exec")
        launcher = (
            output(
                [
                    python,
                    "-c",
                    "import sys; from kubewarm.engine.kubeconfig.launcher import write_launcher;"
                    "print(write_launcher(sys.argv[1]))",
                    str(work / "launcher" / "kubewarm-exec"),
                ],
                keyring_env,
            )
            .decode()
            .strip()
        )
        naive = [
            sys.executable,
            "-c",
            "import sys, keyring; sys.stdout.write(keyring.get_password('kubewarm', sys.argv[1]))",
            key,
        ]
        expected = output([shim, *plugin], keyring_env)
        if (
            output([launcher, *plugin], keyring_env) != expected
            or b"ExecCredential" not in expected
        ):
            raise SystemExit("the launcher and kubewarm-exec disagree")
        runs_before = len(log.read_text().splitlines())

        rows = {
            "python -I -S -c pass (floor)": ([floor_python, "-I", "-S", "-c", "pass"], base),
            "kubewarm-exec on PATH, hit (Secret Service)": ([shim, *plugin], keyring_env),
            "injector's launcher, hit (Secret Service)": ([launcher, *plugin], keyring_env),
            "injector's launcher, hit (file store)": ([launcher, *plugin], file_env),
            "naive shim: keyring.get_password": (naive, keyring_env),
        }
        samples: dict[str, list[float]] = {name: [] for name in rows}
        deadline = time.monotonic() + TIME_BUDGET
        for _ in range(max(args.rounds, 1)):
            if time.monotonic() > deadline:
                break
            for name, (argv, env) in rows.items():
                samples[name].append(spawn_seconds(argv, env))
        if len(log.read_text().splitlines()) != runs_before:
            raise SystemExit("the plugin ran during the benchmark: these were not all hits")
        lean_imports = imports_of([launcher, *plugin], keyring_env)
    finally:
        service.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["python -I -S -c pass (floor)"]
    print(
        f"kubewarm keyring benchmark — {len(samples[next(iter(samples))])} interleaved rounds,"
        f" medians, {os.cpu_count()} cores, Python {sys.version.split()[0]},"
        " gnome-keyring-daemon on a private session bus\n"
    )
    print("| what | median | ratio |")
    print("|---|---:|---:|")
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.1f} ms | {value / floor:.2f}× floor |")
    ratios = {
        "kubewarm-exec": medians["kubewarm-exec on PATH, hit (Secret Service)"] / floor,
        "launcher": medians["injector's launcher, hit (Secret Service)"] / floor,
    }
    print()
    missed = []
    for name, ratio in ratios.items():
        ok = ratio <= TARGETS[name]
        missed += [] if ok else [name]
        print(
            f"- {name} hit through the Secret Service: {ratio:.2f}× floor"
            f" (target ≤ {TARGETS[name]}×)"
        )
    ours = [(micros, name) for micros, name in lean_imports if name.startswith(("kubewarm", "_"))]
    print(
        "- a launcher hit imports (cumulative, under -X importtime): "
        + ", ".join(f"{name} {micros / 1000:.1f} ms" for micros, name in ours)
    )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
