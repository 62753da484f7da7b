"""The shim's hit path, in one module: every kubectl call pays for what this file loads.

Import budget (held by tests/test_shim_imports.py): the builtins ``os``, ``sys``, ``time`` and
the ``_sha256`` C module — nothing else at load time. No json, re, argparse, subprocess, yaml,
keyring, platformdirs, datetime, typing or collections; and no other kubewarm module, because
each extra module costs ~0.2 ms of start-up. Everything beyond a fresh hit is delegated to
``kubewarm.engine.cache.credentials``, imported only when needed. The public names live on in the
modules that say what they hold (``paths``, ``settings``, ``cache_key``, ``entry``,
``served``), which re-export them from here.

Decisions, by the cached credential's remaining life:
- more than the refresh window left: **hit**, the stored bytes go to stdout unchanged;
- inside the window but more than the safety margin left: **stale**, served, and refreshed by
  a detached background process (stale-while-revalidate);
- within the margin, absent, unreadable, or rejected by the API server: the plugin runs now.
"""

import os
import sys
import time

try:  # the C module alone: hashlib would also load OpenSSL (~4 ms)
    from _sha256 import sha256  # pyright: ignore[reportMissingModuleSource] stub: typings/
except ImportError:  # pragma: no cover - interpreters built without it
    from hashlib import sha256

APP = "kubewarm"
BACKGROUND_ENV = "KUBEWARM_BACKGROUND_REFRESH"


def _store_unavailable(message: str) -> Exception:
    """A StoreUnavailable error (its class is created only when one is raised)."""
    # lazy: start-up (the error classes load only when one is raised)
    from kubewarm.engine.errors import StoreUnavailable

    return StoreUnavailable(message)


def _bad_entry(message: str) -> Exception:
    # lazy: start-up (the error classes load only when one is raised)
    from kubewarm.engine.errors import BadEntry

    return BadEntry(message)


# --- paths (equal to platformdirs with appauthor=False; a test holds that) -------------------


def _home() -> str:
    return os.path.expanduser("~")


def config_dir() -> str:
    """Directory of the settings file (pins and settings)."""
    override = os.environ.get("KUBEWARM_CONFIG_DIR")
    if override:
        return override
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(_home(), "AppData", "Local")
        return os.path.join(base, APP)
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Application Support", APP)
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(_home(), ".config")
    return os.path.join(base, APP)


def cache_dir() -> str:
    """Directory of the file store, lock files and served-credential markers."""
    override = os.environ.get("KUBEWARM_CACHE_DIR")
    if override:
        return override
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(_home(), "AppData", "Local")
        return os.path.join(base, APP, "Cache")
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Caches", APP)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(_home(), ".cache")
    return os.path.join(base, APP)


def settings_file() -> str:
    return os.path.join(config_dir(), "settings.conf")


# --- settings: a flat KUBEWARM_NAME=value file, overridden by the environment ----------------

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
    "KUBEWARM_BACKUPS": ("10", "kubeconfig backups kept per file (taken before each change)"),
}


def read_settings_file(path: str | None = None) -> dict[str, str]:
    """Parse the settings file; a missing or unreadable file is an empty one."""
    try:
        with open(path or settings_file(), encoding="utf-8") as fh:
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


def load_settings(environ=None) -> dict[str, str]:
    """Effective settings: defaults, then the settings file, then the environment."""
    env = os.environ if environ is None else environ
    values = {name: default for name, (default, _) in DEFAULTS.items()}
    values.update(read_settings_file())
    for name in DEFAULTS:
        if name in env:
            values[name] = env[name]
    return values


def number(values: dict[str, str], name: str) -> float:
    """A numeric setting; a malformed or negative value falls back to its default."""
    try:
        result = float(values.get(name, ""))
    except ValueError:
        result = -1.0
    if result < 0 or result != result:  # negative or NaN
        result = float(DEFAULTS[name][0])
    return result


def debug_enabled() -> bool:
    return os.environ.get("KUBEWARM_DEBUG", "").strip().lower() not in (
        "",
        "0",
        "false",
        "no",
        "off",
    )


def debug_log(message: str) -> None:
    """Write ``kubewarm: message`` to stderr when debugging is on. Never pass a secret."""
    if debug_enabled():
        try:
            sys.stderr.write("kubewarm: " + message + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


# --- the cache key ------------------------------------------------------------------------

KEY_VERSION = "kubewarm-key-v1"

IDENTITY_ENV: tuple[str, ...] = (
    "KUBEWARM_USER",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_VAULT",
    "AWS_ACCESS_KEY_ID",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "CLOUDSDK_CONFIG",
    "CLOUDSDK_CORE_ACCOUNT",
    "CLOUDSDK_CORE_PROJECT",
    "CLOUDSDK_ACTIVE_CONFIG_NAME",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_CONFIG_DIR",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
)

_INTERACTIVE_TRUE = '"interactive":true}'
_INTERACTIVE_FALSE = '"interactive":false}'


def identity_env_names(extra: str = "") -> tuple[str, ...]:
    """The built-in identity variables plus the comma-separated ``KUBEWARM_KEY_ENV`` names."""
    names = list(IDENTITY_ENV)
    for name in extra.split(","):
        name = name.strip()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def normalize_exec_info(info: str) -> str:
    """``KUBERNETES_EXEC_INFO`` with ``spec.interactive`` set to false.

    client-go serialises ``spec`` last and ``interactive`` as its last field, so the value is
    always at the very end of the document; nothing else in it is touched.
    """
    stripped = info.rstrip()
    if stripped.endswith(_INTERACTIVE_TRUE + "}"):
        return stripped[: -len(_INTERACTIVE_TRUE) - 1] + _INTERACTIVE_FALSE + "}"
    return stripped


def compute_key(argv: list[str], env, names: tuple[str, ...]) -> str:
    """The hex cache key: SHA-256 over the length-prefixed plugin argv, the value (or absence)
    of every identity variable, and the normalised ``KUBERNETES_EXEC_INFO`` (requested
    apiVersion, and the cluster's server and CA with ``provideClusterInfo``)."""
    parts = [KEY_VERSION, str(len(argv))]
    parts.extend(argv)
    for name in sorted(set(names)):
        value = env.get(name)
        parts.append(name)
        parts.append("\x00unset" if value is None else "=" + value)
    parts.append(normalize_exec_info(env.get("KUBERNETES_EXEC_INFO", "")))
    digest = sha256()
    for part in parts:
        raw = part.encode("utf-8", "surrogateescape")
        digest.update(b"%d:" % len(raw))
        digest.update(raw)
    return digest.hexdigest()


# --- entries: "kubewarm1 <expires> <obtained> <explicit> <sha256>\n<plugin bytes>" ----------
# (see entry.py; the payload is the plugin's ExecCredential exactly as printed, and the checksum
# makes a torn or tampered entry detectable, so a broken one is never served)

MAGIC = b"kubewarm1"


def parse_entry(blob: bytes) -> tuple[bytes, float, float, bool, str]:
    """(payload, expires, obtained, explicit, digest) of a stored entry, verified; raises
    ``errors.BadEntry`` on anything unexpected. ``entry.Entry`` wraps this for the slow path."""
    newline = blob.find(b"\n")
    if newline < 0:
        raise _bad_entry("no header")
    fields = blob[:newline].split(b" ")
    if len(fields) != 5 or fields[0] != MAGIC:
        raise _bad_entry("unknown header")
    payload = blob[newline + 1 :]
    digest = fields[4].decode("ascii", "replace")
    if sha256(payload).hexdigest() != digest:
        raise _bad_entry("checksum mismatch")
    try:
        expires, obtained = float(int(fields[1])), float(int(fields[2]))
    except ValueError as exc:
        raise _bad_entry("bad timestamps") from exc
    return payload, expires, obtained, fields[3] == b"1", digest


def timing(values: dict[str, str], lifetime: float) -> tuple[float, float]:
    """(refresh window, safety margin) in seconds for a credential of ``lifetime`` seconds."""
    window = lifetime * min(number(values, "KUBEWARM_REFRESH_WINDOW"), 1.0)
    margin = min(
        number(values, "KUBEWARM_MARGIN_SECONDS"),
        lifetime * number(values, "KUBEWARM_MARGIN_FRACTION"),
    )
    return window, min(margin, window)


# --- the file store's read side ----------------------------------------------------------

ENTRY_SUFFIX = ".cred"
META_SUFFIX = ".meta"


def file_store_dir() -> str:
    return os.path.join(cache_dir(), "credentials")


def check_private_dir(path: str) -> None:
    """Raise StoreUnavailable unless ``path`` is a directory the user alone controls
    (FileNotFoundError when it does not exist)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _store_unavailable(f"cannot stat {path}: {exc.strerror}") from exc
    if os.name != "posix":  # a test pyright understands: os.getuid exists only on POSIX
        return
    if st.st_uid != os.getuid():
        raise _store_unavailable(f"{path} is owned by uid {st.st_uid}, not by you")
    if st.st_mode & 0o022:
        raise _store_unavailable(f"{path} is writable by others (mode {st.st_mode & 0o777:o})")


def read_private_file(path: str) -> bytes | None:
    """The file's bytes; None when missing, or owned by another user or readable by others."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _store_unavailable(f"cannot open {os.path.basename(path)}: {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if os.name == "posix" and (st.st_uid != os.getuid() or st.st_mode & 0o077):
            return None
        chunks = []
        while True:
            chunk = os.read(fd, max(st.st_size, 4096) + 1)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_file_entry(key: str, directory: str | None = None) -> bytes | None:
    """The file store's blob for ``key`` (hit path)."""
    directory = directory or file_store_dir()
    try:
        check_private_dir(directory)
    except FileNotFoundError:
        return None
    return read_private_file(os.path.join(directory, key + ENTRY_SUFFIX))


def recorded_store() -> str:
    """The store that ``auto`` resolved to, as recorded in ``<cache dir>/store`` ('' if none)."""
    try:
        with open(os.path.join(cache_dir(), "store"), encoding="utf-8") as fh:
            return fh.readline().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def lean_reader(values: dict[str, str]):
    """(store name, read function) for the hit path; the file store without another import."""
    wanted = values.get("KUBEWARM_STORE", "auto").strip().lower() or "auto"
    if wanted == "file" or (wanted == "auto" and recorded_store() == "file"):
        return "file", read_file_entry
    # lazy: start-up (the keyring readers: only when the file store is not it)
    from kubewarm.engine.stores.choice import lean_reader as chosen

    return chosen(values)


# --- served markers: spotting a token the API server rejected ------------------------------
# client-go tells a plugin nothing after a 401: it runs it again, in the same kubectl process.
# So the shim records, per key, the calling process and the credential it was served; when the
# same process asks again while the cache still holds that credential, it was rejected.
# "The same process" is PID + start time + executable: gcloud's kubectl dispatcher runs the
# plugin, then execs a versioned kubectl in the same PID, which asks again legitimately.


def marker_dir() -> str:
    return os.path.join(cache_dir(), "served")


def caller_identity() -> str:
    """A string naming the calling process (our parent), distinct across its exec()s."""
    ppid = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{ppid}/stat", "rb") as fh:
                stat = fh.read()
            start = stat[stat.rfind(b")") + 2 :].split(b" ")[19].decode()
            exe = os.readlink(f"/proc/{ppid}/exe")
            return f"{ppid}:{start}:{exe}"
        except (OSError, IndexError, UnicodeDecodeError):
            pass
    return str(ppid)


def _marker_path(key: str, identity: str) -> str:
    return os.path.join(marker_dir(), key[:32] + "-" + identity.split(":", 1)[0])


def was_served(key: str, digest: str, identity: str) -> bool:
    """True when this process was already served exactly this credential for this key."""
    try:
        with open(_marker_path(key, identity), encoding="utf-8", errors="replace") as fh:
            served_digest, _, served_identity = fh.read().partition(" ")
    except OSError:
        return False
    return served_digest == digest[:32] and served_identity == identity


def mark_served(key: str, digest: str, identity: str) -> None:
    """Record that the calling process got the credential with ``digest``; never fails."""
    path = _marker_path(key, identity)
    data = (digest[:32] + " " + identity).encode("utf-8", "surrogateescape")
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except FileNotFoundError:
            try:
                os.makedirs(marker_dir(), mode=0o700, exist_ok=True)
            except OSError:
                return
            continue
        except OSError:
            return
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return


# --- the shim -----------------------------------------------------------------------------


def write_stdout(data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(1, view)
        view = view[written:]


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def main(argv: list[str] | None = None) -> None:
    """``kubewarm-exec PLUGIN [ARGS...]``: answer kubectl from the cache or run the plugin."""
    started = time.perf_counter()
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "--version"):
        # lazy: start-up (the full path, off the hit path)
        from kubewarm.engine.cache.credentials import usage

        sys.exit(usage(args))
    env = os.environ
    values = load_settings(env)
    key = compute_key(args, env, identity_env_names(values["KUBEWARM_KEY_ENV"]))
    if env.get(BACKGROUND_ENV) == key:
        # lazy: start-up (the full path, off the hit path)
        from kubewarm.engine.cache.credentials import background_refresh

        sys.exit(background_refresh(args, key, values))

    entry = None
    reason = "miss"
    store_name = "?"
    try:
        store_name, read = lean_reader(values)
        blob = read(key)
        if blob is not None:
            entry = parse_entry(blob)
    except Exception as exc:  # a broken cache must never break kubectl
        reason = f"unusable cache ({type(exc).__name__}: {exc})"
        entry = None

    if entry is not None:
        payload, expires, obtained, _, digest = entry
        # Only client-go (which always sets KUBERNETES_EXEC_INFO) re-asks after a 401; a
        # script calling the shim twice is not a rejection.
        identity = caller_identity() if "KUBERNETES_EXEC_INFO" in env else ""
        remaining = expires - time.time()
        window, margin = timing(values, max(expires - obtained, 1.0))
        if identity and was_served(key, digest, identity):
            reason = "rejected (same process asked again for the credential it was served)"
        elif remaining > margin:
            write_stdout(payload)
            if identity:
                mark_served(key, digest, identity)
            stale = remaining <= window
            if stale:
                # lazy: start-up (the full path, off the hit path)
                from kubewarm.engine.cache.credentials import spawn_background_refresh

                spawn_background_refresh(args, key)
            if debug_enabled():
                debug_log(
                    f"key={key[:12]} {'stale, refreshing in background' if stale else 'hit'}"
                    f" store={store_name} expires={_clock(expires)} in {remaining:.0f}s"
                    f" {(time.perf_counter() - started) * 1000:.1f}ms"
                )
            # Done: stdout was written with os.write, stderr is flushed. Skipping interpreter
            # finalisation (module teardown, a last garbage collection) saves ~0.5 ms.
            os._exit(0)
        else:
            reason = f"expiring (only {remaining:.0f}s left)" if remaining > 0 else "expired"

    # lazy: start-up (the full path, off the hit path)
    from kubewarm.engine.cache.credentials import foreground

    rejected = entry[4] if entry is not None and reason.startswith("rejected") else ""
    sys.exit(foreground(args, key, values, reason=reason, rejected=rejected, started=started))
