"""The shim's hit path, in one module: every kubectl call pays for what this file loads.

Import budget (held by tests/test_shim_imports.py): the builtins ``os``, ``sys``, ``time`` and
the ``_sha256`` C module (``_sha2`` from Python 3.12) — nothing else at load time. No json, re,
argparse, subprocess, yaml, keyring, platformdirs, datetime, typing or collections; and no
other kubewarm module (but ``errors`` when raising), because
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
except ImportError:  # Python 3.12 merged it into _sha2
    try:
        from _sha2 import sha256  # pyright: ignore[reportMissingImports] 3.12+ only
    except ImportError:  # pragma: no cover - interpreters built without either
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
    "KUBEWARM_WARM_RECENT": ("off", "on, or N days: also keep warm contexts kubectl used lately"),
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


# name -> (lowest, highest) accepted; anything else (a typo, inf, 1e308, NaN) means the default.
RANGES: dict[str, tuple[float, float]] = {
    "KUBEWARM_REFRESH_WINDOW": (0.0, 1.0),
    "KUBEWARM_MARGIN_SECONDS": (0.0, 30 * 86400.0),
    "KUBEWARM_MARGIN_FRACTION": (0.0, 1.0),
    "KUBEWARM_DEFAULT_TTL": (1.0, 30 * 86400.0),
    "KUBEWARM_REFRESH_TIMEOUT": (1.0, 86400.0),
    "KUBEWARM_BACKUPS": (0.0, 1000.0),
}
_warned: set[str] = set()


def number(values: dict[str, str], name: str) -> float:
    """A numeric setting. A malformed, non-finite or out-of-range value falls back to its
    default, with one stderr line per process naming the setting (kubectl shows it)."""
    raw = values.get(name, "")
    low, high = RANGES.get(name, (0.0, 1e9))
    try:
        result = float(raw)
    except ValueError:
        result = -1.0
    if low <= result <= high:  # False for NaN and infinities too
        return result
    default = DEFAULTS[name][0]
    if name not in _warned:
        _warned.add(name)
        write_stderr(
            f"kubewarm: {name}={raw!r} is not a number from {low:g} to {high:g};"
            f" using the default {default}\n"
        )
    return float(default)


# Streams that send stderr to the macOS system log instead of the terminal: CPython 3.14's
# ``use_system_logger`` (set by app stubs such as Briefcase's) and Briefcase's ``nslog`` shim.
_SYSTEM_LOG_STREAMS = ("_apple_support", "nslog")


def write_stderr(text: str) -> None:
    """Write to stderr if there is one (``pythonw`` has none); never raises. Where an app stub
    sent ``sys.stderr`` to the system log, the line goes to descriptor 2, so kubectl shows it."""
    stream = sys.stderr
    try:
        if stream is not None and type(stream).__module__ in _SYSTEM_LOG_STREAMS:
            os.write(2, text.encode("utf-8", "replace"))
        elif stream is not None:
            stream.write(text)
            stream.flush()
    except (OSError, ValueError):
        pass


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
        write_stderr("kubewarm: " + message + "\n")


# --- the cache key ------------------------------------------------------------------------

KEY_VERSION = "kubewarm-key-v2"

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
    # added in key v2: each selects whose token a plugin mints (see the README's list)
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT",
    "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE",
    "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
    "AAD_LOGIN_METHOD",
    "AAD_SERVICE_PRINCIPAL_CLIENT_ID",
    "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE",
    "AAD_USER_PRINCIPAL_NAME",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
)
# Set by `kubewarm inject` in a wrapped user's exec.env: the names of that user's own exec.env
# variables (kubectl puts them in the plugin's environment, where the shim cannot tell them
# from the shell's), so each of them is part of the key too.
EXEC_ENV_NAMES = "KUBEWARM_EXEC_ENV"

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
    of every identity variable (``names`` and those ``KUBEWARM_EXEC_ENV`` declares), and the
    normalised ``KUBERNETES_EXEC_INFO`` (requested apiVersion, and the cluster's server and CA
    with ``provideClusterInfo``)."""
    declared = [n.strip() for n in env.get(EXEC_ENV_NAMES, "").split(",") if n.strip()]
    parts = [KEY_VERSION, str(len(argv))]
    parts.extend(argv)
    for name in sorted({*names, *declared}):
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
    except (ValueError, OverflowError) as exc:  # OverflowError: more digits than a float
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


def uses_file_store(values: dict[str, str]) -> bool:
    """Whether the settings (and the recorded ``auto`` choice) say the file store."""
    wanted = values.get("KUBEWARM_STORE", "auto").strip().lower() or "auto"
    return wanted == "file" or (wanted == "auto" and recorded_store() == "file")


def lean_reader(values: dict[str, str]):
    """(store name, read function) for the hit path; the file store without another import."""
    if uses_file_store(values):
        return "file", read_file_entry
    stalled = keyring_stalled()
    if stalled:
        raise _store_unavailable(stalled)
    # lazy: start-up (the keyring readers: only when the file store is not it)
    from kubewarm.engine.stores.choice import lean_reader as chosen

    return chosen(values)


# --- a keyring that stopped answering ------------------------------------------------------
# Every kubectl call is a new process, so a Secret Service that accepts connections but never
# answers would cost each of them the reader's timeout. The first process that times out
# leaves a stamp; for KEYRING_PAUSE seconds after it, every process skips the keyring (the
# plugin runs, nothing is cached), then the next one tries again.

KEYRING_PAUSE = 60.0


def _stall_stamp() -> str:
    return os.path.join(cache_dir(), "keyring-stalled")


def keyring_stalled() -> str:
    """Why the keyring is being skipped now ('' when it is not): one stat."""
    try:
        since = time.time() - os.stat(_stall_stamp()).st_mtime
    except OSError:
        return ""
    if -5.0 < since < KEYRING_PAUSE:  # a stamp from the future (clock set back) is stale
        return f"the keyring did not answer {since:.0f}s ago; skipping it for {KEYRING_PAUSE:.0f}s"
    return ""


def mark_keyring_stalled() -> None:
    """Leave the stamp (a symlink in its place is never followed); never raises."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(_stall_stamp(), flags, 0o600)
    except OSError:
        return
    try:
        os.utime(fd if os.utime in os.supports_fd else _stall_stamp())
    except OSError:
        pass
    finally:
        os.close(fd)


# --- served markers: spotting a token the API server rejected ------------------------------
# client-go tells a plugin nothing after a 401: it runs it again, in the same kubectl process.
# So the shim records, per key, the calling process and the credential it was served; when the
# same process asks again while the cache still holds that credential, it was rejected.
# "The same process" is PID + start time + executable: gcloud's kubectl dispatcher runs the
# plugin, then execs a versioned kubectl in the same PID, which asks again legitimately.


def marker_dir() -> str:
    return os.path.join(cache_dir(), "served")


def caller_identity() -> str:
    """A string naming the calling process (our parent; on Windows the first ancestor that is
    not a launcher), distinct across its exec()s and stable across the calls it makes."""
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
    elif sys.platform in ("win32", "darwin"):  # ctypes there, only when a caller asks
        # lazy: platform-only (macOS and Windows; Linux reads /proc)
        from kubewarm.engine.system.caller import caller_identity as os_identity

        return os_identity()
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
    """Record that the calling process got the credential with ``digest``. Never fails: it
    runs after kubectl got its credential (a full disk must not change the exit status), and
    never follows a symlink planted in place of a marker."""
    data = (digest[:32] + " " + identity).encode("utf-8", "surrogateescape")
    write_after_answer(_marker_path(key, identity), data, os.O_TRUNC)


def write_after_answer(path: str, data: bytes, mode_flag: int) -> None:
    """Write ``data`` to ``path`` (``mode_flag``: ``O_TRUNC`` or ``O_APPEND``), creating its
    folder 0700 if need be, never following a symlink in its place and never raising: it runs
    after kubectl got its credential, where a full disk or a planted link must change nothing."""
    flags = os.O_WRONLY | os.O_CREAT | mode_flag | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(2):
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            try:
                os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            except OSError:
                return
            continue
        except OSError:
            return
        try:
            os.write(fd, data)
        except OSError:  # disk full: a marker or a count is a hint; the answer is already out
            pass
        finally:
            os.close(fd)
        return


# --- usage counters: what `kubewarm stats` reads ------------------------------------------
# One line per event, appended (O_APPEND: concurrent shims never interleave a line) to a file
# per UTC day under <cache dir>/stats: "h\t<key12>\t<user>\n" for a request served from the
# cache, "r\t<key12>\t<user>\t<plugin>\t<fg|bg>\t<ms>\t<1|0>\n" for a plugin run (written
# by the slow path). Never a secret; a hit pays one open, write and close (bench/bench_stats.py).

STATS_DIR = "stats"


def stats_path(epoch: float | None = None) -> str:
    """Today's counter file (UTC day), or the one of ``epoch``'s day."""
    day = time.strftime("%Y-%m-%d", time.gmtime(epoch))
    return os.path.join(cache_dir(), STATS_DIR, day)


def count(line: str) -> None:
    """Append ``line`` to today's counter file (see :func:`write_after_answer`)."""
    write_after_answer(stats_path(), line.encode("utf-8", "surrogateescape"), os.O_APPEND)


def stats_field(text: str) -> str:
    """``text`` safe inside a tab-separated counter line."""
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def count_hit(key: str, env) -> None:
    """Count a request served from the cache, by key and kubeconfig user."""
    count("h\t" + key[:12] + "\t" + stats_field(env.get("KUBEWARM_USER", "")) + "\n")


# --- the shim -----------------------------------------------------------------------------


def write_stdout(data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(1, view)
        view = view[written:]


def utc_stamp(epoch: float) -> str:
    """``2026-11-30T14:32:00Z``: how debug lines give a time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def main(argv: list[str] | None = None) -> None:
    """``kubewarm-exec PLUGIN [ARGS...]``: answer kubectl from the cache or run the plugin."""
    started = time.perf_counter()
    args = sys.argv[1:] if argv is None else argv
    env = os.environ
    if args and args[0].startswith("--exec-env="):  # inject declares the user's exec.env
        env[EXEC_ENV_NAMES] = args[0][len("--exec-env=") :]
        args = args[1:]
    if not args or args[0] in ("-h", "--help", "--version"):
        # lazy: start-up (the full path, off the hit path)
        from kubewarm.engine.cache.credentials import usage

        sys.exit(usage(args))
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
        try:  # markers, locks and the store record live there: someone else's means no cache
            check_private_dir(cache_dir())
        except FileNotFoundError:
            pass
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
            # kubectl has its credential: nothing from here on may change the exit status
            if identity:
                mark_served(key, digest, identity)
            count_hit(key, env)
            stale = remaining <= window
            if stale:
                try:
                    # lazy: start-up (the full path, off the hit path)
                    from kubewarm.engine.cache.credentials import spawn_background_refresh

                    spawn_background_refresh(args, key)
                except Exception as exc:
                    debug_log(f"key={key[:12]} no background refresh: {exc}")
            if debug_enabled():
                debug_log(
                    f"key={key[:12]} {'stale, refreshing in background' if stale else 'hit'}"
                    f" store={store_name} expires={utc_stamp(expires)} in {remaining:.0f}s"
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
