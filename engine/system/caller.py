"""Who called the shim, on Windows and macOS: the process that will ask again after a 401.

``hotpath.caller_identity`` reads ``/proc`` on Linux and imports this module only on Windows and
macOS (so the Linux hit path's import budget is untouched). Import budget: ``os`` and ``sys`` at
load; ``ctypes`` and ``struct`` inside the OS readers only.

The decisions are pure functions of recorded inputs, tested on Linux:

- Windows (:func:`walk_past_launchers`): kubectl runs ``kubewarm.exe`` (pip's distlib launcher,
  a new process per call), which runs the venv's ``python.exe`` redirector (another one), which
  runs the real interpreter. The parent PID alone would change on every call, so a token the API
  server refused would be served until it neared expiry. The walk goes up past those launchers
  in a ``CreateToolhelp32Snapshot`` table; a parent created after its child is a reused PID and
  ends the walk. The identity adds the creation time (``GetProcessTimes``) and image path.
- macOS (:func:`parse_bsdinfo`): gcloud's ``kubectl`` dispatcher runs the plugin, then execs a
  versioned kubectl in the same PID, which asks again legitimately. The identity is PID, start
  time (``proc_pidinfo(PROC_PIDTBSDINFO)``) and executable path (``proc_pidpath``), as on Linux.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

MAX_WALK = 8  # launchers above the caller; a longer chain is not a launcher chain
_LAUNCHER_STEMS = frozenset({"kubewarm", "kubewarm-exec", "py", "pyw"})


def identity(pid: int, start: object, exe: str) -> str:
    """``pid:start:exe``, the format the served markers store (PID first: it names the file)."""
    return f"{pid}:{start}:{exe}"


# --- Windows --------------------------------------------------------------------------------


def _stem(image: str) -> str:
    name = image.replace("/", "\\").rsplit("\\", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def is_python(image: str) -> bool:
    """``python.exe``, ``pythonw.exe``, ``python3.exe``, ``python3.12.exe`` (any case)."""
    stem = _stem(image)
    return stem.startswith("python") and all(c in "0123456789.w" for c in stem[6:])


def is_launcher(image: str, depth: int) -> bool:
    """Whether a process with this image, ``depth`` levels above the shim's interpreter, only
    relays for the real caller: kubewarm's console-script launchers and ``py.exe`` at any depth,
    a Python interpreter only as the immediate parent (the venv's ``python.exe`` redirector; a
    Python program higher up is a real caller, e.g. a client library running the shim)."""
    if _stem(image) in _LAUNCHER_STEMS:
        return True
    return depth == 0 and is_python(image)


def walk_past_launchers(
    parent: int,
    table: "Mapping[int, tuple[int, str]]",
    created: "Callable[[int], int | None]",
    limit: int = MAX_WALK,
) -> int:
    """The PID of the real caller, starting from the shim's parent.

    ``table`` maps PID -> (parent PID, image name), as a process snapshot lists them;
    ``created(pid)`` is the creation time (any monotonic unit; None when unknown). The walk stops
    at a process that is not a launcher, one whose parent is gone or unknown, one whose parent
    was created after it (that PID was reused by an unrelated process), or after ``limit`` steps.
    """
    current = parent
    for depth in range(limit):
        row = table.get(current)
        if row is None or not is_launcher(row[1], depth):
            return current
        up = row[0]
        if up == current or up not in table:
            return current
        mine, theirs = created(current), created(up)
        if mine is None or theirs is None or theirs > mine:
            return current
        current = up
    return current


def _windows_identity() -> str:  # pragma: no cover - runs on the Windows CI job
    """The caller's identity from a process snapshot (see the module docstring)."""
    import ctypes  # lazy: platform-only
    from ctypes import byref, c_size_t, c_uint32, c_void_p, c_wchar  # lazy: platform-only

    dword = c_uint32

    class ProcessEntry(ctypes.Structure):  # PROCESSENTRY32W (tlhelp32.h)
        _fields_ = (
            ("dwSize", dword),
            ("cntUsage", dword),
            ("th32ProcessID", dword),
            ("th32DefaultHeapID", c_size_t),  # ULONG_PTR
            ("th32ModuleID", dword),
            ("cntThreads", dword),
            ("th32ParentProcessID", dword),
            ("pcPriClassBase", ctypes.c_int32),
            ("dwFlags", dword),
            ("szExeFile", c_wchar * 260),
        )

    class FileTime(ctypes.Structure):
        _fields_ = (("low", dword), ("high", dword))

    kernel = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel.CreateToolhelp32Snapshot.restype = c_void_p
    kernel.CreateToolhelp32Snapshot.argtypes = (dword, dword)
    for name in ("Process32FirstW", "Process32NextW"):
        getattr(kernel, name).restype = ctypes.c_int
        getattr(kernel, name).argtypes = (c_void_p, ctypes.POINTER(ProcessEntry))
    kernel.OpenProcess.restype = c_void_p
    kernel.OpenProcess.argtypes = (dword, ctypes.c_int, dword)
    kernel.GetProcessTimes.restype = ctypes.c_int
    kernel.GetProcessTimes.argtypes = (c_void_p,) + (ctypes.POINTER(FileTime),) * 4
    kernel.QueryFullProcessImageNameW.restype = ctypes.c_int
    kernel.QueryFullProcessImageNameW.argtypes = (
        c_void_p,
        dword,
        ctypes.c_wchar_p,
        ctypes.POINTER(dword),
    )
    kernel.CloseHandle.restype = ctypes.c_int
    kernel.CloseHandle.argtypes = (c_void_p,)

    table: dict[int, tuple[int, str]] = {}
    snapshot = kernel.CreateToolhelp32Snapshot(0x2, 0)  # TH32CS_SNAPPROCESS
    if snapshot is not None and snapshot != c_void_p(-1).value:  # INVALID_HANDLE_VALUE
        try:
            entry = ProcessEntry()
            entry.dwSize = ctypes.sizeof(ProcessEntry)
            ok = kernel.Process32FirstW(snapshot, byref(entry))
            while ok and len(table) < 100_000:
                table[entry.th32ProcessID] = (entry.th32ParentProcessID, entry.szExeFile)
                ok = kernel.Process32NextW(snapshot, byref(entry))
        finally:
            kernel.CloseHandle(snapshot)

    details: dict[int, tuple[int | None, str]] = {}

    def lookup(pid: int) -> tuple[int | None, str]:
        if pid not in details:
            started, image = None, ""
            handle = kernel.OpenProcess(0x1000, 0, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
            if handle:
                try:
                    times = [FileTime() for _ in range(4)]
                    if kernel.GetProcessTimes(handle, *(byref(t) for t in times)):
                        started = (times[0].high << 32) | times[0].low
                    size = dword(32768)
                    buffer = ctypes.create_unicode_buffer(size.value)
                    if kernel.QueryFullProcessImageNameW(handle, 0, buffer, byref(size)):
                        image = buffer.value
                finally:
                    kernel.CloseHandle(handle)
            details[pid] = (started, image)
        return details[pid]

    pid = walk_past_launchers(os.getppid(), table, lambda p: lookup(p)[0])
    started, image = lookup(pid)
    return identity(pid, "?" if started is None else started, image or table.get(pid, (0, ""))[1])


# --- macOS ----------------------------------------------------------------------------------

PROC_PIDTBSDINFO = 3
BSDINFO_SIZE = 136  # sizeof(struct proc_bsdinfo), <sys/proc_info.h>
_BSDINFO_PID = 12  # offset of pbi_pid (after pbi_flags, pbi_status, pbi_xstatus)
_BSDINFO_START = 120  # offset of pbi_start_tvsec, then pbi_start_tvusec (two uint64)


def parse_bsdinfo(pid: int, returned: int, info: bytes) -> str | None:
    """``sec.usec`` start time from what ``proc_pidinfo(pid, PROC_PIDTBSDINFO, ...)`` returned
    (its return value and the buffer); None when the call failed or describes another process."""
    import struct  # lazy: start-up (the hit path: only on macOS)

    if returned != BSDINFO_SIZE or len(info) < BSDINFO_SIZE:
        return None
    (found,) = struct.unpack_from("=I", info, _BSDINFO_PID)
    if found != pid:
        return None
    seconds, micros = struct.unpack_from("=QQ", info, _BSDINFO_START)
    return f"{seconds}.{micros:06d}"


def parse_pidpath(returned: int, buffer: bytes) -> str | None:
    """The executable path from ``proc_pidpath``'s return value (the length, 0 on failure)."""
    if returned <= 0 or returned > len(buffer):
        return None
    return buffer[:returned].decode("utf-8", "surrogateescape")


def macos_identity_from(pid: int, start: str | None, path: str | None) -> str:
    """The identity, or the PID alone when libproc could tell neither (still correct, coarser)."""
    if start is None and path is None:
        return str(pid)
    return identity(pid, start or "?", path or "?")


def _macos_identity() -> str:  # pragma: no cover - runs on the macOS CI job
    import ctypes  # lazy: platform-only

    pid = os.getppid()
    try:
        libproc = ctypes.CDLL("/usr/lib/libSystem.B.dylib")  # re-exports libproc
    except OSError:
        return str(pid)
    libproc.proc_pidpath.restype = ctypes.c_int
    libproc.proc_pidpath.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32)
    libproc.proc_pidinfo.restype = ctypes.c_int
    libproc.proc_pidinfo.argtypes = (
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_uint64,
        ctypes.c_void_p,
        ctypes.c_int,
    )
    path = ctypes.create_string_buffer(4096)  # PROC_PIDPATHINFO_MAXSIZE
    path_len = libproc.proc_pidpath(pid, path, len(path))
    info = ctypes.create_string_buffer(BSDINFO_SIZE)
    info_len = libproc.proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, info, BSDINFO_SIZE)
    return macos_identity_from(
        pid, parse_bsdinfo(pid, info_len, info.raw), parse_pidpath(path_len, path.raw)
    )


def caller_identity() -> str:
    """This OS's caller identity; the parent PID alone if the OS calls fail."""
    try:
        if sys.platform == "win32":
            return _windows_identity()
        if sys.platform == "darwin":
            return _macos_identity()
    except (OSError, AttributeError, ValueError):
        pass
    return str(os.getppid())
