"""kubewarm's settings: a flat ``KUBEWARM_NAME=value`` file, overridden by the environment.

The file format is deliberately trivial so that the shim's hit path can read it with
``str.partition`` instead of a TOML/YAML/JSON parser. Every setting has the same name in the
file and in the environment; the environment wins. ``KUBEWARM_PINS`` holds a JSON list and is
read only by the CLI and the tray.
"""

from __future__ import annotations

import os

from kubewarm.engine import paths

# name -> (default, one-line description); the README's settings table mirrors this.
DEFAULTS: dict[str, tuple[str, str]] = {
    "KUBEWARM_STORE": ("auto", "where credentials are kept: auto, keyring or file"),
    "KUBEWARM_REFRESH_WINDOW": (
        "0.25",
        "fraction of a credential's lifetime, at its end, in which it is refreshed",
    ),
    "KUBEWARM_MARGIN_SECONDS": (
        "60",
        "safety margin: with less than this left, refresh before answering",
    ),
    "KUBEWARM_MARGIN_FRACTION": (
        "0.1",
        "safety margin as a fraction of the lifetime; the smaller of the two applies",
    ),
    "KUBEWARM_DEFAULT_TTL": (
        "900",
        "seconds to cache a credential that has no expirationTimestamp",
    ),
    "KUBEWARM_KEY_ENV": ("", "comma-separated extra environment variables that select an identity"),
    "KUBEWARM_REFRESH_TIMEOUT": (
        "120",
        "seconds a background refresh may run before it and its children are killed",
    ),
    "KUBEWARM_DEBUG": ("", "1: one stderr line per shim decision (never a secret)"),
    "KUBEWARM_PINS": ("[]", "contexts the tray keeps warm (JSON list; use `kubewarm pin`)"),
}


def read_file(path: str | None = None) -> dict[str, str]:
    """Parse the settings file; a missing or unreadable file is an empty one."""
    try:
        with open(path or paths.settings_file(), encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if sep and name.startswith("KUBEWARM_"):
            values[name] = value.strip()
    return values


def load(environ: dict[str, str] | os._Environ[str] | None = None) -> dict[str, str]:
    """Effective settings: defaults, then the settings file, then the environment."""
    env = os.environ if environ is None else environ
    values = {name: default for name, (default, _) in DEFAULTS.items()}
    values.update(read_file())
    for name in DEFAULTS:
        if name in env:
            values[name] = env[name]
    return values


def number(values: dict[str, str], name: str) -> float:
    """A numeric setting; a malformed value falls back to its default."""
    try:
        result = float(values.get(name, ""))
    except ValueError:
        result = -1.0
    if result < 0 or result != result:  # negative or NaN
        result = float(DEFAULTS[name][0])
    return result


def write_value(name: str, value: str, path: str | None = None) -> None:
    """Set one setting in the file, keeping every other line (and comment) as it was."""
    if name not in DEFAULTS or "\n" in value:
        raise ValueError(f"not a kubewarm setting: {name}")
    target = path or paths.settings_file()
    try:
        with open(target, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        lines = ["# kubewarm settings; environment variables of the same name override them"]
    out, done = [], False
    for line in lines:
        if line.strip().partition("=")[0].strip() == name:
            if not done:
                out.append(f"{name}={value}")
                done = True
            continue
        out.append(line)
    if not done:
        out.append(f"{name}={value}")
    from kubewarm.engine.atomic_write import write_atomic

    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
    write_atomic(target, ("\n".join(out) + "\n").encode("utf-8"), mode=0o600)
