"""A real Secret Service for tests: gnome-keyring-daemon in a private D-Bus session.

The ``secret_service`` fixture starts a ``dbus-daemon`` with its own config (no service
directories, so nothing is ever auto-started on it) and ``gnome-keyring-daemon --unlock
--components=secrets`` fed its password on stdin, points ``DBUS_SESSION_BUS_ADDRESS`` at the
private bus, and kills both by PID in teardown. Helpers lock and unlock the login collection,
kill the keyring daemon mid-test, and restart it when it has died on its own.

gnome-keyring-daemon 42.1 (Debian 12) can abort under a burst of short-lived Secret Service
connections: ``GLib-GIO:ERROR ... invoke_get_property_in_idle_cb: assertion failed: (error !=
NULL)`` after ``gkd_secret_service_get_pkcs11_session: assertion 'client' failed`` (a property
read from a caller it has no client record for). A desktop session restarts it (systemd's
``Restart=on-failure``); ``revive_keyring`` does the same, so tests can check that kubewarm
survives the crash rather than fail because of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures_core import kill_pid, require

PASSWORD = b"kubewarm-test-keyring-password"
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>{servicedir}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def bus_config(socket: Path | str, services: Path | str | None = None) -> str:
    """A private session bus's configuration; with ``services``, a folder of activatable
    services (else nothing can be activated on it)."""
    servicedir = f"\n  <servicedir>{services}</servicedir>" if services else ""
    return BUS_CONFIG.format(socket=socket, servicedir=servicedir)


class SecretService:
    """Handle on a private session bus with a gnome-keyring-daemon on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.address = ""
        self.bus_pid = 0
        self.keyring_pid = 0
        self.crashes: list[str] = []  # why each daemon that died on its own died
        self._keyring: subprocess.Popen | None = None
        self._procs: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        """Variables a process needs to use this Secret Service."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def _daemon_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "DISPLAY"))}
        env.update(
            DBUS_SESSION_BUS_ADDRESS=self.address,
            XDG_RUNTIME_DIR=str(self.root / "run"),
            XDG_DATA_HOME=str(self.root / "data"),
            XDG_CONFIG_HOME=str(self.root / "config"),
            HOME=str(self.root),
        )
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def start(self) -> None:
        for sub in ("run", "data", "config"):
            (self.root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        socket = self.root / "run" / "bus"
        config = self.root / "bus.conf"
        config.write_text(bus_config(socket))
        bus = subprocess.Popen(
            ["dbus-daemon", "--config-file", str(config), "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=open(self.root / "dbus.log", "wb"),  # noqa: SIM115 - child keeps it
        )
        self._procs.append(bus)
        self.bus_pid = bus.pid
        line = bus.stdout.readline().decode().strip() if bus.stdout else ""
        if not line.startswith("unix:"):
            raise RuntimeError(f"dbus-daemon did not start: {line!r}")
        self.address = line
        self.start_keyring()

    def start_keyring(self) -> None:
        """Start (or restart) gnome-keyring-daemon on the bus and wait until it answers."""
        keyring = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "gnome-keyring.log", "ab"),  # noqa: SIM115
            env=self._daemon_env(),
        )
        self._procs.append(keyring)
        self._keyring = keyring
        self.keyring_pid = keyring.pid
        assert keyring.stdin is not None
        keyring.stdin.write(PASSWORD)
        keyring.stdin.close()
        deadline = time.monotonic() + 15
        while not self.serving():
            if keyring.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gnome-keyring-daemon did not come up on the private bus")
            time.sleep(0.05)
        # the login collection exists and is unlocked once the alias resolves
        while self.collection_path() in ("", "/"):
            if time.monotonic() > deadline:
                raise RuntimeError("gnome-keyring-daemon has no default collection")
            time.sleep(0.05)

    # --- D-Bus helpers (jeepney: independent of the lean client under test) ---------------

    def _call(self, path: str, iface: str, member: str, sig: str = "", body: tuple = ()):
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(self.address) as conn:
            dest = "org.freedesktop.DBus" if iface == "org.freedesktop.DBus" else None
            address = DBusAddress(path, bus_name=dest or "org.freedesktop.secrets", interface=iface)
            reply = conn.send_and_get_reply(new_method_call(address, member, sig, body), timeout=10)
            if reply.header.message_type.name == "error":
                raise RuntimeError(f"{member}: {reply.body}")
            return reply.body

    def serving(self) -> bool:
        """Whether org.freedesktop.secrets has an owner on the bus."""
        try:
            body = self._call(
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "NameHasOwner",
                "s",
                ("org.freedesktop.secrets",),
            )
        except (OSError, RuntimeError):
            return False
        return bool(body[0])

    def collection_path(self) -> str:
        try:
            return self._call(
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service",
                "ReadAlias",
                "s",
                ("default",),
            )[0]
        except (OSError, RuntimeError):
            return ""

    def lock(self) -> None:
        """Lock the login collection (as the screen locker or `Lock` in Seahorse would)."""
        self._call(
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service",
            "Lock",
            "ao",
            ([self.collection_path()],),
        )

    def unlock(self) -> None:
        """Unlock the login collection with its password, without a prompt."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(self.address) as conn:
            service = DBusAddress(
                "/org/freedesktop/secrets",
                bus_name="org.freedesktop.secrets",
                interface="org.freedesktop.Secret.Service",
            )
            session = conn.send_and_get_reply(
                new_method_call(service, "OpenSession", "sv", ("plain", ("s", ""))), timeout=10
            ).body[1]
            collection = conn.send_and_get_reply(
                new_method_call(service, "ReadAlias", "s", ("default",)), timeout=10
            ).body[0]
            internal = DBusAddress(
                "/org/freedesktop/secrets",
                bus_name="org.freedesktop.secrets",
                interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
            )
            secret = (session, b"", PASSWORD, "text/plain")
            reply = conn.send_and_get_reply(
                new_method_call(
                    internal, "UnlockWithMasterPassword", "o(oayays)", (collection, secret)
                ),
                timeout=10,
            )
            if reply.header.message_type.name == "error":
                raise RuntimeError(f"unlock failed: {reply.body}")

    def is_locked(self) -> bool:
        body = self._call(
            self.collection_path(),
            "org.freedesktop.DBus.Properties",
            "Get",
            "ss",
            ("org.freedesktop.Secret.Collection", "Locked"),
        )
        return bool(body[0][1])

    def kill_keyring(self) -> None:
        """Kill gnome-keyring-daemon (SIGKILL) and wait until its bus name is gone."""
        self._keyring = None  # killed on purpose: not a crash, not revived
        kill_pid(self.keyring_pid, timeout=0.1)
        deadline = time.monotonic() + 10
        while self.serving() and time.monotonic() < deadline:
            time.sleep(0.05)

    def keyring_died(self) -> bool:
        """Whether the current gnome-keyring-daemon has exited without being killed by us."""
        return self._keyring is not None and self._keyring.poll() is not None

    def revive_keyring(self) -> bool:
        """Start gnome-keyring-daemon again if it died on its own (as a session's service
        manager would), recording why it died; True if it had to."""
        if not self.keyring_died():
            return False
        assert self._keyring is not None
        code = self._keyring.returncode
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        log = (self.root / "gnome-keyring.log").read_text(errors="replace").splitlines()
        last = next((line for line in reversed(log) if line.strip()), "")
        self.crashes.append(f"gnome-keyring-daemon {self._keyring.pid} died ({how}): {last}")
        self.start_keyring()
        return True

    def stop(self) -> None:
        for proc in reversed(self._procs):
            kill_pid(proc.pid)
            if proc.stdout:
                proc.stdout.close()
        self._procs.clear()

    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs]


def _reset_keyring_library() -> None:
    """keyring caches its auto-detected backend per process; detect again with the new env."""
    import keyring.core

    try:
        keyring.core.init_backend()
    except Exception:  # detection itself failing (no bus at all) is what some tests want
        from keyring.backends import fail

        keyring.core.set_keyring(fail.Keyring())


@pytest.fixture
def secret_service(tmp_path_factory, monkeypatch):
    """A running, unlocked Secret Service on a private bus, used by this test process and any
    process it starts with ``os.environ`` (or ``kw_env``, when requested before this)."""
    require(sys.platform.startswith("linux"), "Linux (other platform: Secret Service)")
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        require(shutil.which(tool) is not None, f"{tool} (tests/install-system-deps.sh)")
    service = SecretService(tmp_path_factory.mktemp("secret-service"))
    try:
        service.start()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
        for name in ("KEYRING_PROPERTY_PREFERRED_COLLECTION", "PYTHON_KEYRING_BACKEND"):
            monkeypatch.delenv(name, raising=False)
        _reset_keyring_library()
        yield service
    finally:
        service.stop()


@pytest.fixture
def no_secret_service(monkeypatch, tmp_path):
    """No session bus at all (a headless box or a container)."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus-here'}")
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    _reset_keyring_library()
    yield
