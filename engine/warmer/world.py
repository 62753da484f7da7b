"""The warmer's view of the world: pins and settings, the kubeconfig files kubectl would read,
the store's entries and expiries, and a cheap signature that says when to read them again.

Reads only; what to do about what it finds is ``policy``'s business.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.contexts import pins, recent
from kubewarm.engine.contexts.state import ContextState, static_states
from kubewarm.engine.contexts.target import Target
from kubewarm.engine.core import paths, settings
from kubewarm.engine.core.entry import decode
from kubewarm.engine.hotpath import file_store_dir
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig.model import KubeconfigError
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores.choice import open_store


@dataclass(frozen=True)
class Snapshot:
    """One full read: every exec context's state from kubeconfig and store, the refresh target
    of each wrapped one, and what could not be read (``problems``, in the user's words)."""

    values: dict[str, str]
    pins: list[str]
    contexts: list
    states: dict[str, ContextState]
    targets: dict[str, Target]
    signature: tuple
    problems: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)  # kept warm: used recently (in ``pins``)


class World:
    """Reads for one warmer; ``environ`` is the warmer's environment (None: ``os.environ``)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(environ) if environ is not None else None
        self._files: list[str] = []  # kubeconfig files last read

    def kubeconfig_files(self, entries: Sequence = ()) -> list:
        """The files kubectl would read in the warmer's environment, then those named by the
        ``KUBECONFIG`` that kubectl calls recorded (a login item has no ``KUBECONFIG`` from
        the shell's profile); a context defined twice is taken from the first, as kubectl does.
        """
        files = kubeconfig_files.resolve(environ=self._environ)
        seen = {f.target for f in files}
        for entry in entries:
            spec = str((entry.recipe.get("env") or {}).get("KUBECONFIG", ""))
            for file in kubeconfig_files.resolve(environ={"KUBECONFIG": spec}) if spec else ():
                if file.target not in seen and file.exists:
                    seen.add(file.target)
                    files.append(file)
        self._files = [f.target for f in files]
        return files

    def watched_files(self) -> list[str]:
        """The settings file, the kubeconfig files (also those last found through a recipe)
        and the file store's directory."""
        files = [f.target for f in kubeconfig_files.resolve(environ=self._environ)]
        extra = [f for f in self._files if f not in files]
        return [paths.settings_file(), *files, *extra, file_store_dir()]

    def signature(self) -> tuple:
        """(path, mtime, size, inode) of every watched file: one stat each, no parsing."""
        result = []
        for path in self.watched_files():
            try:
                st = os.stat(path)
                result.append((path, st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError:
                result.append((path, None))
        return tuple(result)

    def read(self, last_pins: Sequence[str], last_contexts: Sequence) -> Snapshot:
        """Pins, store entries and kubeconfig, read now. What cannot be read becomes a problem,
        and the last pins or contexts stand in for it (a half-written file empties no menu)."""
        signature = self.signature()
        problems = []
        values = settings.load(self._environ)
        try:
            pinned = pins.load(values)
        except pins.PinsError as exc:
            problems.append(str(exc))
            pinned = list(last_pins)
        try:
            entries = cache_admin.list_entries(values)
        except StoreUnavailable as exc:
            problems.append(f"credential store unavailable: {exc}")
            entries = []
        try:
            files = self.kubeconfig_files(entries)
            contexts = kubeconfig_merge.merge_contexts(kubeconfig_merge.load(files))
        except KubeconfigError as exc:
            problems.append(str(exc))
            contexts = list(last_contexts)
        states, targets = static_states(contexts, pinned, entries, values, self._environ)
        used = recent.read(values, targets, pinned)  # KUBEWARM_WARM_RECENT: warmed like pins
        if used:
            pinned = [*pinned, *used]
            states, targets = static_states(contexts, pinned, entries, values, self._environ)
            states = recent.mark(states, used)
        return Snapshot(values, pinned, contexts, states, targets, signature, problems, used)

    @staticmethod
    def stored_expiry(target: Target, now: float) -> tuple[float, float] | None:
        """(expires, lifetime) of the valid credential stored under the target's key, or None."""
        try:
            blob = open_store(dict(target.values)).read(target.key)
            entry = decode(blob) if blob is not None else None
        except (StoreUnavailable, ValueError, OSError):
            return None
        if entry is None or entry.expires <= now:
            return None
        return entry.expires, entry.lifetime
