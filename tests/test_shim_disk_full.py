"""A full disk never makes kubectl fail: the cache directory on a real, full tmpfs (mounted in a
private user and mount namespace, so nothing outside the test sees it), real kubectl against the
TLS test API server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.fixtures_core import (
    fake_plugin_argv,
    kubectl_path,
    plugin_runs,
    require,
    shim_command,
    write_kubeconfig,
)

SCRIPT = r"""
set -u
cache=$1; kubeconfig=$2; kubectl=$3
mount -t tmpfs -o size=512k,mode=0700 tmpfs "$cache" || exit 90
call() { "$kubectl" --kubeconfig "$kubeconfig" --context "$1" get --raw /version >/dev/null; }
call alice 2>"$cache/../first.err"
echo "first=$?"
# fill the file system: the served marker of the next call cannot be written
dd if=/dev/zero of="$cache/filler" bs=4k 2>/dev/null
sync
call alice 2>"$cache/../hit.err"
echo "hit=$?"
call bob 2>"$cache/../miss.err"
echo "miss=$?"
ls "$cache/credentials" | grep -c '\.cred$' | sed 's/^/entries=/'
"""


def _can_mount_privately() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-r", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def test_full_disk_never_fails_kubectl(api_server, kw_env, tmp_path, plugin_log):
    require(_can_mount_privately(), "Linux user namespaces to mount a small tmpfs (unshare -rm)")
    cache = Path(kw_env["KUBEWARM_CACHE_DIR"])
    shutil.rmtree(cache)
    cache.mkdir(mode=0o700)
    users = {
        name: {
            "command": shim_command(),
            "args": fake_plugin_argv(log=plugin_log),
            "env": [{"name": "KUBEWARM_USER", "value": name}],
        }
        for name in ("alice", "bob")
    }
    kubeconfig = write_kubeconfig(tmp_path / "config", api_server, users)
    result = subprocess.run(
        ["unshare", "-r", "-m", "sh", "-c", SCRIPT, "sh", str(cache), str(kubeconfig),
         str(kubectl_path("1.33"))],
        env={**kw_env, "KUBEWARM_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    report = dict(line.split("=", 1) for line in result.stdout.split())
    errors = {name: (tmp_path / f"{name}.err").read_text() for name in ("first", "hit", "miss")}
    assert report.get("first") == "0", (result, errors)
    assert report.get("hit") == "0", errors["hit"]  # marker write failed after the answer
    assert report.get("miss") == "0", errors["miss"]  # plugin ran, nothing could be cached
    assert "not cached" in errors["miss"]
    assert report.get("entries") == "1"  # bob's credential was not half-written
    assert plugin_runs(plugin_log) == 2
