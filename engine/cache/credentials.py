"""Getting a credential when the cache cannot answer: the shim's slow path and the tray's refresh.

Every path here holds the per-key lock while the plugin runs, re-reads the cache once it has
the lock (another process may have filled it meanwhile), validates the plugin's output, and
stores only a valid, unexpired credential. Failures are never cached.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping

from kubewarm.engine import __version__
from kubewarm.engine.cache import stats
from kubewarm.engine.cache.plugin import (
    CACHE_LIMIT,
    PluginNotFound,
    PluginResult,
    run_background,
    run_foreground,
    spawn_detached,
)
from kubewarm.engine.core import debug, events_log, paths, served, settings
from kubewarm.engine.core import key as cache_key
from kubewarm.engine.core.entry import BadEntry, Entry, decode
from kubewarm.engine.core.exec_credential import InvalidCredential, requested_api_version, validate
from kubewarm.engine.core.locks import hold
from kubewarm.engine.core.safe_files import UnsafePath, private_dir
from kubewarm.engine.hotpath import (
    count,
    keyring_stalled,
    mark_keyring_stalled,
    stats_field,
    timing,
    uses_file_store,
    utc_stamp,
    write_stderr,
    write_stdout,
)
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores.choice import choose
from kubewarm.engine.system import install

BACKGROUND_ENV = "KUBEWARM_BACKGROUND_REFRESH"
# A store call that fails after this long was waiting on a daemon that stopped answering.
STALL_SECONDS = 1.0
RECIPE_VERSION = 2


class Outcome:
    """The result of one refresh, for the tray and the CLI (never holds the secret)."""

    __slots__ = ("expires", "key", "needs_login", "ok", "reason")

    def __init__(
        self, ok: bool, key: str, reason: str = "", expires: float = 0.0, needs_login: bool = False
    ) -> None:
        self.ok = ok
        self.key = key
        self.reason = reason
        self.expires = expires
        self.needs_login = needs_login

    def __repr__(self) -> str:
        return f"Outcome(ok={self.ok}, key={self.key[:12]}, reason={self.reason!r})"


_LOGIN_HINTS = (
    "sso session",
    "sso token",
    "aws sso login",
    "token has expired and refresh failed",
    "gcloud auth login",
    "do not currently have an active account",
    "reauthentication",
    "re-authenticate",
    "interactive",
    "device code",
    "devicelogin",
    "please login",
    "please log in",
    "please run 'az login'",
    "az login",
    "mfa",
    "browser",
    "expiredtoken",
    "security token included in the request is expired",
    "token expired",
    "unable to locate credentials",
)
# klog's line prefix (gke-gcloud-auth-plugin, kubelogin): "F1130 03:30:41.147456  6798 x.go:145] "
_KLOG = r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [\w.-]+:\d+\] "
REASON_LIMIT = 600


def looks_like_login_needed(reason: str) -> bool:
    """Whether a failed run's reason reads like 'a person must log in first'."""
    lowered = reason.lower()
    return any(hint in lowered for hint in _LOGIN_HINTS)


def stderr_reason(stderr: bytes, returncode: int) -> str:
    """Why a plugin failed, from its whole stderr: gke-gcloud-auth-plugin puts gcloud's
    several-line message (with its hint, `gcloud auth login`) inside one klog record that ends
    with a lone ')', so the last line alone says nothing. Lines are joined with '; '
    (klog prefixes and blank lines dropped), then the innermost 'ERROR: (...)' message of a
    wrapped gcloud error comes first, so that a cut line still carries the hint."""
    import re  # lazy: start-up (re costs ~8 ms; only a failed refresh needs it)

    lines = []
    for raw in stderr.decode("utf-8", "replace").splitlines():
        line = " ".join(re.sub(_KLOG, "", raw.strip()).split())
        if line and line != ")":
            lines.append(line)
    text = " ".join(lines)
    marker = text.find("ERROR: (gcloud")
    if marker > 0:  # gcloud's own words, then the plugin's wrapper around them
        inner = text[marker:].removesuffix(")").rstrip()
        text = inner + " [" + text[:marker].rstrip().removesuffix("(err:").rstrip() + "]"
    text = text.replace("$ ", "")
    reason = f"exit {returncode}: {text}" if text else f"exit {returncode}"
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"


def usage(args: list[str]) -> int:
    if args and args[0] == "--version":
        print(f"kubewarm-exec {__version__}")
        return 0
    print(
        "usage: kubewarm-exec PLUGIN [ARGS...]\n\n"
        "Prints PLUGIN's ExecCredential from kubewarm's cache while it is valid and runs\n"
        "PLUGIN only when it must. Set as exec.command in a kubeconfig, with the original\n"
        "command moved to the front of exec.args (`kubewarm inject` does it for you).\n"
        "KUBEWARM_DEBUG=1 explains every decision on stderr.",
        file=sys.stdout if args else sys.stderr,
    )
    return 0 if args else 2


def _open_safe_store(values: Mapping[str, str]):
    """The store, once kubewarm's cache folder (markers, locks, the store record) is known to
    be the user's alone and unless the keyring stopped answering a moment ago; raises
    UnsafePath or StoreUnavailable."""
    private_dir(paths.cache_dir())
    if not uses_file_store(dict(values)):
        stalled = keyring_stalled()
        if stalled:
            raise StoreUnavailable(stalled)
    started = time.monotonic()
    try:
        return _open_store(values)
    except StoreUnavailable:
        if time.monotonic() - started > STALL_SECONDS:  # keyring's own probe hung on the bus
            mark_keyring_stalled()
        raise


def _read_entry(store, key: str) -> Entry | None:
    try:
        blob = store.read(key)
        return decode(blob) if blob is not None else None
    except (StoreUnavailable, BadEntry, OSError) as exc:
        debug.log(f"key={key[:12]} cache entry unusable ({exc}); it will be replaced")
        return None


def _timing(values: Mapping[str, str], lifetime: float) -> tuple[float, float]:
    return timing(dict(values), lifetime)


def _recipe(
    argv: list[str], env: Mapping[str, str], names: tuple[str, ...], entry: Entry, store_name: str
) -> bytes:
    info = cache_key.normalize_exec_info(env.get("KUBERNETES_EXEC_INFO", ""))
    cluster = ""
    try:
        cluster = (
            json.loads(info).get("spec", {}).get("cluster", {}).get("server", "") if info else ""
        )
    except (ValueError, AttributeError):
        cluster = ""
    recipe = {
        # v2: the whole environment the plugin ran in, and the identity names its key used, so
        # a refresh can run it again in exactly that environment (see refresh()). It is kept
        # in the same store as the credential: it may hold secrets (AWS_SESSION_TOKEN).
        "version": RECIPE_VERSION,
        "argv": argv,
        "env": {k: v for k, v in env.items() if k != BACKGROUND_ENV},
        "key_names": sorted(names),
        "exec_info": info,
        "user": env.get("KUBEWARM_USER", ""),
        "plugin": os.path.basename(argv[0]),
        "cluster": cluster,
        "store": store_name,
        "expires": entry.expires,
        "explicit_expiry": entry.explicit,
        "obtained": entry.obtained,
    }
    return json.dumps(recipe, sort_keys=True).encode("utf-8")


def _check_output(
    argv: list[str], env: Mapping[str, str], result: PluginResult, values: Mapping[str, str]
) -> Entry:
    """Validate a successful run's stdout into an Entry, or raise InvalidCredential."""
    now = time.time()
    requested = requested_api_version(env.get("KUBERNETES_EXEC_INFO", ""))
    credential = validate(result.stdout, requested, now)
    if credential.expires is None:
        ttl = settings.number(dict(values), "KUBEWARM_DEFAULT_TTL")
        return Entry(result.stdout, now + ttl, now, explicit=False)
    return Entry(result.stdout, credential.expires, now, explicit=True)


def _save(store, key: str, entry: Entry, recipe: bytes) -> str:
    """Store entry and recipe; returns '' or why it could not be stored (never fatal). A
    keyring write that failed slowly (a daemon that stopped answering) pauses the keyring."""
    if store is None:
        return "no usable store"
    started = time.monotonic()
    try:
        store.write(key, entry.encode())
        store.write_meta(key, recipe)
    except (StoreUnavailable, OSError) as exc:
        if store.name != "file" and time.monotonic() - started > STALL_SECONDS:
            mark_keyring_stalled()
        return str(exc)
    return ""


def _count_run(
    key: str, env: Mapping[str, str], argv: list[str], where: str, started: float, ok: bool
) -> None:
    """Count one plugin run for ``kubewarm stats``: on kubectl's path (fg) or not (bg, or
    recent: warm without pinning), how long it took (what a later hit saves), whether it
    succeeded."""
    ms = int((time.monotonic() - started) * 1000)
    user = stats_field(env.get("KUBEWARM_USER", ""))
    plugin = stats_field(_plugin_name(argv))
    count(f"r\t{key[:12]}\t{user}\t{plugin}\t{where}\t{ms}\t{1 if ok else 0}\n")


def _missing_plugin_help(argv: list[str], env: Mapping[str, str]) -> str:
    """client-go's missing-plugin help and the wrapped user's ``installHint``, which kubectl
    no longer shows itself (it runs the launcher, which exists)."""
    # lazy: start-up (the kubeconfig parser, yaml: only when a plugin is missing)
    from kubewarm.engine.kubeconfig import install_hint

    hint = install_hint.install_hint(env.get("KUBEWARM_USER", ""), argv[0], env)
    return install_hint.missing_plugin_help(hint)


def _plugin_name(argv: list[str]) -> str:
    return os.path.basename(argv[0]) if argv else "?"


def foreground(
    argv: list[str],
    key: str,
    values: Mapping[str, str],
    *,
    reason: str,
    rejected: str = "",
    started: float = 0.0,
) -> int:
    """The shim's slow path: answer kubectl now, running the plugin if the cache cannot."""
    env = os.environ
    names = cache_key.identity_env_names(values.get("KUBEWARM_KEY_ENV", ""))
    try:
        store = _open_safe_store(values)
        store_name = store.name
    except (StoreUnavailable, UnsafePath) as exc:
        debug.log(f"key={key[:12]} store unusable ({exc}); running the plugin without caching")
        store, store_name = None, "none"
    # no store: nothing will be served from the cache, so there is no rejection to spot later
    # (and the cache folder may not be ours to write to)
    watch = store is not None and "KUBERNETES_EXEC_INFO" in env
    identity = served.caller_identity() if watch else ""

    with hold(key):
        if store is not None:
            entry = _read_entry(store, key)
            if entry is not None and entry.digest != rejected:
                _, margin = _timing(values, entry.lifetime)
                if entry.expires - time.time() > margin:
                    _emit(entry.payload)
                    if identity:
                        served.mark(key, entry.digest, identity)
                    debug.log(
                        f"key={key[:12]} filled by another process while waiting;"
                        f" served {_elapsed(started)}"
                    )
                    return 0
        debug.log(f"key={key[:12]} {reason}: running plugin {_plugin_name(argv)}")
        ran = time.monotonic()
        try:
            result = run_foreground(argv, env)
            _count_run(key, env, argv, "fg", ran, result.returncode == 0)
        except PluginNotFound as exc:
            print(f"kubewarm: {exc}", file=sys.stderr)
            if "KUBERNETES_EXEC_INFO" in env:  # kubectl asked: say what it would have said
                print(_missing_plugin_help(argv, env), end="", file=sys.stderr)
            return 127
        if result.passed_through:
            debug.log(
                f"key={key[:12]} plugin {_plugin_name(argv)} printed more than"
                f" {CACHE_LIMIT} bytes: passed through to kubectl, nothing cached"
            )
            return result.returncode
        if result.returncode != 0:
            _emit(result.stdout)
            debug.log(
                f"key={key[:12]} plugin {_plugin_name(argv)} failed with exit"
                f" {result.returncode}; nothing cached"
            )
            return result.returncode
        try:
            entry = _check_output(argv, env, result, values)
        except InvalidCredential as exc:
            print(f"kubewarm: plugin {_plugin_name(argv)} {exc}; nothing cached", file=sys.stderr)
            return 1
        problem = _save(store, key, entry, _recipe(argv, env, names, entry, store_name))
        _emit(entry.payload)
        # kubectl has its credential: nothing from here on may change the exit status
        if identity:
            served.mark(key, entry.digest, identity)
    try:
        if store is not None:
            served.prune()
            stats.prune()
            spawn_housekeeping_if_due(values)
    except Exception as exc:  # a full disk, say: the next miss tries again
        debug.log(f"housekeeping skipped: {exc}")
    if problem:
        debug.log(f"key={key[:12]} not cached: {problem}")
    else:
        debug.log(
            f"key={key[:12]} stored in {store_name}, expires"
            f" {utc_stamp(entry.expires)}{'' if entry.explicit else ' (default TTL)'}"
            f" {_elapsed(started)}"
        )
    return 0


def refresh(
    argv: list[str],
    env: Mapping[str, str],
    values: Mapping[str, str],
    *,
    key: str | None = None,
    timeout: float | None = None,
    only_if_stale: bool = False,
    why: str = "bg",
) -> Outcome:
    """Run the plugin without a terminal and store its credential under ``key``.

    Used by the shim's background refresh and by the tray. ``only_if_stale`` skips the run when
    the cached credential is (meanwhile) outside its refresh window. ``why`` is how
    ``kubewarm stats`` counts the run: ``bg``, or ``recent`` (warm without pinning). Never
    raises.
    """
    names = cache_key.identity_env_names(values.get("KUBEWARM_KEY_ENV", ""))
    own_key = cache_key.compute(argv, dict(env), names)
    # The invariant: a credential is stored only under the key of the environment the plugin
    # actually runs in. A caller whose environment would give another key (a tray that lacks
    # the shell's MY_TENANT, say) must not write to that entry at all.
    if key is not None and key != own_key:
        return Outcome(
            False, key, "this environment does not select the cached identity; not refreshed"
        )
    key = own_key
    if timeout is None:
        timeout = settings.number(dict(values), "KUBEWARM_REFRESH_TIMEOUT")
    try:
        store = _open_safe_store(values)
    except (StoreUnavailable, UnsafePath) as exc:
        return Outcome(False, key, f"store unusable: {exc}")

    with hold(key, blocking=not only_if_stale) as acquired:
        if not acquired:
            return Outcome(True, key, "another process is refreshing it")
        if only_if_stale:
            current = _read_entry(store, key)
            if current is not None:
                window, _ = _timing(values, current.lifetime)
                if current.expires - time.time() > window:
                    return Outcome(True, key, "already fresh", current.expires)
        ran = time.monotonic()
        try:
            result = run_background(argv, env, timeout)
        except PluginNotFound as exc:
            return Outcome(False, key, str(exc))
        ok = result.returncode == 0 and not result.timed_out
        _count_run(key, env, argv, why, ran, ok)
        if result.returncode != 0 or result.timed_out:
            reason = (
                "timed out" if result.timed_out else stderr_reason(result.stderr, result.returncode)
            )
            return Outcome(False, key, reason, needs_login=looks_like_login_needed(reason))
        if len(result.stdout) > CACHE_LIMIT:
            return Outcome(False, key, f"plugin printed more than {CACHE_LIMIT} bytes; not cached")
        try:
            entry = _check_output(argv, env, result, values)
        except InvalidCredential as exc:
            return Outcome(False, key, f"plugin {_plugin_name(argv)} {exc}")
        problem = _save(store, key, entry, _recipe(argv, env, names, entry, store.name))
        if problem:
            return Outcome(False, key, f"not stored: {problem}")
        return Outcome(True, key, "refreshed", entry.expires)


def package_root() -> str:
    """The directory that ``kubewarm``'s subpackages live in (site-packages/kubewarm, a
    Briefcase bundle's app/kubewarm, or the source tree for an editable install, where
    ``kubewarm.engine`` maps to ``engine/``)."""
    return install.package_root()


def bootstrap_code(statement: str) -> str:
    """Python source that makes ``kubewarm`` importable without site-packages, then runs
    ``statement``: for ``python -I -S`` launchers and detached helpers."""
    return (
        "import sys;m=type(sys)('kubewarm');m.__path__=[" + repr(package_root()) + "];"
        "sys.modules['kubewarm']=m;" + statement
    )


def _inherited_path() -> list[str]:
    """This process's import path without what the caller's folder or environment put there
    (the current directory, ``PYTHONPATH``): where a helper finds kubewarm's dependencies,
    including a ``--user`` installation's, which ``-I`` alone would hide."""
    unsafe = {"", "."}
    if not sys.flags.ignore_environment:
        unsafe.update(os.environ.get("PYTHONPATH", "").split(os.pathsep))
    try:
        unsafe.add(os.getcwd())
    except OSError:
        pass
    return [p for p in sys.path if p not in unsafe and os.path.isabs(p)]


def helper_command(statement: str) -> list[str]:
    """argv of an isolated Python helper running ``statement``: ``-I`` (no current directory,
    ``PYTHONPATH`` or user site on ``sys.path``), kubewarm and its dependencies found where
    this process found them. Start it with :func:`plugin.spawn_detached`, which also gives it
    a neutral working directory. The program is this installation's real Python, or inside a
    Briefcase bundle without one the app's stub (``install.Installation.helper_argv``): the
    stub runs a fixed module and would ignore ``-c``."""
    installation = install.current()
    inherited = [*_inherited_path(), *installation.extra_path]
    extend = "sys.path.extend(p for p in " + repr(inherited) + " if p not in sys.path);"
    return installation.helper_argv(bootstrap_code(extend + statement))


def spawn_background_refresh(argv: list[str], key: str) -> None:
    """Start a detached process that refreshes ``key``; kubectl does not wait for it."""
    env = dict(os.environ)
    env[BACKGROUND_ENV] = key
    command = helper_command("from kubewarm.engine.hotpath import main;main()")
    try:
        spawn_detached([*command, *argv], env)
    except OSError as exc:
        debug.log(f"key={key[:12]} could not start a background refresh: {exc}")


def background_refresh(argv: list[str], key: str, values: Mapping[str, str]) -> int:
    """Body of the detached refresh process started by :func:`spawn_background_refresh`;
    also drops long-expired entries (at most once an hour)."""
    env = {k: v for k, v in os.environ.items() if k != BACKGROUND_ENV}
    outcome = refresh(argv, env, values, key=key, only_if_stale=True)
    events_log.write(
        f"background refresh key={key[:12]} plugin={_plugin_name(argv)}"
        f" ok={outcome.ok} {outcome.reason}"
    )
    # lazy: start-up (admin adds typing, ~2 ms, to every stale hit that loads this module)
    from kubewarm.engine.cache.admin import housekeeping_if_due

    housekeeping_if_due(values)
    return 0 if outcome.ok else 1


def spawn_housekeeping_if_due(values: Mapping[str, str]) -> None:
    """After a miss: drop long-expired entries in a detached process, at most once an hour
    (one stat when not due), so no store grows without bound even without the tray."""
    # lazy: start-up (admin adds typing, ~2 ms, to every stale hit that loads this module)
    from kubewarm.engine.cache.admin import housekeeping_due

    if not housekeeping_due():
        return
    statement = "from kubewarm.engine.cache.admin import housekeeping_if_due;housekeeping_if_due()"
    try:
        spawn_detached(helper_command(statement), os.environ)
    except OSError as exc:
        debug.log(f"could not start housekeeping: {exc}")


def _open_store(values: Mapping[str, str]):
    """The store in use; the call that chose it tells the user which and why, on stderr."""
    store, news = choose(dict(values))
    if news:  # through the helper that tolerates no stderr at all (pythonw, the Run key's)
        write_stderr(f"kubewarm: {news}\n")
    return store


def _emit(data: bytes) -> None:
    write_stdout(data)


def _elapsed(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.1f}ms" if started else ""
