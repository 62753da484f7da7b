"""No tray host, no silent invisible icon (issue 12, item 4): the StatusNotifierWatcher on D-Bus
and the XEmbed tray selection are asked for real, on an Xvfb desktop with trayer (found) and on
one without any host (the tray says what to do on stderr and as a notification; doctor too)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from kubewarm.engine.stores.secret_service_lean import Bus, _str, _u32
from kubewarm.engine.system import tray_host
from kubewarm.engine.system.tray_host import FOUND, MISSING, UNKNOWN, decide

from tests.fixtures_core import kill_pid, require
from tests.fixtures_desktop import TOOLS, Desktop, running_desktop, wait_until
from tests.tray_helpers import KUBEWARM, kubewarm

ADVICE_START = "install and enable the AppIndicator extension"


@pytest.mark.parametrize(
    ("watcher", "xembed", "status"),
    [
        (True, False, FOUND),
        (False, True, FOUND),
        (True, None, FOUND),
        (None, True, FOUND),
        (False, False, MISSING),
        (None, False, UNKNOWN),
        (False, None, UNKNOWN),
        (None, None, UNKNOWN),
    ],
)
def test_decide(watcher, xembed, status):
    host = decide(watcher, xembed)
    assert host.status == status
    assert host.advice.startswith(ADVICE_START) == (status == MISSING)
    assert "kubewarm tray --no-icon" in host.advice or status != MISSING
    assert host.xembed_only == bool(xembed and not watcher)


def test_no_graphical_session_is_unknown():
    host = tray_host.detect({"PATH": "/usr/bin"})
    if sys.platform == "darwin" or sys.platform == "win32":
        assert host.status == FOUND
    else:
        assert host.status == UNKNOWN and "DISPLAY" in host.detail


@pytest.fixture(scope="module")
def bare_desktop(tmp_path_factory) -> Iterator[Desktop]:
    """Xvfb + D-Bus + dunst, and no tray host at all (stock GNOME without the extension)."""
    require(sys.platform.startswith("linux"), "Linux (Xvfb)")
    for tool in TOOLS:
        require(shutil.which(tool) is not None, f"{tool} (tests/install-system-deps.sh)")
    with running_desktop(tmp_path_factory.mktemp("bare-desktop"), tray_host=False) as handle:
        yield handle


def _own_watcher(desktop: Desktop) -> Bus:
    """A connection that owns org.kde.StatusNotifierWatcher while it stays open."""
    bus = Bus(desktop.env)
    body = bytearray()
    _str(body, tray_host.WATCHER)
    _u32(body, 4)  # DO_NOT_QUEUE
    answer = bus.result(
        bus.call(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "RequestName", "su", body,
        )
    )  # fmt: skip
    assert answer == [1], answer  # PRIMARY_OWNER
    return bus


@pytest.mark.real
def test_trayer_is_found_as_an_xembed_tray(desktop):
    host = tray_host.detect(desktop.env)
    assert (host.status, host.xembed, host.watcher) == (FOUND, True, False), host
    assert host.xembed_only


@pytest.mark.real
def test_no_host_is_missing_and_a_watcher_is_found(bare_desktop):
    host = tray_host.detect(bare_desktop.env)
    assert (host.status, host.xembed, host.watcher) == (MISSING, False, False), host
    bus = _own_watcher(bare_desktop)
    try:
        host = tray_host.detect(bare_desktop.env)
        assert (host.status, host.watcher, host.xembed) == (FOUND, True, False), host
    finally:
        bus.close()
    assert wait_until(lambda: tray_host.detect(bare_desktop.env).status == MISSING, 5)


def _doctor_host(env: dict) -> dict:
    result = kubewarm("doctor", "-o", "json", env=env, check=False)
    return next(c for c in json.loads(result.stdout)["checks"] if c["check"] == "tray host")


@pytest.mark.real
def test_doctor_checks_the_tray_host(kw_env, desktop, bare_desktop):
    found = _doctor_host({**kw_env, **desktop.session})
    assert found["status"] == "ok" and "XEmbed" in found["message"], found
    missing = _doctor_host({**kw_env, **bare_desktop.session})
    assert missing["status"] == "problem", missing
    assert missing["fix"].startswith(ADVICE_START) and "--no-icon" in missing["fix"]
    text = kubewarm("doctor", env={**kw_env, **bare_desktop.session}, check=False)
    assert text.returncode == 1
    assert "PROBLEM  tray host: no tray host is running" in text.stdout, text.stdout


@pytest.mark.real
def test_tray_without_a_host_says_what_to_do_once(kw_env, bare_desktop, tmp_path):
    log = tmp_path / "tray.log"
    before = len(bare_desktop.notifications())
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(KUBEWARM)],
            env={**kw_env, **bare_desktop.session},
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        assert wait_until(lambda: len(bare_desktop.notifications()) > before, 30), log.read_text()
        assert wait_until(lambda: "To show it" in log.read_text(), 5)
        stderr = log.read_text()
        assert stderr.count("kubewarm: no tray host is running") == 1, stderr
        assert ADVICE_START in stderr and "kubewarm tray --no-icon" in stderr
        mine = bare_desktop.notifications()[before:]
        assert len(mine) == 1 and mine[0].startswith("kubewarm: no tray host|no tray host"), mine
        assert "kubewarm tray --no-icon" in mine[0]
        assert proc.poll() is None  # the warmer keeps working without an icon
    finally:
        kill_pid(proc.pid)
