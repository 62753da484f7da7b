"""``kubewarm stats``: hits and plugin runs counted by the real shim under the real kubectl,
time saved from the plugin's measured run time, periods, ``-o json``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from kubewarm.engine.cache import stats as cache_stats

from tests import kubeconfig_helpers
from tests.fixtures_core import (
    fake_plugin_argv,
    kubectl_path,
    plugin_runs,
    run_kubectl,
    write_kubeconfig,
)
from tests.kubeconfig_helpers import run_cli

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir


@pytest.mark.real
def test_kubectl_calls_are_counted_and_time_saved(api_server, kw_data, tmp_path, plugin_log):
    plugin = fake_plugin_argv(sleep=0.3, log=plugin_log)
    config = write_kubeconfig(
        tmp_path / "kubeconfig",
        api_server,
        {"prod": {"command": plugin[0], "args": plugin[1:]}},
    )
    assert run_cli("inject", "--kubeconfig", str(config), env=kw_data).returncode == 0
    kubectl = kubectl_path("1.33")
    for _ in range(4):
        got = run_kubectl(kubectl, config, env=kw_data)
        assert got.returncode == 0, got.stderr
    assert plugin_runs(plugin_log) == 1

    result = run_cli("stats", "-o", "json", env={**kw_data, "KUBECONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["days"] == 7 and doc["until"] == time.strftime("%Y-%m-%d", time.gmtime())
    (user,) = doc["users"]
    assert (user["user"], user["contexts"], user["plugin"]) == (
        "prod",
        ["prod"],
        os.path.basename(plugin[0]),
    )
    assert (user["from_cache"], user["plugin_runs"], user["requests"]) == (3, 1, 4)
    assert 0.3 <= user["run_seconds"] < 30
    assert user["saved_seconds"] == pytest.approx(3 * user["run_seconds"], abs=0.01)
    assert doc["total"]["from_cache"] == 3 and doc["total"]["plugin_runs"] == 1

    text = run_cli("stats", env={**kw_data, "KUBECONFIG": str(config)})
    assert text.returncode == 0
    assert "4 credential requests, 3 served from the cache, 1 plugin run" in text.stdout
    row = next(line for line in text.stdout.splitlines() if line.startswith("prod "))
    assert row.split()[:5] == ["prod", "prod", os.path.basename(plugin[0]), "3", "1"], text.stdout
    # the counter files hold no secret
    counters = Path(kw_data["KUBEWARM_CACHE_DIR"]) / "stats"
    raw = "".join(p.read_text() for p in counters.iterdir())
    assert "kwtest" not in raw and "token" not in raw


def _write(directory: Path, day: str, lines: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / day).write_text("".join(line + "\n" for line in lines))


def test_periods_measured_run_times_and_unknown_savings(kw_env):
    directory = Path(cache_stats.stats_dir())
    now = time.mktime((2030, 1, 10, 12, 0, 0, 0, 0, 0)) - time.timezone
    _write(directory, "2030-01-10", ["h\tk1\tprod", "h\tk1\tprod", "h\tk2\tnew", "garbage", "r\tx",
                                     "h\tk3\told", "h\tk3\told"])  # fmt: skip
    _write(directory, "2030-01-08", ["r\tk1\tprod\taws\tfg\t2000\t1", "h\tk1\tprod"])
    # an old day: outside a 3-day period; it measures only a user whose plugin did not run since
    _write(directory, "2029-12-01", ["r\tk1\tprod\taws\tbg\t4000\t1", "r\tk1\tprod\taws\tfg\t9\t0",
                                     "r\tk3\told\tgcloud\tbg\t1500\t1"])  # fmt: skip
    report = cache_stats.collect(3, now=now, contexts={"prod": ["prod-ctx"]})
    assert (report.since, report.until) == ("2030-01-08", "2030-01-10")
    prod, old, new = report.users
    assert (prod.user, prod.hits, prod.runs, prod.background_runs) == ("prod", 3, 1, 0)
    assert prod.run_seconds == pytest.approx(2.0) and prod.saved_seconds == pytest.approx(6.0)
    assert prod.contexts == ["prod-ctx"] and prod.plugin == "aws"
    assert (old.user, old.plugin, old.runs, old.run_seconds) == ("old", "gcloud", 0, 1.5)
    assert old.saved_seconds == pytest.approx(3.0)
    assert (new.user, new.hits, new.saved_seconds) == ("new", 1, None)
    assert report.saved_seconds == pytest.approx(9.0)
    everything = cache_stats.collect(60, now=now)
    assert everything.users[0].background_runs == 1 and everything.users[0].failed_runs == 1
    assert everything.users[0].run_seconds == pytest.approx(3.0)  # both runs in the period
    assert cache_stats.prune(keep_days=30, now=now) == 1
    assert sorted(os.listdir(directory)) == ["2030-01-08", "2030-01-10"]


def test_warm_recent_runs_and_the_waits_they_saved(kw_env):
    """A warm-without-pinning refresh saves kubectl one wait when a call then finds its
    credential; further hits, a credential that was never used, or one replaced by a kubectl
    run save nothing more."""
    directory = Path(cache_stats.stats_dir())
    now = time.mktime((2030, 1, 10, 12, 0, 0, 0, 0, 0)) - time.timezone
    _write(directory, "2030-01-09", ["r\tk1\tdev\taws\tfg\t600\t1", "h\tk1\tdev",
                                     "r\tk1\tdev\taws\trecent\t500\t1"])  # fmt: skip
    _write(directory, "2030-01-10", [
        "h\tk1\tdev", "h\tk1\tdev",  # the refresh of yesterday: one wait saved
        "r\tk1\tdev\taws\trecent\t400\t1",  # never used: saves nothing
        "r\tk1\tdev\taws\trecent\t400\t1", "h\tk1\tdev",  # used: one more
        "r\tk1\tdev\taws\trecent\t400\t0",  # failed: spent, saves nothing
        "r\tk1\tdev\taws\trecent\t400\t1", "r\tk1\tdev\taws\tfg\t500\t1", "h\tk1\tdev",
        "r\tk2\tprod\taws\tbg\t500\t1", "h\tk2\tprod",  # pinned: counted as before
    ])  # fmt: skip
    report = cache_stats.collect(7, now=now)
    dev = next(u for u in report.users if u.user == "dev")
    assert (dev.recent_runs, dev.recent_saves, dev.background_runs) == (5, 2, 5)
    assert dev.run_seconds == pytest.approx(2.8 / 6)
    assert report.recent_runs == 5 and report.recent_saves == 2
    assert report.recent_saved_seconds == pytest.approx(2 * 2.8 / 6)
    prod = next(u for u in report.users if u.user == "prod")
    assert (prod.recent_runs, prod.recent_saves, prod.background_runs) == (0, 0, 1)
    # the day the refresh ran is outside a 1-day period, the hit that used it is inside
    assert cache_stats.collect(1, now=now).recent_saves == 2


def test_stats_with_nothing_counted(kw_data):
    text = run_cli("stats", "--days", "1", env=kw_data)
    assert text.returncode == 0 and "No credential requests went through kubewarm" in text.stdout
    assert run_cli("stats", "--days", "0", env=kw_data).returncode == 1
