"""kubewarm's lean paths equal platformdirs' (the shim cannot afford to import it)."""

from __future__ import annotations

import platformdirs
from kubewarm.engine.core import paths


def test_lean_dirs_equal_platformdirs(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBEWARM_CACHE_DIR", raising=False)
    monkeypatch.delenv("KUBEWARM_CONFIG_DIR", raising=False)
    monkeypatch.delenv("KUBEWARM_DATA_DIR", raising=False)
    for xdg in (None, str(tmp_path / "xdg")):
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
            if xdg is None:
                monkeypatch.delenv(var, raising=False)
            else:
                monkeypatch.setenv(var, f"{xdg}/{var.lower()}")
        assert paths.config_dir() == platformdirs.user_config_dir("kubewarm", appauthor=False)
        assert paths.cache_dir() == platformdirs.user_cache_dir("kubewarm", appauthor=False)
        assert paths.data_dir() == platformdirs.user_data_dir("kubewarm", appauthor=False)


def test_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBEWARM_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("KUBEWARM_CONFIG_DIR", str(tmp_path / "k"))
    assert paths.cache_dir() == str(tmp_path / "c")
    assert paths.settings_file() == str(tmp_path / "k" / "settings.conf")
