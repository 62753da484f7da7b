"""The macOS Keychain through the Security framework and ctypes: the shim's macOS hit path, and
in-place updates for the keyring store.

Import budget: ``ctypes`` (no ``ctypes.util``, no keyring). Reads the generic-password items
python-keyring writes (service + account, the password bytes as stored) with
``SecKeychainFindGenericPassword``, user interaction switched off for the call: where the
keychain would ask the user (locked, or this program not on the item's access list), the read
raises :class:`StoreUnavailable` and the caller takes the full path, which may ask.

``update_item`` replaces an existing item's data with ``SecKeychainItemModifyAttributesAndData``.
python-keyring (in some versions) deletes and re-adds the item instead, which gives it a fresh
access list that trusts only the writing program: every refresh would make the next reader
prompt again.

No call here may show a dialog: a keychain prompt in the shim or a background refresh would
hang kubectl. Every call runs with user interaction off (:func:`no_interaction`, also used around
keyring's own calls by the keyring store); a refusal is :class:`StoreUnavailable` and the caller
runs the plugin. Only "no such item" (-25300) lets the keyring store add the item through
keyring (:func:`write_plan`); any other status, -25308 first (the item's access list no longer
trusts this program, e.g. after a Python upgrade), fails fast.
"""

import ctypes
from ctypes import byref, c_int32, c_uint8, c_uint32, c_void_p

from kubewarm.engine.stores import StoreUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    WritePlan = Literal["done", "add", "fail"]

_SECURITY = "/System/Library/Frameworks/Security.framework/Security"
_CORE = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"
ITEM_NOT_FOUND = -25300
INTERACTION_NOT_ALLOWED = -25308
_REASONS = {
    INTERACTION_NOT_ALLOWED: "the keychain needs your permission (locked, or this program is"
    " not on the item's access list)",
    -25293: "the keychain refused access (errSecAuthFailed)",
    -128: "the keychain prompt was cancelled",
    -25294: "no keychain found",
    -25307: "no default keychain",
}
_lib: "tuple[ctypes.CDLL, ctypes.CDLL] | None" = None


def _security() -> "tuple[ctypes.CDLL, ctypes.CDLL]":
    """(Security, CoreFoundation), loaded once, with the signatures of the calls used here."""
    global _lib
    if _lib is None:
        try:
            sec = ctypes.CDLL(_SECURITY)
            core = ctypes.CDLL(_CORE)
        except OSError as exc:
            raise StoreUnavailable(f"the Security framework cannot be loaded ({exc})") from None
        sec.SecKeychainFindGenericPassword.restype = c_int32
        sec.SecKeychainFindGenericPassword.argtypes = (
            c_void_p,
            c_uint32,
            ctypes.c_char_p,
            c_uint32,
            ctypes.c_char_p,
            ctypes.POINTER(c_uint32),
            ctypes.POINTER(c_void_p),
            ctypes.POINTER(c_void_p),
        )
        sec.SecKeychainItemFreeContent.restype = c_int32
        sec.SecKeychainItemFreeContent.argtypes = (c_void_p, c_void_p)
        sec.SecKeychainItemModifyAttributesAndData.restype = c_int32
        sec.SecKeychainItemModifyAttributesAndData.argtypes = (
            c_void_p,
            c_void_p,
            c_uint32,
            ctypes.c_char_p,
        )
        sec.SecKeychainSetUserInteractionAllowed.restype = c_int32
        sec.SecKeychainSetUserInteractionAllowed.argtypes = (c_uint8,)
        sec.SecKeychainGetUserInteractionAllowed.restype = c_int32
        sec.SecKeychainGetUserInteractionAllowed.argtypes = (ctypes.POINTER(c_uint8),)
        sec.SecKeychainCopyDefault.restype = c_int32
        sec.SecKeychainCopyDefault.argtypes = (ctypes.POINTER(c_void_p),)
        sec.SecKeychainGetStatus.restype = c_int32
        sec.SecKeychainGetStatus.argtypes = (c_void_p, ctypes.POINTER(c_uint32))
        core.CFRelease.restype = None
        core.CFRelease.argtypes = (c_void_p,)
        _lib = (sec, core)
    return _lib


def reason(status: int) -> str:
    """An OSStatus in the user's words."""
    return _REASONS.get(status, f"keychain error {status}")


def write_plan(status: int) -> "WritePlan":
    """What a write does after the in-place update returned ``status``: ``done`` (0), ``add``
    the item through keyring (-25300: there is none yet, so no access list to keep), or
    ``fail`` (anything else: keyring's fallback would prompt, or replace the access list)."""
    if status == 0:
        return "done"
    if status == ITEM_NOT_FOUND:
        return "add"
    return "fail"


def _fail(status: int, what: str) -> StoreUnavailable:
    return StoreUnavailable(f"{what}: {reason(status)}")


class _NoInteraction:
    """Switch keychain prompts off for the calls inside; restore the setting after."""

    def __init__(self, sec: ctypes.CDLL) -> None:
        self.sec = sec
        self.before = c_uint8(1)

    def __enter__(self) -> None:
        self.sec.SecKeychainGetUserInteractionAllowed(byref(self.before))
        self.sec.SecKeychainSetUserInteractionAllowed(0)

    def __exit__(self, *exc: object) -> None:
        self.sec.SecKeychainSetUserInteractionAllowed(self.before.value)


def no_interaction() -> _NoInteraction:
    """A context in which no keychain call of this process (keyring's included) may prompt."""
    return _NoInteraction(_security()[0])


def read_item(service: str, account: str) -> bytes | None:
    """The password bytes of the generic-password item (service, account), or None."""
    sec, _core = _security()
    svc, acct = service.encode("utf-8"), account.encode("utf-8")
    length, data = c_uint32(0), c_void_p()
    with _NoInteraction(sec):
        status = sec.SecKeychainFindGenericPassword(
            None, len(svc), svc, len(acct), acct, byref(length), byref(data), None
        )
    if status == ITEM_NOT_FOUND:
        return None
    if status != 0:
        raise _fail(status, "cannot read the keychain item")
    try:
        return ctypes.string_at(data, length.value)
    finally:
        sec.SecKeychainItemFreeContent(None, data)


def update_item(service: str, account: str, value: bytes) -> "WritePlan":
    """Replace an existing item's data in place, keeping its access list, without a prompt.

    ``done``, or ``add`` when there is no such item (the caller adds it through keyring);
    raises StoreUnavailable when the keychain refuses (see :func:`write_plan`)."""
    sec, core = _security()
    svc, acct = service.encode("utf-8"), account.encode("utf-8")
    item = c_void_p()
    with _NoInteraction(sec):
        status = sec.SecKeychainFindGenericPassword(
            None, len(svc), svc, len(acct), acct, None, None, byref(item)
        )
        if status == 0:
            try:
                status = sec.SecKeychainItemModifyAttributesAndData(item, None, len(value), value)
            finally:
                core.CFRelease(item)
    plan = write_plan(status)
    if plan == "fail":
        raise _fail(status, "cannot update the keychain item")
    return plan


def keychain_state() -> str:
    """'unlocked' or 'locked' for the default keychain."""
    sec, core = _security()
    keychain = c_void_p()
    status = sec.SecKeychainCopyDefault(byref(keychain))
    if status != 0:
        raise _fail(status, "cannot open the default keychain")
    try:
        state = c_uint32(0)
        status = sec.SecKeychainGetStatus(keychain, byref(state))
    finally:
        core.CFRelease(keychain)
    if status != 0:
        raise _fail(status, "cannot query the default keychain")
    return "unlocked" if state.value & 1 else "locked"
