"""Plugin output over the cache limit (1 MiB) reaches kubectl unchanged, streamed, and is never
cached (a 100 MB answer used to be held in memory whole and stored)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from kubewarm.engine.cache.plugin import CACHE_LIMIT

from tests.shim_helpers import run_shim, store_files

# A valid ExecCredential whose token is `size` bytes long; each run appends a line to `log`.
BIG_PLUGIN = textwrap.dedent(
    """
    import json, sys, time
    size, log = int(sys.argv[1]), sys.argv[2]
    with open(log, "a") as fh:
        fh.write("run\\n")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 900))
    sys.stdout.write(json.dumps({
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "status": {"token": "k" * size, "expirationTimestamp": stamp},
    }))
    """
)


def _plugin(tmp_path, size: int) -> tuple[list[str], Path]:
    script = tmp_path / "big_plugin.py"
    script.write_text(BIG_PLUGIN)
    log = tmp_path / "big.log"
    return [sys.executable, "-I", str(script), str(size), str(log)], log


def test_large_output_is_passed_through_and_not_cached(kw_env, tmp_path):
    argv, log = _plugin(tmp_path, 5 * CACHE_LIMIT)
    for _ in range(2):
        result = run_shim(argv, kw_env, own_parent=True)
        assert result.returncode == 0, result.stderr[-500:]
        assert len(result.stdout) > 5 * CACHE_LIMIT
        assert result.stdout.endswith(b'Z"}}') and b'"token": "kkkk' in result.stdout
    assert store_files(kw_env) == []
    assert log.read_text().count("run") == 2  # nothing cached: the plugin ran each time


def test_output_just_under_the_limit_is_cached(kw_env, tmp_path):
    argv, log = _plugin(tmp_path, CACHE_LIMIT - 4096)
    first = run_shim(argv, kw_env, own_parent=True)
    second = run_shim(argv, kw_env, own_parent=True)
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert len(store_files(kw_env)) == 1
    assert log.read_text().count("run") == 1
