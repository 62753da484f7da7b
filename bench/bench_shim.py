"""Side-by-side timings of the shim (issue 2's speed targets). Prints a Markdown table.

    python bench/bench_shim.py [--rounds 30] [--venv DIR] [--keep]

Installs kubewarm from this checkout into a fresh venv (as ``pip install`` does for a user),
starts the TLS test API server on 127.0.0.1, then measures, interleaved round by round in a
shuffled order so that machine noise and position effects hit every row alike:
- ``python -I -S -c pass``: the interpreter floor every Python shim pays;
- ``kubewarm-exec`` as pip put it on PATH, warm hit (file store);
- the launcher ``kubewarm inject`` writes into kubeconfig, warm hit;
- the same hit through a pip console-script wrapper (what we avoid);
- ``kubectl get --raw /version`` with a plugin that only prints a JSON file (``cat``, and a
  ``python -I -S`` that only prints it: the least any Python shim costs), through the warm
  shim, and with ``aws eks get-token`` itself;
- 20 kubectl processes started together on a cold cache: plugin runs and failures.
Every loop is bounded in count and time; every process started is ended by PID.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

from api_server import AWS_ENV, AWS_GET_TOKEN_ARGS, launch, mint_test_token  # noqa: E402

TIME_BUDGET = 600.0  # seconds for all measurements together


def run(argv: list[str], env: dict, timeout: float = 60) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        argv,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {proc.stderr[-300:]!r}")
    return elapsed


def make_venv(target: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, str(ROOT)], check=True)  # with its dependencies, as a user gets it
    awscli = shutil.which("aws", path=str(Path(sys.executable).parent))
    if not awscli:
        subprocess.run([*pip, "awscli"], check=True)
    return target


def start_api_server(work: Path, env: dict) -> tuple[subprocess.Popen, str, str]:
    proc, url, cert, _ = launch(work, env, max_seconds=1200)
    return proc, url, base64.b64encode(cert.read_bytes()).decode()


def kubeconfig(path: Path, server: str, ca: str, command: str, args: list[str]) -> Path:
    import yaml

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "bench",
        "clusters": [
            {"name": "bench", "cluster": {"server": server, "certificate-authority-data": ca}}
        ],
        "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}],
        "users": [
            {
                "name": "bench",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": command,
                        "args": args,
                        "interactiveMode": "Never",
                        "env": [{"name": "KUBEWARM_USER", "value": "bench"}],
                    }
                },
            }
        ],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def console_script_wrapper(venv: Path) -> Path:
    """What pip writes for a ``[project.scripts]`` entry point."""
    path = venv / "bin" / "kubewarm-exec-console-script"
    path.write_text(
        f"#!{venv / 'bin' / 'python'}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
        "from kubewarm.engine.hotpath import main\nif __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )
    path.chmod(0o755)
    return path


def kubectl_binary() -> str:
    found = shutil.which("kubectl")
    if not found:
        raise SystemExit("kubectl is not on PATH")
    versioned = Path(os.path.realpath(found)).parent / "kubectl.1.33"
    return str(versioned if versioned.exists() else found)


def measure(rows: dict[str, tuple[list[str], dict]], rounds: int, deadline: float):
    samples: dict[str, list[float]] = {name: [] for name in rows}
    order = list(rows)
    shuffle = random.Random(20261123).shuffle  # a new order each round, the same each run
    for _ in range(rounds):
        if time.monotonic() > deadline:
            break
        shuffle(order)
        for name in order:
            argv, env = rows[name]
            samples[name].append(run(argv, env))
    return {name: statistics.median(values) for name, values in samples.items() if values}


def herd(kubectl: str, config: Path, env: dict, log: Path, count: int = 20) -> tuple[int, int]:
    procs = [
        subprocess.Popen(
            [kubectl, "--kubeconfig", str(config), "get", "--raw", "/version"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    failures = 0
    for proc in procs:
        try:
            failures += proc.wait(timeout=120) != 0
        except subprocess.TimeoutExpired:
            proc.kill()
            failures += 1
    return (len(log.read_text().splitlines()) if log.exists() else 0), failures


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--venv", type=Path, help="reuse this venv (kubewarm installed in it)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kubewarm-bench-"))
    secret = os.urandom(8).hex()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEWARM_", "AWS_"))}
    env.update(
        HOME=str(work / "home"),
        KUBEWARM_CACHE_DIR=str(work / "cache"),
        KUBEWARM_CONFIG_DIR=str(work / "config"),
        KUBEWARM_STORE="file",
        KUBEWARM_TEST_TOKEN_SECRET=secret,
    )
    (work / "home").mkdir()
    server = None
    try:
        venv = args.venv or make_venv(work / "venv")
        python = str(venv / "bin" / "python")
        shim = str(venv / "bin" / "kubewarm-exec")
        floor_python = os.path.realpath(python)
        plugin = [python, str(TESTS / "fake_plugin.py"), "--ttl", "3600"]
        server, url, ca = start_api_server(work, env)
        kubectl = kubectl_binary()

        launcher = None
        try:
            out = subprocess.run(
                [
                    python,
                    "-c",
                    "from kubewarm.engine.kubeconfig.launcher import write_launcher;"
                    f"print(write_launcher({str(work / 'launcher' / 'kubewarm-exec')!r}))",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            launcher = out.stdout.strip().splitlines()[-1]
        except (subprocess.CalledProcessError, IndexError) as exc:
            why = getattr(exc, "stderr", "") or exc
            print(f"(no launcher row: write_launcher failed: {why})", file=sys.stderr)

        static = work / "credential.json"
        static.write_text(
            json.dumps(
                {
                    "kind": "ExecCredential",
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "spec": {},
                    "status": {"token": mint_test_token(secret, int(time.time()) + 7200, "static")},
                }
            )
        )
        aws = [
            str(Path(sys.executable).parent / "aws") if not args.venv else "aws",
            *AWS_GET_TOKEN_ARGS,
        ]
        if not Path(aws[0]).exists():
            aws[0] = shutil.which("aws") or str(venv / "bin" / "aws")
        aws_env = {**env, **AWS_ENV}
        pycat = work / "python-cat"  # the least any Python shim can do: print a file
        pycat.write_text(
            f"#!{floor_python} -IS\nimport os\nos.write(1, open({str(static)!r}, 'rb').read())\n"
        )
        pycat.chmod(0o755)
        configs = {
            "cat": kubeconfig(work / "kc-cat", url, ca, "/bin/cat", [str(static)]),
            "pycat": kubeconfig(work / "kc-pycat", url, ca, str(pycat), []),
            "shim": kubeconfig(work / "kc-shim", url, ca, launcher or shim, plugin),
            "aws": kubeconfig(work / "kc-aws", url, ca, aws[0], aws[1:]),
        }
        # Warm the cache for the direct rows and for kubectl (exec info differs: two keys).
        run([shim, *plugin], env)
        run([kubectl, "--kubeconfig", str(configs["shim"]), "get", "--raw", "/version"], env)

        rows: dict[str, tuple[list[str], dict]] = {
            "python -I -S -c pass (floor)": ([floor_python, "-I", "-S", "-c", "pass"], env),
            "kubewarm-exec on PATH, hit (file store)": ([shim, *plugin], env),
        }
        if launcher:
            rows["injector's launcher, hit (file store)"] = ([launcher, *plugin], env)
        rows["pip console-script wrapper, hit"] = (
            [str(console_script_wrapper(venv)), *plugin],
            env,
        )
        kube = [kubectl, "get", "--raw", "/version", "--kubeconfig"]
        rows["kubectl, plugin = cat a JSON file"] = ([*kube, str(configs["cat"])], env)
        rows["kubectl, plugin = python -I -S printing the file"] = (
            [*kube, str(configs["pycat"])],
            env,
        )
        rows["kubectl through kubewarm, warm"] = ([*kube, str(configs["shim"])], env)
        rows["kubectl, aws eks get-token directly"] = ([*kube, str(configs["aws"])], aws_env)

        deadline = time.monotonic() + TIME_BUDGET
        medians = measure(rows, args.rounds, deadline)

        herd_log = work / "herd-plugin.log"
        herd_config = kubeconfig(
            work / "kc-herd",
            url,
            ca,
            launcher or shim,
            [*plugin, "--sleep", "0.5", "--log", str(herd_log)],
        )
        runs, failures = herd(kubectl, herd_config, env, herd_log)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    floor = medians["python -I -S -c pass (floor)"]
    print(
        f"kubewarm shim benchmark — {args.rounds} interleaved rounds, medians, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}\n"
    )
    print("| what | median | ratio |")
    print("|---|---:|---:|")
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.1f} ms | {value / floor:.2f}× floor |")
    cat = medians["kubectl, plugin = cat a JSON file"]
    warm = medians["kubectl through kubewarm, warm"]
    pyfloor = medians["kubectl, plugin = python -I -S printing the file"]
    aws_t = medians["kubectl, aws eks get-token directly"]
    hit = medians["kubewarm-exec on PATH, hit (file store)"]
    print()
    print(f"- kubewarm-exec hit / floor: {hit / floor:.2f}× (target ≤ 1.5×)")
    if launcher:
        lhit = medians["injector's launcher, hit (file store)"]
        print(f"- injector's launcher hit / floor: {lhit / floor:.2f}× (target ≤ 1.3×)")
    print(
        f"- kubectl warm through kubewarm / kubectl with `cat`: {warm / cat:.2f}× (target ≤ 1.15×;"
        f" a Python that only prints the file: {pyfloor / cat:.2f}×)"
    )
    print(
        f"- kubectl with aws eks get-token / kubectl through kubewarm: {aws_t / warm:.1f}× "
        "faster (target ≥ 5×)"
    )
    print(
        f"- 20 kubectl processes on a cold cache: {runs} plugin run(s), {failures} failure(s) "
        "(target: 1 run, 0 failures)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
