"""The OS keyring store: credentials in the macOS Keychain, Windows Credential Manager or a
Secret Service (GNOME Keyring, KWallet), written through the ``keyring`` library.

Slow to import (``keyring`` costs ~100 ms), so the shim's hit path never loads this module: it
reads the same items through the lean reader of its OS (``secret_service_lean``, ``macos_lean``,
``windows_lean``). Item names and value layout are in ``keyring_items``.

- Every key is listed in an ``index`` item (keyring cannot enumerate), added before the entry is
  written and removed after it is deleted, so nothing is ever written that a listing misses.
- Windows Credential Manager holds 2,560 bytes (1,280 UTF-16 characters) per item: larger values
  are split into chunk items behind a manifest, written before the manifest and removed after it.
- Secret Service: a locked collection is reported as unusable instead of being unlocked, so
  neither the shim nor a background refresh ever makes the desktop pop up an unlock prompt.
- macOS: an existing item is updated in place (which keeps its access list) instead of being
  deleted and re-added as ``keyring`` does; see the README, "Where credentials are kept". No
  keychain call may show a dialog (one would hang kubectl): reads go through ``macos_lean``
  and keyring's writes and deletes run with user interaction off; keyring writes only an item
  that does not exist yet. Only a store made with ``may_prompt=True`` (the tray, in the
  foreground) lets the keychain ask.

Every failure surfaces as :class:`StoreUnavailable` with a reason in the user's words.
"""

from __future__ import annotations

import importlib
import time
from contextlib import nullcontext

from kubewarm.engine.core.locks import hold
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores.choice import KINDS, describe_kind, known_backend
from kubewarm.engine.stores.keyring_items import (
    GENERATIONS,
    INDEX,
    MAX_CHUNKS,
    SERVICE,
    LayoutError,
    check_key,
    chunk_name,
    encode,
    manifest,
    meta_name,
    parse_manifest,
    read_value,
    split,
    utf16_units,
)

SECRET_SERVICE = "secret-service"  # the rows of choice.KINDS this module treats specially
MACOS = "macos-keychain"
WINDOWS = "windows-credential-manager"
WINDOWS_MAX_UNITS = 1200  # per item; the limit is 1,280 UTF-16 units (2,560 bytes)
_GUARD_SECONDS = 2.0


def kind_of(backend: object) -> str:
    """``secret-service``, ``macos-keychain``, ``windows-credential-manager`` or
    ``other:<module>:<class>`` for a keyring backend object."""
    cls = type(backend)
    for kind, (_, _, module, name, _) in KINDS.items():
        if cls.__module__ == module and cls.__name__ == name:
            return kind
    return f"other:{cls.__module__}:{cls.__name__}"


def detect_backend():
    """The backend ``keyring`` would use (a chainer resolved to one backend).

    Raises StoreUnavailable when there is none (keyring's fail or null backend).
    """
    try:
        import keyring  # lazy: slow path only (keyring costs ~100 ms)
        from keyring.backends import chainer, fail, null  # lazy: slow path only (keyring)

        backend = keyring.get_keyring()
        if isinstance(backend, chainer.ChainerBackend):
            # the backend a chainer writes to; one the shim has a fast reader for, if any
            backends = list(backend.backends)
            fast = [b for b in backends if kind_of(b) in KINDS]
            backend = (fast or backends or [fail.Keyring()])[0]
    except Exception as exc:  # a broken keyring config or backend plugin
        raise StoreUnavailable(f"the keyring library failed to start ({exc})") from None
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        raise StoreUnavailable("no OS keyring is available (keyring found no usable backend)")
    return backend


def load_backend(kind: str):
    """The backend object for a recorded ``kind`` (without keyring's slow auto-detection)."""
    if kind in KINDS:
        _, _, module, name, _ = KINDS[kind]
    elif kind.startswith("other:") and known_backend(kind):
        _, module, name = kind.split(":")
    else:
        return detect_backend()
    try:
        # lazy: slow path only (keyring costs ~100 ms; a recorded backend loads without detection)
        from keyring.backend import KeyringBackend

        cls = getattr(importlib.import_module(module), name)
        if not (isinstance(cls, type) and issubclass(cls, KeyringBackend)):
            raise TypeError(f"{module}.{name} is not a keyring backend")
        return cls()
    except Exception as exc:
        raise StoreUnavailable(f"the {describe_kind(kind)} cannot be used here ({exc})") from None


def _explain(exc: Exception) -> str:
    name = type(exc).__name__
    if name == "KeyringLocked":
        return "the keyring is locked"
    if name == "NoKeyringError":
        return "no OS keyring is available"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {text}" if text else name


class KeyringStore:
    """Entries as OS keyring items; see the module docstring."""

    name = "keyring"

    def __init__(
        self,
        backend=None,
        kind: str | None = None,
        max_units: int | None = None,
        service: str = SERVICE,
        may_prompt: bool = False,
    ) -> None:
        self.service = service
        self.may_prompt = may_prompt
        self._backend = backend
        self.kind = kind or (kind_of(backend) if backend is not None else "")
        self.max_units = max_units
        if max_units is None and self.kind == WINDOWS:
            self.max_units = WINDOWS_MAX_UNITS
        self._checked_at = -1e9

    @property
    def backend(self):
        """The keyring backend object (resolved, with the kind and chunk size, on first use)."""
        if self._backend is None:
            self._backend = load_backend(self.kind) if self.kind else detect_backend()
            self.kind = self.kind or kind_of(self._backend)
            if self.max_units is None and self.kind == WINDOWS:
                self.max_units = WINDOWS_MAX_UNITS
        return self._backend

    def describe(self) -> str:
        """What the user calls the place this store writes to."""
        _ = self.backend
        return describe_kind(self.kind)

    # --- raw items ------------------------------------------------------------------------

    def check(self) -> None:
        """Raise StoreUnavailable unless the keyring can be used without asking the user."""
        _ = self.backend
        if self.kind == SECRET_SERVICE:
            # lazy: platform-only (Secret Service)
            from kubewarm.engine.stores.secret_service_lean import collection_state

            if collection_state() == "locked":
                raise StoreUnavailable("the login keyring (Secret Service) is locked")
        elif self.kind == MACOS:
            # lazy: platform-only (ctypes on Security.framework)
            from kubewarm.engine.stores.macos_lean import keychain_state

            if keychain_state() == "locked":
                raise StoreUnavailable("the login keychain is locked")

    def _guard(self) -> None:
        now = time.monotonic()
        if now - self._checked_at > _GUARD_SECONDS:
            self.check()
            self._checked_at = now

    def _quiet(self):
        """The context for one keyring call: on macOS (unless ``may_prompt``) with keychain
        prompts off, so a refusal fails fast instead of waiting on a dialog."""
        from contextlib import nullcontext  # lazy: start-up

        if self.kind != MACOS or self.may_prompt:
            return nullcontext()
        from kubewarm.engine.stores.macos_lean import no_interaction  # lazy: platform-only

        return no_interaction()

    def _fetch(self, name: str) -> bytes | None:
        if self.kind == MACOS and not self.may_prompt:
            from kubewarm.engine.stores.macos_lean import read_item  # lazy: platform-only

            _ = self.backend
            return read_item(self.service, name)
        try:
            value = self.backend.get_password(self.service, name)
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot read from the {self.describe()}: {_explain(exc)}"
            ) from None
        return None if value is None else value.encode("utf-8")

    def _set(self, name: str, value: str) -> None:
        if self.kind == MACOS:
            # lazy: platform-only (ctypes on Security.framework)
            from kubewarm.engine.stores.macos_lean import update_item

            if update_item(self.service, name, value.encode("utf-8")) == "done":
                return
            # "add": no such item yet; any refusal has raised StoreUnavailable (no fallback
            # through keyring, which would prompt or replace the item's access list)
        for attempt in (1, 2):
            try:
                with self._quiet():
                    self.backend.set_password(self.service, name, value)
                return
            except Exception as exc:
                # once more on a transient failure (seen: gnome-keyring losing a just-created
                # item to a concurrent replace); never on a locked or missing keyring
                problem = _explain(exc)
                if attempt == 2 or type(exc).__name__ in ("KeyringLocked", "NoKeyringError"):
                    raise StoreUnavailable(
                        f"cannot write to the {self.describe()}: {problem}"
                    ) from None

    def _delete(self, name: str) -> bool:
        """Delete one item; False when there was none."""
        # lazy: slow path only (keyring, ~100 ms, loads with the backend)
        from keyring.errors import PasswordDeleteError

        try:
            with self._quiet():
                self.backend.delete_password(self.service, name)
        except PasswordDeleteError:
            return False
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot delete from the {self.describe()}: {_explain(exc)}"
            ) from None
        return True

    def _writing(self):
        """One writer at a time, across processes, where a value spans several items.

        Chunked values (Windows, or ``max_units``) are rewritten item by item. On Windows,
        keyring also keeps the last written item of a service under the service's own name and
        moves the previous one aside on each write, so two concurrent writers of different
        items could move a stale copy over a newer one.
        """
        if self.kind != WINDOWS and not self.max_units:
            return nullcontext()

        return hold("keyring-writes")

    def _read(self, name: str) -> bytes | None:
        try:
            return read_value(self._fetch, name)
        except LayoutError as exc:
            raise StoreUnavailable(str(exc)) from None

    def _drop_chunks(self, name: str, generation: str, start: int = 0) -> None:
        for index in range(start, MAX_CHUNKS):
            if not self._delete(chunk_name(name, generation, index)):
                break

    def _put(self, name: str, value: str) -> None:
        """Write one value, split into chunks where the backend's items are too small."""
        _ = self.backend
        with self._writing():
            self._put_unlocked(name, value)

    def _put_unlocked(self, name: str, value: str) -> None:
        limit = self.max_units
        if not limit:
            self._set(name, value)
            return
        previous = self._fetch(name)
        previous_generation = ""
        if previous is not None and previous[:1] == b"*":
            try:
                previous_generation = parse_manifest(previous)[0]
            except (LayoutError, ValueError):
                previous_generation = "?"
        if utf16_units(value) <= limit:
            self._set(name, value)
            if previous_generation:
                for generation in GENERATIONS:
                    self._drop_chunks(name, generation)
            return
        try:
            pieces = split(value, limit)
        except LayoutError as exc:
            raise StoreUnavailable(
                f"cannot store a value in the {self.describe()}: {exc}"
            ) from None
        if len(pieces) > MAX_CHUNKS:
            raise StoreUnavailable(
                f"a {len(value)}-character value is too large for the {self.describe()}"
            )
        generation = "b" if previous_generation == "a" else "a"
        for index, piece in enumerate(pieces):
            self._set(chunk_name(name, generation, index), piece)
        self._drop_chunks(name, generation, len(pieces))
        self._set(name, manifest(generation, len(pieces), len(value.encode("utf-8"))))
        self._drop_chunks(name, "a" if generation == "b" else "b")

    def _remove(self, name: str) -> None:
        _ = self.backend
        with self._writing():
            self._remove_unlocked(name)

    def _remove_unlocked(self, name: str) -> None:
        previous = self._fetch(name)
        if previous is None:
            return
        self._delete(name)
        if previous[:1] == b"*":
            for generation in GENERATIONS:
                self._drop_chunks(name, generation)

    # --- the index ------------------------------------------------------------------------

    def _index(self) -> list[str]:
        raw = self._read(INDEX)
        if not raw:
            return []
        return [key for key in raw.decode("ascii", "replace").split("\n") if key]

    def _update_index(self, add: str = "", remove: str = "") -> None:
        with hold("keyring-index"):
            keys = self._index()
            wanted = [k for k in keys if k != remove]
            if add and add not in wanted:
                wanted.append(add)
            if not wanted:  # the last key gone: nothing of kubewarm's is left in the keyring
                self._remove(INDEX)
            elif wanted != keys:
                self._put(INDEX, encode("\n".join(sorted(wanted)).encode("ascii")))

    # --- the Store protocol ---------------------------------------------------------------

    def read(self, key: str) -> bytes | None:
        self._guard()
        return self._read(check_key(key))

    def read_meta(self, key: str) -> bytes | None:
        self._guard()
        return self._read(meta_name(key))

    def write(self, key: str, blob: bytes) -> None:
        self._guard()
        if check_key(key) not in self._index():
            self._update_index(add=key)
        self._put(key, encode(blob))

    def write_meta(self, key: str, data: bytes) -> None:
        self._guard()
        if check_key(key) not in self._index():
            self._update_index(add=key)
        self._put(meta_name(key), encode(data))

    def delete(self, key: str) -> None:
        self._guard()
        self._remove(check_key(key))
        self._remove(meta_name(key))
        self._update_index(remove=key)

    def list_keys(self) -> list[str]:
        self._guard()
        return sorted(self._index())
