"""Nobody else can redirect kubewarm's writes: a symlink planted in place of a log, lock or
served marker is never followed, and a cache folder that others can write to is not used
(the plugin runs and kubectl works, nothing is cached)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from kubewarm.engine import hotpath
from kubewarm.engine.core import events_log, locks

from tests.fixtures_core import fake_plugin_argv, plugin_runs
from tests.shim_helpers import exec_info, run_shim, store_files, wait_for
from tests.tray_helpers import posix_only

pytestmark = posix_only


@pytest.fixture
def victim(tmp_path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def test_log_symlink_is_not_followed(kw_env, victim):
    log = Path(events_log.log_file())
    log.parent.mkdir(parents=True, mode=0o700)
    log.symlink_to(victim)
    events_log.write("background refresh key=abc ok=True")
    assert victim.read_text() == "precious\n"


def test_lock_symlink_is_not_followed(kw_env, tmp_path):
    target = tmp_path / "created-through-link"
    directory = Path(locks.lock_dir())
    directory.mkdir(parents=True, mode=0o700)
    key = "ab" * 32
    (directory / (key[:32] + ".lock")).symlink_to(target)
    with locks.hold(key) as acquired:
        assert acquired  # the shim goes on without a lock rather than fail
    assert not target.exists()


def test_served_marker_symlink_is_not_followed(kw_env, victim):
    key, identity = "cd" * 32, "4242:1:/usr/bin/kubectl"
    marker = Path(hotpath._marker_path(key, identity))
    marker.parent.mkdir(parents=True, mode=0o700)
    marker.symlink_to(victim)
    hotpath.mark_served(key, "ef" * 32, identity)
    assert victim.read_text() == "precious\n"


def test_cache_folder_writable_by_others_is_not_used(kw_env, plugin_log):
    cache = Path(kw_env["KUBEWARM_CACHE_DIR"])
    cache.chmod(0o777)
    env = {**kw_env, "KUBERNETES_EXEC_INFO": exec_info(), "KUBEWARM_DEBUG": "1"}
    argv = fake_plugin_argv(log=plugin_log)
    for _ in range(2):
        result = run_shim(argv, env, own_parent=True)
        assert result.returncode == 0, result.stderr
        assert b"writable by others" in result.stderr
    assert plugin_runs(plugin_log) == 2
    assert store_files(kw_env) == []
    assert not (cache / "served").exists() and not (cache / "locks").exists()


def test_created_folders_are_private(kw_env, plugin_log):
    cache = Path(kw_env["KUBEWARM_CACHE_DIR"])
    shutil.rmtree(cache)  # made by the fixture: let kubewarm make it
    env = {**kw_env, "KUBERNETES_EXEC_INFO": exec_info()}
    assert run_shim(fake_plugin_argv(log=plugin_log), env).returncode == 0
    assert wait_for(lambda: (cache / "housekeeping").exists(), 20)  # the detached helper too
    for folder in [cache, *[p for p in cache.rglob("*") if p.is_dir()]]:
        assert folder.stat().st_mode & 0o077 == 0, f"{folder} is {oct(folder.stat().st_mode)}"
    assert os.path.isdir(cache / "credentials")


@pytest.mark.parametrize(
    "backend",
    ["other:os:abort", "other:antigravity:x", "other:keyring.core:get_password", "a:b", "other:"],
)
def test_store_record_accepts_only_known_backends(kw_env, plugin_log, backend):
    """A store record another hand wrote never makes kubewarm import or call arbitrary code
    (``backend=other:os:abort`` aborted the shim): the record is ignored and decided again."""
    record = Path(kw_env["KUBEWARM_CACHE_DIR"]) / "store"
    record.write_text(f"keyring\nbackend={backend}\nreason=planted\n")
    record.chmod(0o600)
    env = {**kw_env, "KUBEWARM_STORE": "auto"}
    for _ in range(2):
        result = run_shim(fake_plugin_argv(log=plugin_log), env, own_parent=True)
        assert result.returncode == 0, result.stderr
        assert b"Traceback" not in result.stderr
