"""Smoke test of an INSTALLED kubewarm, as a user runs it: the GitHub workflow runs it on the
app installed from the .dmg and the .msi (and the tests run it on a venv's ``kubewarm``).

    python packaging/smoke_installed.py --app PATH [--work DIR]

With a fresh data, cache and config folder it runs ``APP --version``, then ``APP inject`` on a
kubeconfig whose user runs the test plugin (``tests/fake_plugin.py``) against the TLS test API
server (``tests/api_server.py``, started here on 127.0.0.1), then real ``kubectl`` twice through
what inject wrote: the first call runs the plugin (a miss), the second must not (a hit). Any
missing tool (kubectl, openssl) or failed step exits 1 with one line saying which: this is a
check, never a skip. Credentials go to the file store (``KUBEWARM_STORE=file``): a runner's
keychain may prompt, and the keyring stores have their own tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


class SmokeError(Exception):
    """One step failed; the message says which and why."""


def _run(argv: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    print("+ " + " ".join(argv), flush=True)
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise SmokeError(
            f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-600:]}"
            f" {result.stdout.strip()[-300:]}"
        )


def kubeconfig_text(server: str, ca_b64: str, plugin: list[str]) -> str:
    """One cluster, one context, one user whose exec plugin is ``plugin`` (block YAML, every
    string double-quoted the JSON way, which YAML reads the same)."""
    q = json.dumps
    args = "".join(f"      - {q(a)}\n" for a in plugin[1:])
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: smoke\n  cluster:\n    server: {q(server)}\n"
        f"    certificate-authority-data: {q(ca_b64)}\n"
        "contexts:\n- name: smoke\n  context:\n    cluster: smoke\n    user: smoke\n"
        "current-context: smoke\n"
        "users:\n- name: smoke\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        f"      command: {q(plugin[0])}\n      args:\n{args}"
        "      interactiveMode: Never\n"
    )


def smoke(app: str, work: Path) -> str:
    """Run every step; returns the exec command inject wrote. Raises :class:`SmokeError`."""
    import base64
    import secrets

    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise SmokeError("kubectl is not on PATH")
    if not shutil.which("openssl"):
        raise SmokeError("openssl is not on PATH (the test API server needs a certificate)")
    env = {
        **os.environ,
        "KUBEWARM_DATA_DIR": str(work / "data"),
        "KUBEWARM_CACHE_DIR": str(work / "cache"),
        "KUBEWARM_CONFIG_DIR": str(work / "config"),
        "KUBEWARM_STORE": "file",
        "KUBEWARM_TEST_TOKEN_SECRET": secrets.token_hex(16),
    }
    for name in ("KUBECONFIG", "KUBEWARM_USER", "KUBERNETES_EXEC_INFO", "KUBEWARM_DEBUG"):
        env.pop(name, None)
    version = _run([app, "--version"], env)
    _check(version, "kubewarm --version")
    if version.stdout.strip() and not version.stdout.startswith("kubewarm "):
        raise SmokeError(f"kubewarm --version printed {version.stdout.strip()!r}")

    import api_server  # tests/api_server.py (on sys.path above)

    server_dir = work / "apiserver"
    server_dir.mkdir(parents=True, exist_ok=True)
    proc, url, ca, _log = api_server.launch(server_dir, env=env, max_seconds=600)
    try:
        runs = work / "plugin-runs.log"
        plugin = [sys.executable, str(ROOT / "tests" / "fake_plugin.py"), "--ttl", "3600"]
        config = work / "kubeconfig"
        ca_b64 = base64.b64encode(ca.read_bytes()).decode()
        config.write_text(kubeconfig_text(url, ca_b64, [*plugin, "--log", str(runs)]))
        _check(_run([app, "inject", "--kubeconfig", str(config)], env), "kubewarm inject")
        wrapped = _load_yaml(config.read_text())
        block = wrapped["users"][0]["user"]["exec"]
        command, args = block["command"], block.get("args") or []
        name = Path(command.replace("\\", "/")).name.lower()
        pip_windows = name == "kubewarm.exe" and args[:1] == ["exec"]  # pip's console script
        if name not in ("kubewarm-exec", "kubewarm-exec.exe") and not pip_windows:
            raise SmokeError(f"inject wrote exec.command {command!r}, not a kubewarm-exec")
        for n in (1, 2):
            get = _run([kubectl, "--kubeconfig", str(config), "get", "--raw", "/version"], env)
            _check(get, f"kubectl through the shim (call {n})")
            ran = len(runs.read_text().splitlines()) if runs.exists() else 0
            if ran != 1:
                state = "a miss: the plugin must run once" if n == 1 else "a hit: no plugin run"
                raise SmokeError(f"kubectl call {n} should be {state}; the plugin ran {ran}x")
        return command
    finally:
        proc.kill()
        proc.wait(timeout=30)


def _load_yaml(text: str) -> dict:
    """The kubeconfig as inject left it (PyYAML: the venv running this script has kubewarm's
    test dependencies)."""
    import yaml

    return yaml.safe_load(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--app", required=True, help="the installed kubewarm program")
    parser.add_argument("--work", type=Path, help="a scratch folder (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="kubewarm-smoke-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        command = smoke(args.app, work.resolve())
    except (SmokeError, OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"smoke_installed.py: {exc}", file=sys.stderr)
        return 1
    print(f"smoke test passed: --version, inject ({command}), kubectl miss then hit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
