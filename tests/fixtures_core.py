"""Core fixtures: an isolated HOME/cache/config per test (filled in by test infrastructure)."""

from __future__ import annotations

import pytest


@pytest.fixture
def kw_env(tmp_path, monkeypatch):
    """A private HOME, cache and config dir for kubewarm; returns the environment to pass on."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KUBEWARM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KUBEWARM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("KUBEWARM_STORE", "file")
    for name in ("KUBEWARM_DEBUG", "KUBERNETES_EXEC_INFO", "KUBEWARM_USER", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    import os

    return dict(os.environ)
