"""``kubewarm tray --no-icon`` as a process: one instance per user, a clean stop on SIGTERM, and
laptop sleep (the wall clock jumps while the monotonic clock stood still, made real for the
process with libfaketime)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_core import fake_plugin_argv, kill_pid, require
from tests.shim_helpers import wait_for
from tests.tray_helpers import KUBEWARM, kubewarm, plugin_runs, posix_only, write_config

pytestmark = posix_only


@pytest.fixture
def headless(kw_env, tmp_path):
    """Start ``kubewarm tray --no-icon`` processes; all are killed by PID at teardown."""
    procs: list[tuple[subprocess.Popen, Path]] = []

    def start(extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
        out = tmp_path / f"warmer-{len(procs)}.out"
        env = {**kw_env, **(extra_env or {})}
        with open(out, "wb") as fh:
            proc = subprocess.Popen(
                [str(KUBEWARM), "tray", "--no-icon"],
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        procs.append((proc, out))
        return proc, out

    yield start
    for proc, _ in procs:
        kill_pid(proc.pid)


def _pinned_context(env: dict, log: Path, ttl: float = 900) -> None:
    write_config(
        Path(env["HOME"]) / ".kube" / "config", {"prod": fake_plugin_argv(ttl=ttl, log=log)}
    )
    kubewarm("inject", env=env)
    kubewarm("pin", "prod", env=env)


def test_second_instance_says_one_is_running_and_exits(kw_env, plugin_log, headless):
    _pinned_context(kw_env, plugin_log)
    first, out = headless()
    assert wait_for(lambda: "refreshed" in out.read_text(), 20), out.read_text()
    second = subprocess.run(
        [str(KUBEWARM), "tray", "--no-icon"], env=kw_env, capture_output=True, text=True, timeout=30
    )
    assert second.returncode == 3
    assert f"already running (pid {first.pid})" in second.stderr
    # the icon-less warmer and the tray app share the lock: the tray does not start either
    tray = subprocess.run(
        [str(KUBEWARM)], env={**kw_env, "DISPLAY": ":0"}, capture_output=True, text=True, timeout=30
    )
    assert tray.returncode == 3 and "already running" in tray.stderr
    assert len(plugin_runs(plugin_log)) == 1  # no second scheduler ran the plugin
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0
    assert "warmer stopped" in out.read_text()
    third, out3 = headless()
    assert wait_for(lambda: "warmer started" in out3.read_text(), 20), out3.read_text()
    assert third.poll() is None


@pytest.fixture(scope="session")
def wall_clock_shifter(tmp_path_factory) -> Path:
    """tests/wallshift.c built as a preload library (needs a C compiler)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    require(compiler is not None and sys.platform.startswith("linux"), "Linux and a C compiler")
    assert compiler is not None  # require() skipped the test otherwise
    library = tmp_path_factory.mktemp("wallshift") / "wallshift.so"
    source = Path(__file__).with_name("wallshift.c")
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(source), "-ldl"],
        check=True,
        capture_output=True,
    )
    return library


def test_wakes_after_sleep_and_refreshes_what_fell_due(
    kw_env, plugin_log, headless, tmp_path, wall_clock_shifter
):
    """900 s tokens are refreshed 255 s before expiry. The process 'sleeps' 700 s: its wall
    clock jumps, its monotonic clock does not, so APScheduler alone would wait ~645 s more."""
    _pinned_context(kw_env, plugin_log)
    offset = tmp_path / "wall-offset"
    offset.write_text("0\n")
    env = {"LD_PRELOAD": str(wall_clock_shifter), "KW_WALL_OFFSET_FILE": str(offset)}
    proc, out = headless(env)
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 1, 20), out.read_text()
    assert wait_for(lambda: "refreshed" in out.read_text(), 10), out.read_text()
    offset.write_text("700\n")
    # one heartbeat (10 s) at most, plus the refresh itself
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 2, 25), out.read_text()
    text = out.read_text()
    assert "woke from sleep: wall clock moved +70" in text
    assert wait_for(lambda: out.read_text().count(": refreshed (") == 2, 10), out.read_text()
    assert proc.poll() is None
