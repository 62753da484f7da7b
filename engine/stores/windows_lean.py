"""Windows Credential Manager through ``CredReadW`` and ctypes: the shim's Windows hit path.

Import budget: ``ctypes`` only (no keyring, no pywin32). Reads generic credentials the way
python-keyring's WinVaultKeyring resolves them: the target named after the service when its
user name matches, else the target ``<username>@<service>`` (keyring keeps the most recently
written item of a service under the service's own name and moves the previous one aside). The
blob is UTF-16 as keyring wrote it; it is returned as UTF-8 bytes, so the chunk reassembly in
``keyring_items`` works on the same bytes on every OS.
"""

import ctypes
import sys
from ctypes import byref, c_void_p

from kubewarm.engine.stores import StoreUnavailable

CRED_TYPE_GENERIC = 1
ERROR_NOT_FOUND = 1168
_DWORD = ctypes.c_uint32


class _FILETIME(ctypes.Structure):
    _fields_ = (("low", _DWORD), ("high", _DWORD))


class _CREDENTIALW(ctypes.Structure):
    _fields_ = (
        ("Flags", _DWORD),
        ("Type", _DWORD),
        ("TargetName", ctypes.c_wchar_p),
        ("Comment", ctypes.c_wchar_p),
        ("LastWritten", _FILETIME),
        ("CredentialBlobSize", _DWORD),
        ("CredentialBlob", ctypes.POINTER(ctypes.c_ubyte)),
        ("Persist", _DWORD),
        ("AttributeCount", _DWORD),
        ("Attributes", c_void_p),
        ("TargetAlias", ctypes.c_wchar_p),
        ("UserName", ctypes.c_wchar_p),
    )


_api: "ctypes.CDLL | None" = None
_ONLY_WINDOWS = "Credential Manager cannot be loaded (it exists only on Windows)"


def _advapi() -> ctypes.CDLL:
    global _api
    if _api is None:
        if sys.platform != "win32":  # ctypes.WinDLL exists only there (pyright knows this test)
            raise StoreUnavailable(_ONLY_WINDOWS)
        try:
            lib = ctypes.WinDLL("advapi32", use_last_error=True)
        except OSError as exc:
            raise StoreUnavailable(f"Credential Manager cannot be loaded ({exc})") from None
        lib.CredReadW.restype = ctypes.c_int
        lib.CredReadW.argtypes = (
            ctypes.c_wchar_p,
            _DWORD,
            _DWORD,
            ctypes.POINTER(ctypes.POINTER(_CREDENTIALW)),
        )
        lib.CredFree.restype = None
        lib.CredFree.argtypes = (c_void_p,)
        _api = lib
    return _api


def _read(target: str) -> tuple[str, bytes] | None:
    """(user name, blob) of the generic credential ``target``, or None."""
    if sys.platform != "win32":  # ctypes.get_last_error exists only there
        raise StoreUnavailable(_ONLY_WINDOWS)
    api = _advapi()
    cred = ctypes.POINTER(_CREDENTIALW)()
    if not api.CredReadW(target, CRED_TYPE_GENERIC, 0, byref(cred)):
        error = ctypes.get_last_error()
        if error == ERROR_NOT_FOUND:
            return None
        raise StoreUnavailable(f"Credential Manager refused to read a credential (error {error})")
    try:
        item = cred.contents
        blob = ctypes.string_at(item.CredentialBlob, item.CredentialBlobSize)
        return item.UserName or "", blob
    finally:
        api.CredFree(cred)


def _text(blob: bytes) -> bytes:
    """keyring's own decoding (UTF-16, else UTF-8), returned as UTF-8 bytes."""
    try:
        return blob.decode("utf-16").encode("utf-8")
    except UnicodeDecodeError:
        return blob


def read_item(service: str, username: str) -> bytes | None:
    """The value keyring's ``get_password(service, username)`` would return, as UTF-8 bytes."""
    found = _read(service)
    if found is not None and found[0] == username:
        return _text(found[1])
    found = _read(f"{username}@{service}")
    return None if found is None else _text(found[1])
