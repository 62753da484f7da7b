"""The Debian package, built and installed as a user would (issue 9, item 3).

Builds with ``python3 packaging/build.py deb --template <shared template>``, installs it with
``apt-get install ./dist/kubewarm_*.deb``, then, as an unprivileged user with a fresh HOME:
``kubewarm --version``, ``kubewarm inject``, real kubectl through the written command against
the test API server (a miss, then hits), a stale hit refreshed in the background (by the
system python3, never the app's stub), ``kubewarm tray --no-icon`` keeping a pinned context
warm; the tray from ``/usr/bin/kubewarm`` under Xvfb with trayer; finally ``apt-get remove``,
after which kubectl still works through the launcher (pass-through, one stderr line).

Needs root (or passwordless sudo) for apt-get and useradd; about three minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_core import FAKE_PLUGIN, kill_pid, kubectl_path, require, write_kubeconfig
from tests.shim_helpers import wait_for

pytestmark = [pytest.mark.real, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
USER = "kubewarm-deb-test"
API_SERVER = FAKE_PLUGIN.parent / "api_server.py"  # the plugin mints its tokens with it


def _template() -> Path:
    for candidate in (ROOT.parent / "shared", Path("/work/shared")):
        path = candidate / "briefcase" / "linux-system-template"
        if path.is_dir():
            return path
    return ROOT.parent / "shared" / "briefcase" / "linux-system-template"


def _root_prefix() -> list[str]:
    if sys.platform == "win32" or os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    ok = sudo and subprocess.run([sudo, "-n", "true"], capture_output=True).returncode == 0
    require(bool(ok), "root or passwordless sudo (apt-get install, useradd)")
    return [str(sudo), "-n"]


def _root(*argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(
        [*_root_prefix(), *argv], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert result.returncode == 0, f"{argv}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    require(sys.platform.startswith("linux") and shutil.which("dpkg") is not None, "Debian")
    template = _template()
    require(template.is_dir(), f"the offline Briefcase template at {template}")
    _root_prefix()
    out = tmp_path_factory.mktemp("dist")
    work = tmp_path_factory.mktemp("build")
    result = subprocess.run(
        [
            "/usr/bin/python3", str(ROOT / "packaging" / "build.py"), "deb",
            "--template", str(template), "--out", str(out), "--workdir", str(work),
        ],
        capture_output=True, text=True, timeout=1500, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    built = sorted(out.glob("kubewarm_*.deb"))
    assert len(built) == 1, built
    return built[0]


@pytest.fixture(scope="module")
def installed(deb):
    _root("apt-get", "install", "-y", "-q", str(deb))
    try:
        yield Path("/usr/bin/kubewarm")
    finally:
        subprocess.run([*_root_prefix(), "apt-get", "remove", "-y", "-q", "kubewarm"],
                       capture_output=True, timeout=600, check=False)  # fmt: skip


@pytest.fixture
def user(installed, tmp_path, api_server):
    """An unprivileged user with a fresh HOME, kubectl and the test plugin readable to it."""
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        _root("useradd", "--create-home", "--shell", "/bin/sh", USER)
    home = Path(f"/tmp/{USER}-home")
    _root("rm", "-rf", str(home))
    _root("install", "-d", "-o", USER, "-g", USER, "-m", "0755", str(home))
    tools = home / "tools"
    _root("install", "-d", "-o", USER, "-g", USER, "-m", "0755", str(tools))
    _root(
        "cp",
        str(kubectl_path(None).parent / "kubectl"),
        str(FAKE_PLUGIN),
        str(API_SERVER),
        str(tools),
    )
    kubeconfig = tmp_path / "config"
    argv = ["/usr/bin/python3", str(tools / "fake_plugin.py"), "--mode", "token"]
    log = home / "plugin-runs.log"
    write_kubeconfig(
        kubeconfig,
        api_server,
        {
            "prod": {"command": argv[0], "args": [*argv[1:], "--ttl", "3600", "--log", str(log)]},
            "warm": {"command": argv[0], "args": [*argv[1:], "--ttl", "20", "--log", f"{log}.w"]},
        },
    )
    _root("install", "-d", "-o", USER, "-g", USER, "-m", "0700", str(home / ".kube"))
    _root(
        "install", "-o", USER, "-g", USER, "-m", "0600", str(kubeconfig), str(home / ".kube/config")
    )
    secret = os.environ.get("KUBEWARM_TEST_TOKEN_SECRET", "")  # the API server's, for the plugin
    env = [f"HOME={home}", "PATH=/usr/bin:/bin", "KUBEWARM_STORE=file", "LANG=C.UTF-8",
           f"KUBEWARM_TEST_TOKEN_SECRET={secret}"]  # fmt: skip

    def run(*argv: str, timeout: float = 120, extra: tuple[str, ...] = ()):
        return subprocess.run(
            [*_root_prefix(), "runuser", "-u", USER, "--", "env", "-i", *env, *extra, *argv],
            capture_output=True, text=True, timeout=timeout, check=False, cwd="/",
        )  # fmt: skip

    yield {"run": run, "home": home, "log": log, "kubectl": str(tools / "kubectl"), "env": env}
    _root("rm", "-rf", str(home))


def _runs(log: Path) -> int:
    result = subprocess.run([*_root_prefix(), "cat", str(log)], capture_output=True, text=True)
    return len(result.stdout.splitlines()) if result.returncode == 0 else 0


def test_installed_package_end_to_end(user, desktop, tmp_path):
    run, home = user["run"], user["home"]
    version = run("kubewarm", "--version")
    assert version.returncode == 0 and version.stdout.startswith("kubewarm "), version.stderr
    inject = run("kubewarm", "inject")
    assert inject.returncode == 0, inject.stderr
    launcher = home / ".local/share/kubewarm/bin/kubewarm-exec"
    text = run("cat", str(launcher)).stdout
    assert "exec '/usr/bin/python3." in text and "/usr/bin/kubewarm" not in text, text[:400]
    kubectl = [user["kubectl"], "--context", "prod", "get", "--raw", "/version"]
    for _ in range(3):  # a miss, then hits
        result = run(*kubectl)
        assert result.returncode == 0 and "gitVersion" in result.stdout, result.stderr
    assert _runs(user["log"]) == 1
    # a stale hit: served at once, refreshed in the background by a helper of the package
    stale = run(*kubectl, extra=("KUBEWARM_REFRESH_WINDOW=0.9999",))
    assert stale.returncode == 0, stale.stderr
    assert wait_for(lambda: _runs(user["log"]) == 2, 30), "no background refresh"
    # the headless warmer keeps a pinned 20-second credential warm without kubectl
    assert run(user["kubectl"], "--context", "warm", "get", "--raw", "/version").returncode == 0
    assert run("kubewarm", "pin", "warm").returncode == 0
    warm_log = Path(f"{user['log']}.w")
    tray = subprocess.Popen(
        [*_root_prefix(), "runuser", "-u", USER, "--", "env", "-i", *user["env"],
         "kubewarm", "tray", "--no-icon"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/",
    )  # fmt: skip
    try:
        assert wait_for(lambda: _runs(warm_log) >= 2, 45), "the warmer did not refresh"
    finally:
        kill_pid(tray.pid)
    # the tray itself, from /usr/bin/kubewarm, under Xvfb with trayer (this test's session)
    tray_home = tmp_path / "tray-home"
    tray_home.mkdir()
    log = tmp_path / "tray.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["/usr/bin/kubewarm"],
            env={**desktop.session, "HOME": str(tray_home), "PATH": "/usr/bin:/bin",
                 "KUBEWARM_STORE": "file"},
            stdout=out, stderr=subprocess.STDOUT, cwd="/",
        )  # fmt: skip
    try:
        assert wait_for(lambda: desktop.tray_geometry() is not None, 30), log.read_text()
        assert proc.poll() is None, log.read_text()
    finally:
        kill_pid(proc.pid)
    # removing the package never breaks kubectl: the launcher passes through to the plugin
    _root("apt-get", "remove", "-y", "-q", "kubewarm")
    after = run(*kubectl)
    assert after.returncode == 0 and "gitVersion" in after.stdout, after.stderr
    assert "cannot start kubewarm" in after.stderr
