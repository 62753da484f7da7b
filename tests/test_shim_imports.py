"""The hit path's import budget (engine/hotpath.py's docstring): nothing heavy on a hit."""

from __future__ import annotations

import subprocess
import sys

from kubewarm.engine.credentials import bootstrap_code

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import run_shim

FORBIDDEN = {
    "json",
    "re",
    "argparse",
    "subprocess",
    "yaml",
    "keyring",
    "platformdirs",
    "datetime",
    "hashlib",
    "typing",
    "collections",
    "socket",
    "ssl",
    "tempfile",
    "dataclasses",
    "enum",
    "jeepney",
    "secretstorage",
    "apscheduler",
    "pystray",
    "PIL",
    "__future__",
    "json.decoder",
    "kubewarm.engine.credentials",
    "kubewarm.engine.plugin",
}


def _imports_of_a_hit(env: dict, argv: list[str]) -> set[str]:
    """Module names a warm hit imports, read from ``python -X importtime -I -S`` running the
    hit path the way the installed ``kubewarm-exec`` does (also from an editable checkout)."""
    assert run_shim(argv, env, own_parent=True).returncode == 0  # seed the cache
    code = bootstrap_code("from kubewarm.engine.hotpath import main;main()")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-I", "-S", "-c", code, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_file_store_hit_imports_nothing_heavy(kw_env, plugin_log):
    names = _imports_of_a_hit(kw_env, fake_plugin_argv(log=plugin_log))
    assert "kubewarm.engine.hotpath" in names  # the measurement did see the shim
    assert names & FORBIDDEN == set()
    assert "kubewarm.engine.credentials" not in names  # it really was a hit
    kubewarm_modules = {n for n in names if n.startswith("kubewarm")}
    assert kubewarm_modules <= {"kubewarm", "kubewarm.engine", "kubewarm.engine.hotpath"}


def test_hit_under_kubectl_imports_nothing_heavy(kw_env, plugin_log):
    env = {
        **kw_env,
        "KUBERNETES_EXEC_INFO": '{"kind":"ExecCredential","apiVersion":'
        '"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}',
    }
    names = _imports_of_a_hit(env, fake_plugin_argv(log=plugin_log))
    assert names & FORBIDDEN == set()
