"""Log in… from the tray, with real parts: the tray under Xvfb, a real xterm as the desktop's
terminal, and a stand-in ``aws`` first on PATH (``eks get-token`` runs the test plugin,
``sso login`` records how it was run and "logs in" by switching the plugin to token mode).

The context's credential was obtained from a shell with ``AWS_PROFILE=team`` (the shim recorded
that recipe), while the tray itself runs with ``AWS_PROFILE=tray-default``: the login must use
the recipe's profile, in a terminal, and then the tray refreshes the context. The last tests
run ``run_login`` without a GUI: no terminal at all, and a terminal that only runs its command.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from kubewarm.engine.core import events_log
from kubewarm.engine.warmer.login import LoginPlan
from kubewarm.tray import login_terminal

from tests.fixtures_core import FAKE_PLUGIN, kill_pid, require
from tests.fixtures_desktop import wait_until
from tests.shim_helpers import exec_info, run_shim
from tests.tray_helpers import kubewarm, linux_only, plugin_runs, write_config

pytestmark = [pytest.mark.real, linux_only]

LOGIN_TITLE = "aws sso login --profile team"
FAKE_AWS = """#!/bin/sh
# A stand-in for the aws CLI. `eks get-token` runs the test plugin; `sso login` records its
# argv, AWS_PROFILE and working directory, waits for the test's "go" (so the terminal can be
# seen), then logs in (the plugin answers tokens again) or fails with the exit code asked.
if [ "$1" = eks ]; then
  exec "{python}" "{plugin}" --log "{log}" --control "{control}"
fi
printf 'argv=%s\\nAWS_PROFILE=%s\\ncwd=%s\\n' "$*" "$AWS_PROFILE" "$(pwd)" > "{record}"
i=0
while [ ! -e "{go}" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
code=$(cat "{exit_code}" 2>/dev/null || echo 0)
if [ "$code" = 0 ]; then echo '{{"mode": "token"}}' > "{control}"; fi
exit "$code"
"""


class LoginSetup:
    """One pinned context ``prod`` whose plugin is the stand-in ``aws``, and its files."""

    def __init__(self, root: Path, env: dict) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "plugin-runs.log"
        self.control = root / "control.json"
        self.record = root / "login-record.txt"
        self.go = root / "go"
        self.exit_code = root / "login-exit-code"
        self.xterm_log = root / "xterm.log"
        self.terminal = self.bin / "x-terminal-emulator"
        xterm = shutil.which("xterm")
        require(xterm is not None, "xterm (tests/install-system-deps.sh)")
        assert xterm is not None  # tells pyright
        self.terminal.symlink_to(xterm)  # first in TERMINALS: this desktop's terminal is xterm
        aws = self.bin / "aws"
        aws.write_text(
            FAKE_AWS.format(
                python=sys.executable, plugin=FAKE_PLUGIN, log=self.log, control=self.control,
                record=self.record, go=self.go, exit_code=self.exit_code,
            )
        )  # fmt: skip
        aws.chmod(0o755)
        # xterm keeps a log of what it showed: the test reads the terminal's text from it
        self.resources = root / "xterm.resources"
        self.resources.write_text(f"XTerm*logging: true\nXTerm*logFile: {self.xterm_log}\n")
        self.path = f"{self.bin}{os.pathsep}{env['PATH']}"
        self.env = env
        write_config(
            Path(env["HOME"]) / ".kube" / "config",
            {"prod": [str(aws), "eks", "get-token", "--cluster-name", "prod"]},
        )
        kubewarm("inject", env=env)

    def seed_from_a_shell(self) -> None:
        """kubectl from a shell with AWS_PROFILE=team got a credential: the shim recorded the
        recipe (argv and that environment); then the SSO session expires."""
        self.control.write_text(json.dumps({"mode": "token"}))
        shim = run_shim(
            [str(self.bin / "aws"), "eks", "get-token", "--cluster-name", "prod"],
            self.env,
            own_parent=True,
            KUBEWARM_USER="prod",
            KUBERNETES_EXEC_INFO=exec_info(),
            AWS_PROFILE="team",
            PATH=self.path,
        )
        assert shim.returncode == 0, shim.stderr
        kubewarm("pin", "prod", env=self.env)
        self.control.write_text(json.dumps({"mode": "login"}))

    def tray_env(self) -> dict[str, str]:
        return {
            "PATH": self.path,
            "AWS_PROFILE": "tray-default",
            "XENVIRONMENT": str(self.resources),
        }

    def modes(self) -> list[str]:
        return [line.split()[2] for line in plugin_runs(self.log)]

    def pins(self) -> str:
        return kubewarm("pins", env=self.env).stdout

    def terminal_pids(self) -> list[int]:
        """PIDs of the terminals the tray started (argv[0] is our x-terminal-emulator)."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    argv0 = fh.read().split(b"\0", 1)[0]
            except OSError:
                continue
            if argv0 == os.fsencode(self.terminal):
                found.append(int(entry))
        return found

    def terminal_text(self) -> str:
        return self.xterm_log.read_text(errors="replace") if self.xterm_log.exists() else ""


@pytest.fixture
def login_setup(tmp_path, kw_env, desktop):
    (tmp_path / "login").mkdir()
    setup = LoginSetup(tmp_path / "login", kw_env)
    yield setup
    for pid in setup.terminal_pids():  # the tray starts it in a session of its own
        kill_pid(pid)


def _xterm_window(desktop) -> str:
    found = desktop.xdotool("search", "--onlyvisible", "--class", "^XTerm$", check=False).split()
    return found[0] if found else ""


def _icon_title(desktop) -> str:
    """The tray icon window's title (what pystray shows as its tooltip)."""
    for line in desktop.run("xwininfo", "-root", "-tree", check=False).splitlines():
        if '"kubewarm: ' in line:
            return line.split('"', 2)[1]
    return ""


def _tray_needing_login(setup: LoginSetup, tray_app):
    """The tray with prod pinned and warm from the shell's login; Refresh now finds the SSO
    session expired: prod needs login (notified)."""
    setup.seed_from_a_shell()
    app = tray_app(setup.tray_env())
    warm = "kubewarm: Pinned context warm"
    assert wait_until(lambda: _icon_title(app.desktop).startswith(warm), 20), app.output()
    assert setup.modes() == ["token"]  # fresh: the tray did not run the plugin
    app.choose(0, sub_index=1)  # prod > Refresh now
    assert wait_until(lambda: setup.pins().startswith("prod  needs login"), 20), app.output()
    assert setup.modes() == ["token", "login"]
    note = "kubewarm: prod needs login|"
    assert wait_until(lambda: any(n.startswith(note) for n in app.desktop.notifications()), 10)
    return app


def test_log_in_runs_the_recipe_login_in_a_terminal_then_the_context_is_warm(
    login_setup, tray_app, desktop
):
    setup = login_setup
    app = _tray_needing_login(setup, tray_app)
    # prod > Pin, Refresh now, Clear cached credential, Log in…
    app.choose(0, sub_index=3, shot="tray-menu-log-in")
    window = wait_until(lambda: _xterm_window(desktop), 20)
    assert window, f"no terminal window; tray output: {app.output()}"
    assert int(desktop.xdotool("getwindowpid", window)) in setup.terminal_pids()
    assert wait_until(setup.record.exists, 10)
    assert setup.record.read_text() == "argv=sso login --profile team\nAWS_PROFILE=team\ncwd=/\n"
    assert wait_until(lambda: f"kubewarm: {LOGIN_TITLE}" in setup.terminal_text(), 10)
    desktop.screenshot("tray-login-terminal")
    setup.go.touch()  # the person finished the login in the browser
    assert wait_until(lambda: not setup.terminal_pids(), 15), "the terminal did not close"
    assert wait_until(lambda: setup.modes() == ["token", "login", "token"], 15), app.output()
    assert wait_until(lambda: setup.pins().startswith("prod  warm until"), 15), setup.pins()
    assert f"kubewarm: log in|{LOGIN_TITLE}" in desktop.notifications()


def test_a_failed_login_stays_on_screen_until_enter_and_the_context_still_needs_login(
    login_setup, tray_app, desktop
):
    setup = login_setup
    setup.exit_code.write_text("7")
    setup.go.touch()  # the login fails at once
    app = _tray_needing_login(setup, tray_app)
    app.choose(0, sub_index=3)  # prod > Log in…
    note = f"kubewarm: log in|{LOGIN_TITLE} did not succeed (exit 7)"
    assert wait_until(lambda: note in desktop.notifications(), 20), desktop.notifications()
    with open(events_log.log_file(), encoding="utf-8") as fh:  # the tray's log says so too
        assert f"tray: {LOGIN_TITLE} did not succeed (exit 7)" in fh.read()
    failed = "login failed (exit 7); press Enter to close"
    assert wait_until(lambda: failed in setup.terminal_text(), 10), setup.terminal_text()
    window = _xterm_window(desktop)
    assert window and setup.terminal_pids(), "the failed login's terminal did not stay open"
    desktop.screenshot("tray-login-failed-terminal")
    desktop.xdotool("windowfocus", "--sync", window)
    desktop.xdotool("key", "Return")
    assert wait_until(lambda: not setup.terminal_pids(), 10), "Enter did not close the terminal"
    assert setup.pins().startswith("prod  needs login")
    assert setup.modes() == ["token", "login"]  # not refreshed: the login did not succeed


def _plan(code: str, tmp_path: Path) -> LoginPlan:
    """A login command: python writing its environment's AWS_PROFILE, then running ``code``."""
    out = tmp_path / "ran.txt"
    script = (
        "import os, sys; open(sys.argv[1], 'w').write(os.environ.get('AWS_PROFILE', '') + ' '"
        f" + os.getcwd()); {code}"
    )
    return LoginPlan((sys.executable, "-I", "-c", script, str(out)), "test login")


class Outcome:
    """done() / failed(why) callbacks, waited for (bounded)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.result = ""

    def done(self) -> None:
        self.result = "done"
        self.event.set()

    def failed(self, why: str) -> None:
        self.result = "failed: " + why
        self.event.set()

    def wait(self) -> str:
        assert self.event.wait(20), "neither done() nor failed() was called"
        return self.result


@pytest.mark.parametrize(
    "code, expected",
    [("pass", "done"), ("sys.exit(3)", "failed: test login did not succeed (exit 3)")],
)
def test_without_a_terminal_the_login_runs_directly(code, expected, tmp_path, monkeypatch):
    empty = tmp_path / "no-terminals"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert login_terminal.terminal() is None
    outcome = Outcome()
    plan = _plan(code, tmp_path)
    login_terminal.run_login(plan, {"AWS_PROFILE": "team"}, outcome.done, outcome.failed)
    assert outcome.wait() == expected
    assert (tmp_path / "ran.txt").read_text() == "team /"


def test_a_command_that_cannot_start_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    outcome = Outcome()
    plan = LoginPlan((str(tmp_path / "no-such-login"),), "missing login")
    login_terminal.run_login(plan, {}, outcome.done, outcome.failed)
    assert outcome.result.startswith("failed: cannot run ") and "No such file" in outcome.result


@pytest.mark.parametrize("code, expected", [("pass", "done"), ("sys.exit(5)", "failed")])
def test_the_terminal_status_is_written_in_a_private_directory_removed_after(
    code, expected, tmp_path, monkeypatch
):
    """Not in the shared temp dir, where the shell's `>` would follow a planted symlink."""
    terminal = tmp_path / "bin" / "x-terminal-emulator"
    terminal.parent.mkdir()
    terminal.write_text(
        '#!/bin/sh\n# a terminal that only runs its command\nshift\nexec "$@" </dev/null\n'
    )
    terminal.chmod(0o755)
    monkeypatch.setenv("PATH", f"{terminal.parent}{os.pathsep}{os.environ['PATH']}")
    assert login_terminal.terminal() == [str(terminal), "-e"]
    seen = tmp_path / "marker-dir.json"
    script = (
        "import json, os, sys; d = os.path.dirname(os.environ['KUBEWARM_LOGIN_MARKER']);"
        " s = os.lstat(d); json.dump([d, s.st_mode & 0o7777, s.st_uid], open(sys.argv[1], 'w'));"
        f" {code}"
    )
    plan = LoginPlan((sys.executable, "-I", "-c", script, str(seen)), "test login")
    outcome = Outcome()
    login_terminal.run_login(plan, {}, outcome.done, outcome.failed)
    assert outcome.wait().startswith(expected)
    folder, mode, uid = json.loads(seen.read_text())
    assert (mode, uid) == (0o700, tmp_path.stat().st_uid), folder  # mine, mine only
    assert not os.path.lexists(folder)  # nothing left behind


def test_closing_the_terminal_before_the_login_finished_is_reported_at_once(
    login_setup, tray_app, desktop
):
    """The person closes the terminal window instead of logging in: the tray says so within
    seconds (not after its 15-minute wait), and the context still needs login."""
    setup = login_setup
    app = _tray_needing_login(setup, tray_app)
    app.choose(0, sub_index=3)  # prod > Log in…
    window = wait_until(lambda: _xterm_window(desktop), 20)
    assert window, f"no terminal window; tray output: {app.output()}"
    assert wait_until(setup.record.exists, 10)  # the login is waiting for the browser
    time.sleep(3)  # bounded: a terminal closed at once would look like a handed-off one
    desktop.xdotool("windowkill", window)  # what the window's close button ends in
    note = f"kubewarm: log in|{LOGIN_TITLE} did not succeed (the terminal was closed before"
    assert wait_until(lambda: any(n.startswith(note) for n in desktop.notifications()), 10), (
        desktop.notifications()
    )
    assert setup.pins().startswith("prod  needs login")
    assert setup.modes() == ["token", "login"]


def test_status_folders_left_by_a_stopped_tray_are_removed(tmp_path, monkeypatch):
    """A tray that stopped during a login leaves its status folder; the next login removes
    those older than any wait (this user's only, and only kubewarm's)."""
    monkeypatch.setattr(login_terminal.tempfile, "tempdir", str(tmp_path))
    old, recent, other = (tmp_path / n for n in ("kubewarm-login-old", "kubewarm-login-new", "x"))
    for folder in (old, recent, other):
        folder.mkdir()
        (folder / "status").write_text("0\n")
    day_ago = time.time() - 86400
    for path in (old / "status", old, other):
        os.utime(path, (day_ago, day_ago))
    monkeypatch.setenv("PATH", str(tmp_path / "no-terminal-here"))
    outcome = Outcome()
    plan = LoginPlan((sys.executable, "-I", "-c", "pass"), "test login")
    login_terminal.run_login(plan, {}, outcome.done, outcome.failed)
    assert outcome.wait() == "done"
    assert not old.exists() and recent.exists() and other.exists()
