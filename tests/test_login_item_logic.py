"""The login items' contents, decided without macOS or Windows (issue 10, item 8, and the Run
key's quoting and Task Manager switch); tests/test_autostart.py writes them on their own OS."""

import os
import plistlib

from kubewarm.engine.system import autostart


def test_the_launch_agent_logs_where_macos_does_not_purge(tmp_path):
    home = str(tmp_path)
    log_dir = autostart.launch_agent_log_dir(home)
    assert log_dir == os.path.join(home, "Library", "Logs", "kubewarm")
    doc = autostart.launch_agent_plist(["/opt/kw/bin/kubewarm", "tray"], log_dir)
    for key in ("StandardOutPath", "StandardErrorPath"):
        assert doc[key] == os.path.join(log_dir, "tray.out.log")
        assert "Caches" not in str(doc[key])
    assert doc["ProgramArguments"] == ["/opt/kw/bin/kubewarm", "tray"]
    assert doc["RunAtLoad"] is True and doc["KeepAlive"] is False
    plistlib.loads(plistlib.dumps(doc))  # a valid property list


def test_enabling_creates_the_log_folder(tmp_path):
    """launchd fails an agent whose log folder is missing: enabling makes it."""
    agent = autostart.LaunchAgent(home=str(tmp_path))
    assert not os.path.isdir(agent.log_dir)
    agent.enable(["/opt/kw/bin/kubewarm", "tray"])
    assert os.path.isdir(agent.log_dir)
    with open(agent.path, "rb") as fh:
        assert plistlib.load(fh)["StandardErrorPath"].startswith(agent.log_dir)


def test_run_key_command_lines():
    assert (
        autostart.run_key_value(["C:\\Program Files\\kubewarm\\pythonw.exe", "-I", "-m", "x"])
        == '"C:\\Program Files\\kubewarm\\pythonw.exe" -I -m x'
    )
    assert autostart.run_key_value(["C:\\kw\\kubewarm.exe", "tray"]) == "C:\\kw\\kubewarm.exe tray"
    assert autostart.run_key_value(["C:\\a b\\k.exe", 'say "hi"']) == (
        '"C:\\a b\\k.exe" "say \\"hi\\""'
    )


def test_task_managers_startup_switch():
    # recorded StartupApproved\Run values: 02 00.. enabled, 03 00.. + a FILETIME disabled
    assert autostart.startup_approved(bytes.fromhex("020000000000000000000000"))
    assert not autostart.startup_approved(bytes.fromhex("0300000070a1b2c3d4e5f601"))
    assert autostart.startup_approved(None)  # no value: never switched
    assert autostart.startup_approved(b"")
