"""The warmer refreshes a credential in exactly the environment it was obtained in, or not at
all: a plugin that reads a variable no one declared (MY_TENANT) is run by the tray with the
shell's value, never with the tray's own (it used to store tenant-none's token under the
shell's key, so the shell's kubectl then talked to its cluster as another tenant)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.fixtures_core import FAKE_PLUGIN, kill_pid, kubectl_path, run_kubectl
from tests.shim_helpers import wait_for
from tests.tray_helpers import KUBEWARM, kubewarm, posix_only, write_config

pytestmark = posix_only

# Runs the test plugin and notes which tenant each run saw, and the token it minted.
TENANT_PLUGIN = textwrap.dedent(
    """
    import json, os, subprocess, sys
    log, plugin, ttl = sys.argv[1:4]
    out = subprocess.run([sys.executable, "-I", plugin, "--ttl", ttl],
                         stdout=subprocess.PIPE, check=True).stdout
    token = json.loads(out)["status"]["token"]
    with open(log, "a") as fh:
        fh.write(os.environ.get("MY_TENANT", "none") + " " + token + "\\n")
    sys.stdout.buffer.write(out)
    """
)


def _runs(log: Path) -> list[tuple[str, str]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [tuple(line.split(" ", 1)) for line in lines]  # type: ignore[misc]


def test_tray_refresh_keeps_the_shells_tenant(kw_env, api_server, tmp_path):
    log = tmp_path / "tenants.log"
    script = tmp_path / "tenant_plugin.py"
    script.write_text(TENANT_PLUGIN)
    argv = [sys.executable, "-I", str(script), str(log), str(FAKE_PLUGIN), "16"]
    config = write_config(
        Path(kw_env["HOME"]) / ".kube" / "config",
        {"prod": argv},
        server=api_server.url,
        ca_data=api_server.ca_data_b64,
    )
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    shell = {**kw_env, "MY_TENANT": "b"}
    kubectl = kubectl_path("1.33")
    assert run_kubectl(kubectl, config, env=shell).returncode == 0
    assert [tenant for tenant, _ in _runs(log)] == ["b"]
    out = tmp_path / "tray.out"
    with open(out, "wb") as fh:  # the tray's own environment has no MY_TENANT
        tray = subprocess.Popen(
            [str(KUBEWARM), "tray", "--no-icon"], env=kw_env, stdout=fh, stderr=subprocess.STDOUT
        )
    try:
        # 16 s tokens are refreshed in their last quarter: within ~15 s
        assert wait_for(lambda: len(_runs(log)) >= 2, 30), out.read_text()
    finally:
        kill_pid(tray.pid)
    assert {tenant for tenant, _ in _runs(log)} == {"b"}, _runs(log)
    result = run_kubectl(kubectl, config, env=shell)
    assert result.returncode == 0, result.stderr
    assert all(tenant == "b" for tenant, _ in _runs(log))
