"""Nothing that may hold a token is left behind: temporary files from an interrupted write,
plaintext entries after a switch to the keyring (`store --recheck` too), and served markers,
which grow by one per kubectl call even when every call is a hit."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kubewarm.engine.cache import admin
from kubewarm.engine.stores import choice

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import run_shim, store_files, wait_for
from tests.tray_helpers import kubewarm, posix_only

pytestmark = posix_only


def _aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def _temp_file(folder: Path, name: str, age: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f".kubewarm-{name}.tmp"
    path.write_text('{"status": {"token": "kwtest.secret"}}')
    return _aged(path, age)


def test_housekeeping_removes_old_temp_files_and_served_markers(kw_env, plugin_log):
    cache = Path(kw_env["KUBEWARM_CACHE_DIR"])
    old_tmp = _temp_file(cache / "credentials", "crashed", 3600)
    young_tmp = _temp_file(cache / "credentials", "writing", 5)  # a write in progress
    settings_tmp = _temp_file(Path(kw_env["KUBEWARM_CONFIG_DIR"]), "settings", 3600)
    served = cache / "served"
    served.mkdir(mode=0o700)
    # one kubectl call after another, each its own marker: all but the newest go (the newest
    # says when the key was last used, kept for KUBEWARM_WARM_RECENT); a key unused for over
    # 30 days loses its last one too
    markers = [served / f"{'ab' * 16}-{1000 + i}" for i in range(50)]
    for i, marker in enumerate(markers):
        marker.write_text("x")
        _aged(marker, 7200 + i)
    newest, markers = markers[0], markers[1:]
    stale_key = served / f"{'cd' * 16}-999"
    stale_key.write_text("x")
    markers.append(_aged(stale_key, 31 * 86400))
    (cache / "housekeeping").unlink()  # due
    assert run_shim(fake_plugin_argv(log=plugin_log), kw_env).returncode == 0
    assert wait_for(lambda: not old_tmp.exists() and not settings_tmp.exists(), 20)
    assert young_tmp.exists()
    assert wait_for(lambda: not any(m.exists() for m in markers), 20)
    assert newest.exists()


def test_clear_all_removes_temp_files(kw_env):
    cache = Path(kw_env["KUBEWARM_CACHE_DIR"])
    stale = _temp_file(cache / "credentials", "crashed", 120)
    result = kubewarm("clear", "--all", env=kw_env)
    assert "1 temporary file" in result.stdout
    assert not stale.exists()


@pytest.mark.real
def test_recheck_to_the_keyring_leaves_no_plaintext(
    no_secret_service, kw_env, plugin_log, tmp_path_factory
):
    env = {**kw_env, "KUBEWARM_STORE": "auto"}
    assert run_shim(fake_plugin_argv(log=plugin_log), env).returncode == 0
    assert choice.read_record().auto == "file" and len(store_files(kw_env)) == 1
    from tests.fixtures_keyring import SecretService

    service = SecretService(tmp_path_factory.mktemp("late-keyring"))
    try:
        service.start()
        rechecked = kubewarm("store", "--recheck", env={**env, **service.env})
        assert "left in the file store" in rechecked.stdout
        assert choice.read_record().auto == "keyring"
        assert store_files(kw_env) == []
        assert admin.remove_stale_temp_files() == 0
    finally:
        service.stop()
