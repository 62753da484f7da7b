"""The warm path end to end: real kubectl through a wrapped kubeconfig, a pinned context whose
tokens live 20 s, the headless warmer running in another environment (as a login item would),
kubectl every second for 90 s: after the first call the plugin never runs on kubectl's
critical path, and every call succeeds."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures_core import kill_pid, kubectl_path, run_kubectl, write_kubeconfig
from tests.shim_helpers import wait_for
from tests.tray_helpers import KUBEWARM, kubewarm, plugin_runs

SECONDS = 90


@pytest.mark.slow
@pytest.mark.real
def test_kubectl_never_waits_for_the_plugin(api_server, kw_env, fake_plugin_argv, tmp_path):
    kubectl = kubectl_path("1.33")
    log = tmp_path / "plugin-runs.log"
    kubeconfig = Path(kw_env["HOME"]) / ".kube" / "config"
    kubeconfig.parent.mkdir()
    argv = fake_plugin_argv(ttl=20, log=log)
    exec_block = {"command": argv[0], "args": argv[1:]}
    write_kubeconfig(kubeconfig, api_server, {"prod": exec_block}, provide_cluster_info=True)
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    # the shell has an identity variable the tray (started at login) does not have
    shell = {**kw_env, "AWS_PROFILE": "dev", "KUBEWARM_DEBUG": "1"}
    warmer_out = tmp_path / "warmer.out"
    with open(warmer_out, "wb") as out:
        warmer = subprocess.Popen(
            [str(KUBEWARM), "tray", "--no-icon"], env=kw_env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        assert wait_for(lambda: "refreshed" in warmer_out.read_text(), 20), warmer_out.read_text()
        calls = []
        started = time.monotonic()
        for second in range(SECONDS):
            call_started = time.monotonic()
            result = run_kubectl(kubectl, kubeconfig, env=shell, timeout=30)
            calls.append((second, result, time.monotonic() - call_started))
            pause = started + second + 1 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        failed = [(s, r.stderr) for s, r, _ in calls if r.returncode != 0]
        assert not failed, failed
        assert all("kubewarm-test" in r.stdout for _, r, _ in calls)
        waited = [(s, r.stderr) for s, r, _ in calls[1:] if "running plugin" in r.stderr]
        assert not waited, f"kubectl waited for the plugin after the first call: {waited}"
        stale = [s for s, r, _ in calls[1:] if "stale" in r.stderr]
        assert not stale, f"the warmer let the credential get stale at seconds {stale}"
        hits = sum(" hit " in r.stderr for _, r, _ in calls[1:])
        assert hits == SECONDS - 1
        refreshes = warmer_out.read_text().count(": refreshed (")
        # 20 s tokens refreshed 6 s before expiry: every 14 s, plus the warmer's first guess
        assert 6 <= refreshes <= 9, warmer_out.read_text()
        assert len(plugin_runs(log)) == refreshes + 1  # the only other run: kubectl's first call
        slowest = max(took for _, _, took in calls[1:])
        print(f"{SECONDS} kubectl calls, {refreshes} warmer refreshes, slowest {slowest:.2f}s")
    finally:
        kill_pid(warmer.pid)
