"""stderr where there is none, or where it does not reach the terminal.

- ``pythonw`` (the interpreter the Windows Run key starts) has ``sys.stderr = None``: every write
  kubewarm makes to stderr must tolerate it (issue 10, item 4).
- An app stub may send ``sys.stderr`` to the macOS system log (CPython 3.14's
  ``use_system_logger``, Briefcase's ``nslog``): the shim's own lines then go to descriptor 2,
  which is kubectl's stderr (item 9, the shim's part).
"""

import os
import subprocess
import sys

from kubewarm.engine import hotpath

from tests.fixtures_core import fake_plugin_argv, plugin_runs
from tests.shim_helpers import token_of

# The shim as pythonw runs it: no sys.stderr at all.
NO_STDERR = (
    "import sys; sys.stderr = None; sys.argv = ['kubewarm-exec', *sys.argv[1:]];"
    "from kubewarm.engine.hotpath import main; main()"
)


def test_the_store_announcement_without_stderr(no_secret_service, kw_env, plugin_log):
    """The first call decides the store and announces it on stderr: under pythonw it must
    neither raise nor change what kubectl gets."""
    env = {**os.environ, "KUBEWARM_STORE": "auto", "KUBEWARM_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", NO_STDERR, *fake_plugin_argv(log=plugin_log)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert token_of(result.stdout)
    assert b"Traceback" not in result.stderr and b"AttributeError" not in result.stderr
    assert plugin_runs(plugin_log) == 1
    record = os.path.join(env["KUBEWARM_CACHE_DIR"], "store")
    assert os.path.exists(record)  # the decision (and so its announcement) did happen here


def test_a_bad_setting_warning_without_stderr(monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)
    monkeypatch.setattr(hotpath, "_warned", set())
    assert hotpath.number({"KUBEWARM_DEFAULT_TTL": "soon"}, "KUBEWARM_DEFAULT_TTL") == 900.0


class SystemLogStream:
    """Stands for CPython 3.14's ``_apple_support.SystemLog``: what it is given never reaches
    descriptor 2."""

    def __init__(self) -> None:
        self.logged: list[str] = []

    def write(self, text: str) -> int:
        self.logged.append(text)
        return len(text)

    def flush(self) -> None:
        pass


SystemLogStream.__module__ = "_apple_support"


def test_lines_bypass_a_system_log_stderr(monkeypatch, capfd):
    stream = SystemLogStream()
    monkeypatch.setattr(sys, "stderr", stream)
    hotpath.write_stderr("kubewarm: seen in the terminal\n")
    monkeypatch.undo()
    assert stream.logged == []
    assert "kubewarm: seen in the terminal" in capfd.readouterr().err


def test_an_ordinary_stderr_is_written_as_before(monkeypatch):
    stream = SystemLogStream()
    monkeypatch.setattr(SystemLogStream, "__module__", "io")
    monkeypatch.setattr(sys, "stderr", stream)
    hotpath.write_stderr("kubewarm: hello\n")
    monkeypatch.undo()
    assert stream.logged == ["kubewarm: hello\n"]
