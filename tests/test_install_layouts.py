"""Which installation am I, and which program starts kubewarm's processes: recorded layouts.

``install.describe`` is a pure function of (sys.executable, package root, platform, version,
prefixes, which paths exist); the layouts below are those of a venv, pipx, the Briefcase Linux
system package (as `packaging/build.py deb` installs it), and the macOS and Windows bundles.
"""

from __future__ import annotations

import subprocess
import sys

from kubewarm.engine.system import autostart, install

CODE = "print(1)"


def test_debian_package_runs_helpers_with_the_system_python_never_the_stub():
    exists = {"/usr/lib/kubewarm/app_packages", "/usr/bin/python3.11", "/usr/bin/kubewarm"}
    inst = install.describe(
        "/usr/bin/kubewarm",
        "/usr/lib/kubewarm/app/kubewarm",
        "linux",
        (3, 11),
        "/usr",
        "/usr",
        exists.__contains__,
    )
    assert inst.kind == install.BRIEFCASE_LINUX and inst.is_bundle
    assert inst.python == "/usr/bin/python3.11"
    assert inst.helper_argv(CODE) == ["/usr/bin/python3.11", "-I", "-c", CODE]
    assert inst.extra_path == ("/usr/lib/kubewarm/app", "/usr/lib/kubewarm/app_packages")
    assert inst.tray_argv() == ["/usr/bin/kubewarm", "tray"]


def test_debian_package_without_a_matching_python_runs_helpers_through_the_app():
    exists = {"/usr/lib/kubewarm/app_packages"}
    inst = install.describe(
        "/usr/bin/kubewarm", "/usr/lib/kubewarm/app/kubewarm", "linux", (3, 11), "/usr", "/usr",
        exists.__contains__,
    )  # fmt: skip
    assert inst.python is None
    assert inst.helper_argv(CODE) == ["/usr/bin/kubewarm", install.HELPER_FLAG, CODE]


def test_macos_bundle_uses_its_one_signed_stub_for_everything():
    app = "/Applications/kubewarm.app/Contents"
    exists = {f"{app}/Resources/app_packages"}
    inst = install.describe(
        f"{app}/MacOS/kubewarm", f"{app}/Resources/app/kubewarm", "darwin", (3, 12),
        f"{app}/Frameworks/Python.framework/Versions/3.12", "/x", exists.__contains__,
    )  # fmt: skip
    assert inst.kind == install.BRIEFCASE_MACOS and inst.python is None
    assert inst.helper_argv(CODE) == [f"{app}/MacOS/kubewarm", install.HELPER_FLAG, CODE]
    assert inst.tray_argv() == [f"{app}/MacOS/kubewarm", "tray"]


def test_windows_bundle_exec_command_is_the_console_stub():
    root = "C:\\Program Files\\kubewarm"
    exists = {root + "\\app_packages", root + "\\kubewarm-exec.exe"}
    inst = install.describe(
        root + "\\kubewarm.exe", root + "\\app\\kubewarm", "win32", (3, 12), root, root,
        exists.__contains__,
    )  # fmt: skip
    assert inst.kind == install.BRIEFCASE_WINDOWS and inst.python is None
    assert inst.exec_program == root + "\\kubewarm-exec.exe"
    assert inst.helper_argv(CODE)[:2] == [root + "\\kubewarm.exe", install.HELPER_FLAG]
    without = install.describe(
        root + "\\kubewarm.exe", root + "\\app\\kubewarm", "win32", (3, 12), root, root,
        {root + "\\app_packages"}.__contains__,
    )  # fmt: skip
    assert without.exec_program is None, "never the GUI stub as an exec command"


def test_venv_and_pipx_keep_the_unresolved_interpreter_path():
    venv = "/home/u/.kubewarm-venv"
    exists = {f"{venv}/bin/kubewarm"}
    inst = install.describe(
        f"{venv}/bin/python", f"{venv}/lib/python3.11/site-packages/kubewarm", "linux",
        (3, 11), venv, "/usr", exists.__contains__,
    )  # fmt: skip
    assert inst.kind == install.VENV and not inst.is_bundle
    assert inst.helper_argv(CODE) == [f"{venv}/bin/python", "-I", "-c", CODE]
    assert inst.tray_argv() == [f"{venv}/bin/kubewarm", "tray"]
    pipx = "/home/u/.local/share/pipx/venvs/kubewarm"
    inst = install.describe(
        f"{pipx}/bin/python", f"{pipx}/lib/python3.11/site-packages/kubewarm", "linux",
        (3, 11), pipx, "/usr", set().__contains__,
    )  # fmt: skip
    assert inst.kind == install.PIPX and inst.python == f"{pipx}/bin/python"
    assert inst.tray_argv() == [f"{pipx}/bin/python", "-I", "-m", "kubewarm.tray", "tray"]


def test_a_python_that_happens_to_sit_in_an_app_folder_is_still_a_python():
    exists = {"/opt/x/app_packages"}
    inst = install.describe(
        "/opt/x/bin/python3", "/opt/x/app/kubewarm", "linux", (3, 11), "/opt/x", "/opt/x",
        exists.__contains__,
    )  # fmt: skip
    assert inst.kind == install.PYTHON and inst.python == "/opt/x/bin/python3"


def test_this_process_and_its_helpers_use_this_venv(tmp_path):
    from kubewarm.engine.cache.credentials import helper_command

    inst = install.current()
    assert inst.kind == install.VENV and inst.python == sys.executable
    argv = helper_command("import kubewarm.engine.hotpath as h;print(h.__file__)")
    assert argv[:2] == [sys.executable, "-I"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.stdout.startswith(inst.package_root), out.stderr
    assert autostart.launch_command()[0] in (inst.app, sys.executable)


def test_windows_console_stub_starts_helpers_and_the_tray_with_the_gui_stub():
    """Run as kubewarm-exec.exe (a stale hit starting its background refresh), helpers still
    go to the GUI stub: the console stub runs the shim, and would open a console window."""
    root = "C:\\Program Files\\kubewarm developers\\kubewarm"
    exists = {root + "\\app_packages", root + "\\kubewarm-exec.exe", root + "\\kubewarm.exe"}
    inst = install.describe(
        root + "\\kubewarm-exec.exe", root + "\\app\\kubewarm", "win32", (3, 12), root, root,
        exists.__contains__,
    )  # fmt: skip
    assert inst.helper_argv(CODE)[:2] == [root + "\\kubewarm.exe", install.HELPER_FLAG]
    assert inst.tray_argv() == [root + "\\kubewarm.exe", "tray"]
    assert inst.exec_program == root + "\\kubewarm-exec.exe"


def test_macos_launcher_runs_the_stub_without_its_nslog_notice():
    from kubewarm.engine.kubeconfig import launcher  # lazy: only this test needs it

    stub = "/Applications/kubewarm.app/Contents/MacOS/kubewarm"
    text = launcher.launcher_text(None, "/x/app/kubewarm", [], stub)
    assert f"IDE_DISABLED_OS_ACTIVITY_DT_MODE=1 exec '{stub}' exec \"$@\"" in text
