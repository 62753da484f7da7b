"""``kubewarm pin / unpin / pins``: pins persist in the settings file, survive concurrent edits,
and say clearly what is wrong."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import exec_info, run_shim
from tests.tray_helpers import KUBEWARM, kubewarm, posix_only, write_config


def _settings(env: dict) -> Path:
    return Path(env["KUBEWARM_CONFIG_DIR"]) / "settings.conf"


def _pins_in_file(env: dict) -> list[str]:
    for line in _settings(env).read_text().splitlines():
        if line.startswith("KUBEWARM_PINS="):
            return json.loads(line.partition("=")[2])
    return []


def _config(env: dict) -> Path:
    argv = fake_plugin_argv()
    return write_config(
        Path(env["HOME"]) / ".kube" / "config",
        {"prod": argv, "staging": argv, "static": None},
    )


def test_pin_unpin_and_list(kw_env):
    _config(kw_env)
    out = kubewarm("pin", "prod", "staging", env=kw_env).stdout
    assert "pinned prod" in out and "pinned staging" in out
    assert _pins_in_file(kw_env) == ["prod", "staging"]
    again = kubewarm("pin", "prod", env=kw_env).stdout
    assert "prod was already pinned" in again
    assert _pins_in_file(kw_env) == ["prod", "staging"]
    listing = kubewarm("pins", env=kw_env).stdout.splitlines()
    assert [line.split()[0] for line in listing] == ["prod", "staging"]
    assert all("not wrapped" in line for line in listing)  # kubectl does not use the shim yet
    kubewarm("unpin", "prod", env=kw_env)
    assert _pins_in_file(kw_env) == ["staging"]
    missing = kubewarm("unpin", "prod", env=kw_env, check=False)
    assert missing.returncode == 1 and "'prod' was not pinned" in missing.stderr
    kubewarm("unpin", "--all", env=kw_env)
    assert _pins_in_file(kw_env) == []
    assert "Nothing is pinned" in kubewarm("pins", env=kw_env).stdout


@posix_only
def test_pins_show_cached_state_after_a_call_through_the_shim(kw_env):
    _config(kw_env)
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    line = kubewarm("pins", env=kw_env).stdout.strip()
    assert line.startswith("prod") and "not cached" in line and "(python" in line
    # what kubectl does for context prod: run the shim with the user's marker and exec info
    result = run_shim(
        fake_plugin_argv(), kw_env, KUBEWARM_USER="prod", KUBERNETES_EXEC_INFO=exec_info()
    )
    assert result.returncode == 0, result.stderr
    line = kubewarm("pins", env=kw_env).stdout.strip()
    assert line.startswith("prod") and "warm until" in line


def test_unknown_context_is_refused_unless_forced(kw_env):
    _config(kw_env)
    result = kubewarm("pin", "nope", env=kw_env, check=False)
    assert result.returncode == 1
    assert "no context named 'nope'" in result.stderr and ".kube/config" in result.stderr
    assert not _settings(kw_env).exists()
    kubewarm("pin", "--force", "nope", env=kw_env)
    assert _pins_in_file(kw_env) == ["nope"]
    assert "not in kubeconfig" in kubewarm("pins", env=kw_env).stdout


def test_notes_for_contexts_without_plugin_or_wrapping(kw_env):
    _config(kw_env)
    result = kubewarm("pin", "static", "prod", env=kw_env)
    assert "'static' has no exec plugin" in result.stderr
    assert "'prod' is not wrapped yet" in result.stderr and "kubewarm inject" in result.stderr


def test_settings_file_keeps_other_lines(kw_env):
    _config(kw_env)
    path = _settings(kw_env)
    path.parent.mkdir(parents=True)
    path.write_text("# my settings\nKUBEWARM_DEFAULT_TTL=600\n")
    kubewarm("pin", "prod", env=kw_env)
    text = path.read_text()
    assert text.startswith("# my settings\nKUBEWARM_DEFAULT_TTL=600\n")
    assert 'KUBEWARM_PINS=["prod"]' in text


def test_malformed_pins_are_reported_not_overwritten(kw_env):
    _config(kw_env)
    path = _settings(kw_env)
    path.parent.mkdir(parents=True)
    path.write_text("KUBEWARM_PINS=prod,staging\n")
    for args in (("pins",), ("pin", "prod")):
        result = kubewarm(*args, env=kw_env, check=False)
        assert result.returncode == 1
        assert "KUBEWARM_PINS must be a JSON list" in result.stderr
        assert str(path) in result.stderr
    assert path.read_text() == "KUBEWARM_PINS=prod,staging\n"


def test_environment_override_is_explained(kw_env):
    _config(kw_env)
    env = {**kw_env, "KUBEWARM_PINS": '["prod"]'}
    assert kubewarm("pins", env=env).stdout.startswith("prod")
    result = kubewarm("pin", "staging", env=env, check=False)
    assert result.returncode == 1 and "set in the environment" in result.stderr


def test_concurrent_pins_are_all_kept(kw_env):
    argv = fake_plugin_argv()
    names = [f"ctx{i}" for i in range(8)]
    write_config(Path(kw_env["HOME"]) / ".kube" / "config", dict.fromkeys(names, argv))
    procs = [
        subprocess.Popen([str(KUBEWARM), "pin", name], env=kw_env, stdout=subprocess.DEVNULL)
        for name in names
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    assert sorted(_pins_in_file(kw_env)) == names


@posix_only
def test_status_pins_and_tray_read_one_model_that_agrees(kw_env):
    """``kubewarm status``, ``kubewarm pins`` and the tray read the same ContextState: after
    one kubectl-like call they agree on the key, the expiry and that it is cached."""
    from kubewarm.engine.cache import admin as cache_admin
    from kubewarm.engine.contexts.state import WARM, ContextState, static_states
    from kubewarm.engine.contexts.status import statuses
    from kubewarm.engine.core import settings
    from kubewarm.engine.kubeconfig import files, merge

    _config(kw_env)
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    result = run_shim(
        fake_plugin_argv(), kw_env, KUBEWARM_USER="prod", KUBERNETES_EXEC_INFO=exec_info()
    )
    assert result.returncode == 0, result.stderr
    values = settings.load(kw_env)
    status = {s.name: s for s in statuses(environ=kw_env, values=values)}
    contexts = merge.merge_contexts(merge.load(files.resolve(environ=kw_env)))
    tray, _ = static_states(contexts, ["prod"], cache_admin.list_entries(values), values, kw_env)
    for one in (status["prod"], tray["prod"]):
        assert isinstance(one, ContextState)
        assert (one.phase, one.cached, one.wrapped, one.kind) == (WARM, True, True, "exec")
    assert status["prod"].key == tray["prod"].key
    assert status["prod"].expires == tray["prod"].expires > 0
    assert status["static"].kind == "token" and not status["static"].cached
    assert status["staging"].cached is False and tray["staging"].cached is False
    table = kubewarm("status", env=kw_env).stdout
    assert any(
        line.split()[:2] == ["*", "prod"] and "cached, expires in" in line
        for line in table.splitlines()
    )
