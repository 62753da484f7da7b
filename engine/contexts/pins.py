"""Pinned contexts: the kubeconfig contexts the tray (or ``kubewarm tray --no-icon``) keeps warm.

Pins live in the settings file as ``KUBEWARM_PINS=["prod","staging"]`` (a JSON list of context
names), so they persist across restarts and a running tray sees CLI changes the next time it
looks at the file. Every change is a read-modify-write under a lock, so the tray's Pin
checkbox and ``kubewarm pin`` in a terminal cannot lose each other's edits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping

from kubewarm.engine.core import paths, settings
from kubewarm.engine.core.locks import hold
from kubewarm.engine.errors import KubewarmError

SETTING = "KUBEWARM_PINS"


class PinsError(KubewarmError):
    """The pins cannot be read or changed; the message names the file or variable."""


def _parse(raw: str, where: str) -> list[str]:
    try:
        doc = json.loads(raw or "[]")
    except ValueError:
        doc = None
    if not isinstance(doc, list) or not all(isinstance(n, str) for n in doc):
        raise PinsError(f"{where}: {SETTING} must be a JSON list of context names, not {raw!r}")
    result: list[str] = []
    for name in doc:
        if name and name not in result:
            result.append(name)
    return result


def load(values: Mapping[str, str] | None = None) -> list[str]:
    """The pinned context names, in the order they were pinned."""
    if values is None:
        values = settings.load()
    where = "environment" if SETTING in os.environ else f"settings file {paths.settings_file()}"
    return _parse(values.get(SETTING, "[]"), where)


def _check_writable() -> None:
    if SETTING in os.environ:
        raise PinsError(
            f"{SETTING} is set in the environment and overrides the settings file;"
            " unset it to pin or unpin contexts"
        )


def _update(change) -> list[str]:
    """Apply ``change(current) -> new`` to the pins in the settings file, under a lock."""
    _check_writable()
    with hold("settings-file"):
        current = _parse(
            settings.read_file().get(SETTING, "[]"), f"settings file {paths.settings_file()}"
        )
        wanted = change(list(current))
        if wanted != current:
            try:
                settings.write_value(SETTING, json.dumps(wanted, ensure_ascii=False))
            except OSError as exc:
                raise PinsError(
                    f"cannot write settings file {paths.settings_file()}: {exc.strerror or exc}"
                ) from None
        return wanted


def pin(names: Iterable[str]) -> list[str]:
    """Pin ``names`` (already pinned ones stay where they are); returns the names newly pinned."""
    names = [n for n in names if n]
    before: list[str] = []

    def change(current: list[str]) -> list[str]:
        before.extend(current)
        for name in names:
            if name not in current:
                current.append(name)
        return current

    after = _update(change)
    return [n for n in after if n not in before]


def unpin(names: Iterable[str]) -> list[str]:
    """Unpin ``names``; returns those that were pinned."""
    names = set(names)
    before: list[str] = []

    def change(current: list[str]) -> list[str]:
        before.extend(current)
        return [n for n in current if n not in names]

    _update(change)
    return [n for n in before if n in names]


def set_pinned(name: str, pinned: bool) -> None:
    """Pin or unpin one context (the tray's checkbox)."""
    if pinned:
        pin([name])
    else:
        unpin([name])


def is_pinned(name: str, values: Mapping[str, str] | None = None) -> bool:
    return name in load(values)
