"""Numeric settings: a malformed, non-finite or out-of-range value gets one line naming the
setting, and the default is used (``KUBEWARM_DEFAULT_TTL=inf`` used to crash the shim and
``kubewarm entries``)."""

from __future__ import annotations

import pytest
from kubewarm.engine import hotpath

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import run_shim, token_of
from tests.tray_helpers import kubewarm


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("KUBEWARM_DEFAULT_TTL", "600", 600.0),
        ("KUBEWARM_DEFAULT_TTL", "1", 1.0),
        ("KUBEWARM_DEFAULT_TTL", "inf", 900.0),
        ("KUBEWARM_DEFAULT_TTL", "1e308", 900.0),
        ("KUBEWARM_DEFAULT_TTL", "nan", 900.0),
        ("KUBEWARM_DEFAULT_TTL", "0", 900.0),
        ("KUBEWARM_DEFAULT_TTL", "-5", 900.0),
        ("KUBEWARM_DEFAULT_TTL", "ten", 900.0),
        ("KUBEWARM_REFRESH_WINDOW", "1", 1.0),
        ("KUBEWARM_REFRESH_WINDOW", "1.5", 0.25),
        ("KUBEWARM_MARGIN_SECONDS", "0", 0.0),
        ("KUBEWARM_MARGIN_SECONDS", "-inf", 60.0),
        ("KUBEWARM_MARGIN_FRACTION", "0.5", 0.5),
        ("KUBEWARM_REFRESH_TIMEOUT", "1e9", 120.0),
        ("KUBEWARM_BACKUPS", "0", 0.0),
    ],
)
def test_number_accepts_only_finite_values_in_range(name, raw, expected, capsys):
    hotpath._warned.discard(name)
    assert hotpath.number({name: raw}, name) == expected
    err = capsys.readouterr().err
    if expected == float(hotpath.DEFAULTS[name][0]) and raw != hotpath.DEFAULTS[name][0]:
        assert err.count("\n") == 1 and name in err and "using the default" in err
    else:
        assert err == ""


@pytest.mark.parametrize("raw", ["inf", "1e308"])
def test_shim_and_entries_survive_an_absurd_default_ttl(kw_env, plugin_log, raw):
    env = {**kw_env, "KUBEWARM_DEFAULT_TTL": raw}
    argv = fake_plugin_argv(mode="noexpiry", log=plugin_log)
    first = run_shim(argv, env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.decode().count("KUBEWARM_DEFAULT_TTL") == 1
    second = run_shim(argv, env, own_parent=True)
    assert second.returncode == 0 and token_of(second.stdout) == token_of(first.stdout)
    listed = kubewarm("entries", env=env)  # raises unless it exits 0
    assert "Traceback" not in listed.stderr
    assert "in 14m" in listed.stdout or "in 15m" in listed.stdout  # the default 900 s
