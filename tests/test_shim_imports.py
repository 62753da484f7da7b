"""The hit path's import budget (engine/hotpath.py's docstring): nothing heavy on a hit."""

from __future__ import annotations

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import imports_of_a_hit

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
    "kubewarm.engine.cache.credentials",
    "kubewarm.engine.cache.plugin",
}


def test_file_store_hit_imports_nothing_heavy(kw_env, plugin_log):
    names = imports_of_a_hit(kw_env, fake_plugin_argv(log=plugin_log))
    assert "kubewarm.engine.hotpath" in names  # the measurement did see the shim
    assert names & FORBIDDEN == set()
    assert "kubewarm.engine.cache.credentials" not in names  # it really was a hit
    kubewarm_modules = {n for n in names if n.startswith("kubewarm")}
    assert kubewarm_modules <= {"kubewarm", "kubewarm.engine", "kubewarm.engine.hotpath"}


def test_hit_under_kubectl_imports_nothing_heavy(kw_env, plugin_log):
    env = {
        **kw_env,
        "KUBERNETES_EXEC_INFO": '{"kind":"ExecCredential","apiVersion":'
        '"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}',
    }
    names = imports_of_a_hit(env, fake_plugin_argv(log=plugin_log))
    assert names & FORBIDDEN == set()
