"""``kubewarm doctor``: each link of the chain, broken on purpose, is named with its fix; a
healthy setup exits 0. Real files, the real launcher, a real lock holder, no mocks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubewarm.engine.diagnostics.doctor import launcher_interpreter

from tests import kubeconfig_helpers
from tests.fixtures_core import EXEC_API, fake_plugin_argv, kill_pid
from tests.kubeconfig_helpers import run_cli
from tests.shim_helpers import wait_for

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir

HINT = "Install it: https://example.invalid/kubelogin"


def _config(path: Path, missing: bool = False) -> Path:
    plugin = fake_plugin_argv()
    users = [
        {
            "name": "dev",
            "user": {"exec": {"apiVersion": EXEC_API, "command": plugin[0], "args": plugin[1:]}},
        }
    ]
    contexts = [{"name": "dev", "context": {"cluster": "c", "user": "dev"}}]
    if missing:
        users.append(
            {
                "name": "aks",
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API,
                        "command": "kubewarm-test-kubelogin",
                        "args": ["get-token"],
                        "installHint": HINT,
                    }
                },
            }
        )
        contexts.append({"name": "aks", "context": {"cluster": "c", "user": "aks"}})
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "users": users, "contexts": contexts,
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "current-context": "dev"}))  # fmt: skip
    path.chmod(0o600)
    return path


def _problems(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]


def test_a_healthy_setup_exits_0(kw_data, tmp_path):
    config = _config(tmp_path / "kubeconfig")
    assert run_cli("inject", "--kubeconfig", str(config), env=kw_data).returncode == 0
    result = run_cli("doctor", "--kubeconfig", str(config), env=kw_data)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("All is well (")
    doc = json.loads(
        run_cli("doctor", "--kubeconfig", str(config), "-o", "json", env=kw_data).stdout
    )
    assert doc["ok"] is True
    checks = {c["check"] for c in doc["checks"]}
    assert checks >= {"kubeconfig", "wrapping", "plugin", "launcher", "store", "tray", "login item"}
    assert {c["status"] for c in doc["checks"] if c["check"] == "tray host"} == {"unknown"}


@pytest.mark.skipif(sys.platform == "win32", reason="other platform: POSIX file modes")
def test_each_broken_link_is_one_line_with_its_fix(kw_data, tmp_path):
    config = _config(tmp_path / "kubeconfig", missing=True)
    config.chmod(0o666)
    result = run_cli("doctor", "--kubeconfig", str(config), env=kw_data)
    assert result.returncode == 1
    problems = _problems(result)
    shown = f"{config}"
    assert (
        f"PROBLEM  kubeconfig: {shown} is writable by others (mode 666) -> fix: chmod go-w"
        in (problems[0])
    )
    assert any(
        "user 'dev'" in p and "not wrapped" in p
        and f"fix: kubewarm inject --kubeconfig {config} --user dev" in p
        for p in problems
    ), problems  # fmt: skip
    assert any("'kubewarm-test-kubelogin' is not installed" in p and f"fix: {HINT}" in p
               for p in problems), problems  # fmt: skip
    assert result.stdout.splitlines()[-1].startswith(f"{len(problems)} problems found (")
    assert len(result.stdout.splitlines()) == len(problems) + 1  # one line each, then the count


def test_launcher_whose_python_is_gone(kw_data, tmp_path):
    config = _config(tmp_path / "kubeconfig")
    assert run_cli("inject", "--kubeconfig", str(config), env=kw_data).returncode == 0
    launcher = Path(kw_data["KUBEWARM_DATA_DIR"]) / "bin" / "kubewarm-exec"
    assert (
        launcher_interpreter(str(launcher)) == sys.executable
        or Path(launcher_interpreter(str(launcher))).exists()
    )
    text = launcher.read_text()
    rest = text.split("\n", 1)[1]
    launcher.write_text("#!/nonexistent/python3.99 -IS\n" + rest)
    result = run_cli("doctor", "--kubeconfig", str(config), env=kw_data)
    assert result.returncode == 1
    assert any(
        f"the launcher {launcher} runs /nonexistent/python3.99, which is gone" in p
        and "fix: kubewarm inject" in p
        for p in _problems(result)
    ), result.stdout
    # the sh form, for an interpreter path a shebang cannot hold
    launcher.write_text(
        "#!/bin/sh\n''''exec '/no where/python' -IS -- \"$0\" \"$@\" # '''\n" + rest
    )
    assert launcher_interpreter(str(launcher)) == "/no where/python"


def test_pins_need_a_running_tray(kw_data, tmp_path):
    config = _config(tmp_path / "kubeconfig")
    env = {**kw_data, "KUBECONFIG": str(config)}
    assert run_cli("inject", env=env).returncode == 0
    assert run_cli("pin", "dev", env=env).returncode == 0
    result = run_cli("doctor", env=env)
    assert result.returncode == 1
    assert any("PROBLEM  tray: 1 pinned context(s), but the tray is not running" in p
               for p in _problems(result)), result.stdout  # fmt: skip
    # a real holder of the single-instance lock (what the tray takes at start)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom kubewarm.engine.system.single_instance import InstanceLock\n"
         "InstanceLock().acquire()\nprint('held', flush=True)\nsys.stdin.read()"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        again = run_cli("doctor", "-v", "-o", "json", env=env)
        tray = next(c for c in json.loads(again.stdout)["checks"] if c["check"] == "tray")
        assert tray["status"] == "ok" and f"pid {holder.pid}" in tray["message"], tray
    finally:
        kill_pid(holder.pid)
        wait_for(lambda: holder.poll() is not None, timeout=10)


def test_an_unreachable_keyring_is_a_problem(kw_data, tmp_path):
    config = _config(tmp_path / "kubeconfig")
    env = {**kw_data, "KUBEWARM_STORE": "keyring", "DBUS_SESSION_BUS_ADDRESS":
           f"unix:path={tmp_path / 'no-bus'}"}  # fmt: skip
    result = run_cli("doctor", "--kubeconfig", str(config), "-o", "json", env=env)
    assert result.returncode == 1
    store = next(c for c in json.loads(result.stdout)["checks"] if c["check"] == "store")
    assert store["status"] == "problem" and "kubewarm store file" in store["fix"], store
