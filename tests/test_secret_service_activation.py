"""The shim's lean Secret Service reader never starts a keyring daemon (D-Bus activation):
on a session bus with nothing serving ``org.freedesktop.secrets`` but a service file that
could start it, a read fails at once and starts nothing (NO_AUTO_START on every call)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores import secret_service_lean as lean

from tests.fixtures_core import kill_pid, require
from tests.fixtures_keyring import bus_config
from tests.shim_helpers import wait_for


class ActivatableBus:
    """A private dbus-daemon that can activate ``org.freedesktop.secrets``: the activated
    program writes its PID to ``marker`` and sleeps (never owning the name)."""

    def __init__(self, root: Path) -> None:
        self.marker = root / "activated.pid"
        services = root / "services"
        services.mkdir()
        program = root / "fake-keyring-daemon"
        program.write_text(f"#!/bin/sh\necho $$ > {self.marker}\nexec sleep 30\n")
        program.chmod(0o755)
        (services / "org.freedesktop.secrets.service").write_text(
            f"[D-BUS Service]\nName=org.freedesktop.secrets\nExec={program}\n"
        )
        config = root / "bus.conf"
        config.write_text(bus_config(root / "bus", services))
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file", str(config), "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        self.address = self.proc.stdout.readline().decode().strip()
        if not self.address.startswith("unix:"):
            self.stop()
            raise RuntimeError(f"dbus-daemon did not start: {self.address!r}")

    def activated_pid(self) -> int:
        text = self.marker.read_text().strip() if self.marker.exists() else ""
        return int(text) if text.isdigit() else 0

    def activate_the_ordinary_way(self) -> None:
        """Send a call to org.freedesktop.secrets WITHOUT NO_AUTO_START (jeepney, not waiting
        for the reply): what keyring or secret-tool would do."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(self.address) as conn:
            service = DBusAddress(
                lean.SERVICE_PATH, bus_name=lean.SECRETS, interface=lean.SERVICE_IFACE
            )
            conn.send(new_method_call(service, "OpenSession", "sv", ("plain", ("s", ""))))
            assert wait_for(self.activated_pid, timeout=10)

    def stop(self) -> None:
        if self.activated_pid():
            wait_for(lambda: self.marker.read_text().strip(), timeout=2)
            kill_pid(self.activated_pid(), timeout=2)
        kill_pid(self.proc.pid)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def activatable_bus(tmp_path):
    require(sys.platform.startswith("linux"), "Linux (other platform: Secret Service)")
    require(shutil.which("dbus-daemon") is not None, "dbus-daemon (tests/install-system-deps.sh)")
    bus = ActivatableBus(tmp_path)
    try:
        yield bus
    finally:
        bus.stop()


def _env(bus: ActivatableBus) -> dict[str, str]:
    return {"DBUS_SESSION_BUS_ADDRESS": bus.address}


def test_lean_read_fails_fast_and_starts_no_daemon(activatable_bus):
    reader = lean.SecretServiceReader(_env(activatable_bus))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="no Secret Service is running"):
        reader.read({"service": "kubewarm", "username": "0" * 64})
    assert time.monotonic() - started < 1.0  # not the 2 s timeout of a pending activation
    assert activatable_bus.activated_pid() == 0
    # the bus really would have started one for an ordinary call: the test can fail
    activatable_bus.activate_the_ordinary_way()


def test_collection_state_starts_no_daemon(activatable_bus):
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="no Secret Service is running"):
        lean.collection_state(_env(activatable_bus))
    assert time.monotonic() - started < 1.0
    assert activatable_bus.activated_pid() == 0
