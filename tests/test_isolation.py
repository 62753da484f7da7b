"""Nothing in the folder kubectl runs in, nor PYTHONPATH, ever runs as kubewarm (security issue:
background helpers were started as ``python -c`` and imported the current directory first).

A folder holds modules named like the ones kubewarm's processes import; each leaves a marker.
Real kubectl runs from there through what ``kubewarm inject`` wrote, against the TLS test API
server: a miss (which starts housekeeping), a stale hit (which starts a background refresh), and
``kubewarm tray --no-icon`` started there keeps a pinned context warm. No marker may appear.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fixtures_core import FAKE_PLUGIN, kill_pid, kubectl_path, run_kubectl
from tests.shim_helpers import wait_for
from tests.tray_helpers import KUBEWARM, kubewarm, plugin_runs, posix_only, write_config

pytestmark = posix_only

BAIT = ("json", "subprocess", "signal", "keyring", "yaml", "typing", "hashlib", "re", "base64")


def _bait_folder(path: Path) -> Path:
    path.mkdir()
    for name in BAIT:
        (path / f"{name}.py").write_text(
            "import os, sys\n"
            f"_p = os.path.join({str(path)!r}, 'RAN-{name}')\n"
            "with open(_p, 'a') as _f:\n"
            "    _f.write(' '.join(sys.argv) + '\\n')\n"
        )
    return path


def _markers(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.glob("RAN-*")}


def _plugin(log: Path, ttl: float) -> list[str]:
    # the test plugin itself runs isolated, so that any marker is kubewarm's doing
    return [sys.executable, "-I", str(FAKE_PLUGIN), "--ttl", str(ttl), "--log", str(log)]


def test_kubectl_from_a_hostile_folder_runs_nothing_of_it(kw_env, api_server, tmp_path):
    bait = _bait_folder(tmp_path / "bait")
    log = tmp_path / "plugin.log"
    home = Path(kw_env["HOME"])
    write_config(
        home / ".kube" / "config",
        {"prod": _plugin(log, ttl=900)},
        server=api_server.url,
        ca_data=api_server.ca_data_b64,
    )
    kubewarm("inject", env=kw_env)
    (Path(kw_env["KUBEWARM_CACHE_DIR"]) / "housekeeping").unlink()  # due: a miss starts it
    env = {**kw_env, "PYTHONPATH": str(bait), "KUBEWARM_REFRESH_WINDOW": "1"}
    kubectl = kubectl_path("1.33")

    def kubectl_here() -> None:
        result = subprocess.run(
            [str(kubectl), "get", "--raw", "/version"],
            cwd=bait,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    kubectl_here()  # a miss: the plugin runs, housekeeping starts detached
    stamp = Path(kw_env["KUBEWARM_CACHE_DIR"]) / "housekeeping"
    housekept = wait_for(stamp.exists, 20)
    assert _markers(bait) == {}
    assert housekept, "housekeeping did not run"
    kubectl_here()  # stale at once (window = whole lifetime): served, refreshed in background
    refreshed = wait_for(lambda: len(plugin_runs(log)) == 2, 20)
    assert _markers(bait) == {}
    assert refreshed, "no background refresh ran"


def test_tray_started_in_a_hostile_folder_runs_nothing_of_it(kw_env, api_server, tmp_path):
    bait = _bait_folder(tmp_path / "bait")
    log = tmp_path / "plugin.log"
    home = Path(kw_env["HOME"])
    config = write_config(
        home / ".kube" / "config",
        {"prod": _plugin(log, ttl=900)},
        server=api_server.url,
        ca_data=api_server.ca_data_b64,
    )
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    out = tmp_path / "tray.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [str(KUBEWARM), "tray", "--no-icon"],
            cwd=bait,
            env=kw_env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(lambda: "refreshed" in out.read_text(), 30), out.read_text()
        result = run_kubectl(kubectl_path("1.33"), config, env=kw_env)
        assert result.returncode == 0, result.stderr
        assert len(plugin_runs(log)) == 1  # kubectl was served what the tray refreshed
    finally:
        kill_pid(proc.pid)
    assert _markers(bait) == {}
