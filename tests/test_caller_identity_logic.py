"""How the shim names its caller on Windows and macOS, decided from recorded OS answers.

The OS calls themselves (CreateToolhelp32Snapshot, GetProcessTimes, libproc) run in the Windows
and macOS CI jobs (tests/test_shim_rejection.py there); here, the decisions they feed.
"""

import struct

from kubewarm.engine.system import caller

# A process table as CreateToolhelp32Snapshot lists it (pid -> (parent pid, szExeFile)), with
# creation times as GetProcessTimes gives them (FILETIME, 100 ns since 1601): kubectl in
# PowerShell, running the shim through pip's launcher and a venv's python.exe redirector.
KUBECTL = 10244
VENV_TABLE = {
    4: (0, "System"),
    7312: (4120, "WindowsTerminal.exe"),
    9012: (7312, "pwsh.exe"),
    KUBECTL: (9012, "kubectl.exe"),
    11520: (KUBECTL, "kubewarm.exe"),
    11600: (11520, "python.exe"),
    11604: (11600, "python.exe"),  # the shim's interpreter
}
CREATED = {
    4: 133_500_000_000_000_000,
    7312: 133_600_000_000_000_000,
    9012: 133_600_000_100_000_000,
    KUBECTL: 133_600_000_200_000_000,
    11520: 133_600_000_200_100_000,
    11600: 133_600_000_200_200_000,
    11604: 133_600_000_200_300_000,
}


def test_walks_past_the_distlib_launcher_and_the_venv_redirector():
    assert caller.walk_past_launchers(11600, VENV_TABLE, CREATED.get) == KUBECTL


def test_walks_past_the_launcher_of_a_system_wide_install():
    table = {k: v for k, v in VENV_TABLE.items() if k not in (11600, 11604)}
    table[11530] = (11520, "Python.EXE")  # the interpreter, started by kubewarm.exe directly
    assert caller.walk_past_launchers(11520, table, CREATED.get) == KUBECTL


def test_a_second_call_from_the_same_kubectl_names_the_same_caller():
    """client-go asks again after a 401 through new launcher processes: same caller."""
    table = dict(VENV_TABLE)
    created = dict(CREATED)
    table.update({12800: (KUBECTL, "kubewarm.exe"), 12804: (12800, "python.exe")})
    created.update({12800: CREATED[11604] + 10, 12804: CREATED[11604] + 20})
    first = caller.walk_past_launchers(11600, table, created.get)
    second = caller.walk_past_launchers(12804, table, created.get)
    assert first == second == KUBECTL


def test_a_reused_parent_pid_ends_the_walk():
    """kubectl exited and its PID went to a newer process: that one is not the caller."""
    created = dict(CREATED)
    created[KUBECTL] = CREATED[11604] + 1_000  # created after its "child"
    assert caller.walk_past_launchers(11600, VENV_TABLE, created.get) == 11520


def test_a_python_program_above_the_launcher_is_the_caller():
    """Only the immediate parent may be a Python redirector; a Python client library that ran
    the shim is a real caller (walking past it would merge unrelated calls)."""
    table = {
        9012: (7312, "pwsh.exe"),
        9100: (9012, "python3.12.exe"),
        9200: (9100, "kubewarm.exe"),
        9300: (9200, "python.exe"),
    }
    created = {9012: 1, 9100: 2, 9200: 3, 9300: 4}
    assert caller.walk_past_launchers(9300, table, created.get) == 9100


def test_the_walk_stops_where_the_table_or_the_times_run_out():
    assert caller.walk_past_launchers(KUBECTL, VENV_TABLE, CREATED.get) == KUBECTL
    assert caller.walk_past_launchers(555, VENV_TABLE, CREATED.get) == 555  # not in the table
    orphan = {11520: (99999, "kubewarm.exe")}
    assert caller.walk_past_launchers(11520, orphan, CREATED.get) == 11520
    assert caller.walk_past_launchers(11600, VENV_TABLE, {}.get) == 11600  # access denied
    looped = {50: (50, "kubewarm.exe")}
    assert caller.walk_past_launchers(50, looped, lambda pid: 1) == 50
    chain = {pid: (pid + 1, "kubewarm-exec.exe") for pid in range(100, 120)}
    assert caller.walk_past_launchers(100, chain, lambda pid: 0, limit=8) == 108


def test_launcher_names():
    for image in ("kubewarm.exe", "KUBEWARM-EXEC.EXE", "py.exe", "C:\\Windows\\pyw.exe"):
        assert caller.is_launcher(image, depth=3), image
    for image in ("python.exe", "pythonw.exe", "python3.exe", "python3.12.exe"):
        assert caller.is_launcher(image, depth=0), image
        assert not caller.is_launcher(image, depth=1), image
    for image in ("kubectl.exe", "pwsh.exe", "python-helper.exe", "pythonista.exe"):
        assert not caller.is_launcher(image, depth=0), image


# --- macOS: proc_pidinfo(PROC_PIDTBSDINFO) and proc_pidpath -------------------------------


def bsdinfo(pid: int, ppid: int, start_sec: int, start_usec: int) -> bytes:
    """A ``struct proc_bsdinfo`` (<sys/proc_info.h>) as the kernel fills it."""
    head = struct.pack("=12I", 0x4004, 2, 0, pid, ppid, 501, 20, 501, 20, 501, 20, 0)
    names = b"kubectl".ljust(16, b"\0") + b"kubectl".ljust(32, b"\0")
    tail = struct.pack("=5Ii", 12, pid, 0, 0xFFFFFFFF, 0, 0)
    raw = head + names + tail + struct.pack("=QQ", start_sec, start_usec)
    assert len(raw) == caller.BSDINFO_SIZE == 136
    return raw


def test_macos_start_time_from_bsdinfo():
    info = bsdinfo(4242, 901, 1_717_000_000, 4_321)
    assert caller.parse_bsdinfo(4242, 136, info) == "1717000000.004321"
    assert caller.parse_bsdinfo(4243, 136, info) is None  # describes another process
    assert caller.parse_bsdinfo(4242, 0, info) is None  # the call failed (process gone)
    assert caller.parse_bsdinfo(4242, 136, info[:100]) is None


def test_macos_exec_in_the_same_pid_is_another_caller():
    """gcloud's kubectl dispatcher execs a versioned kubectl in its PID: same PID and start
    time, another executable, so its first question is not taken for a rejection."""
    start = caller.parse_bsdinfo(4242, 136, bsdinfo(4242, 901, 1_717_000_000, 4_321))
    dispatcher = b"/opt/google-cloud-sdk/bin/kubectl"
    versioned = b"/opt/google-cloud-sdk/bin/kubectl.1.29"
    buffer = dispatcher + b"\0" * 100
    one = caller.macos_identity_from(4242, start, caller.parse_pidpath(len(dispatcher), buffer))
    buffer = versioned + b"\0" * 100
    two = caller.macos_identity_from(4242, start, caller.parse_pidpath(len(versioned), buffer))
    assert one != two
    assert one.split(":", 1)[0] == two.split(":", 1)[0] == "4242"  # the marker file name
    assert one == "4242:1717000000.004321:/opt/google-cloud-sdk/bin/kubectl"


def test_macos_identity_when_libproc_says_nothing():
    assert caller.parse_pidpath(0, b"\0" * 10) is None
    assert caller.macos_identity_from(77, None, None) == "77"
    assert caller.macos_identity_from(77, "1.000000", None) == "77:1.000000:?"
