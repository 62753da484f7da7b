"""The ``installHint`` of a wrapped user, for the shim to show when its plugin is missing.

kubectl prints a user's ``exec.installHint`` when the exec command cannot be run. Once the user
is wrapped, kubectl runs kubewarm's launcher, which exists, so kubectl never shows the hint;
the shim must. The hint is not copied anywhere by ``kubewarm inject`` (the kubeconfig keeps
its ``installHint`` untouched and restore stays byte-exact): the shim, on that failure only,
reads it back from the kubeconfig kubectl was run with (``--kubeconfig`` on kubectl's command
line where the OS shows it, else ``$KUBECONFIG``, else ``~/.kube/config``), finding the user by
its ``KUBEWARM_USER`` name and the plugin it wraps.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig.files import KubeconfigPath
from kubewarm.engine.kubeconfig.model import KubeconfigError, UserInfo

# client-go's text (staging/src/k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go), which
# kubectl prints before the hint when an exec command is missing.
VERBOSE_HELP = (
    "It looks like you are trying to use a client-go credential plugin that is not installed.\n"
    "\n"
    "To learn more about this feature, consult the documentation available at:\n"
    "      https://kubernetes.io/docs/reference/access-authn-authz/authentication/"
    "#client-go-credential-plugins"
)


def caller_kubeconfig(pid: int | None = None) -> list[str]:
    """The ``--kubeconfig`` files on the calling kubectl's command line (Linux reads
    ``/proc``; elsewhere, and when there is none, [])."""
    if not sys.platform.startswith("linux"):
        return []
    try:
        with open(f"/proc/{os.getppid() if pid is None else pid}/cmdline", "rb") as fh:
            argv = fh.read().decode("utf-8", "surrogateescape").split("\0")
    except OSError:
        return []
    found = []
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.startswith("--kubeconfig="):
            found.append(arg.partition("=")[2])
        elif arg == "--kubeconfig" and i + 1 < len(argv):
            found.append(argv[i + 1])
    return [p for p in found if p]


def wrapped_user(user_name: str, plugin: str, files: list[KubeconfigPath]) -> UserInfo | None:
    """The user kubectl would pick for ``user_name`` in ``files`` (first definition wins), if
    it is wrapped and runs ``plugin``."""
    try:
        parsed = kubeconfig_merge.load(files)
    except KubeconfigError:
        return None
    for pf in parsed:
        found = pf.user(user_name)
        if found is None:
            continue
        info = found.info
        if info.wrapped and info.plugin_argv and info.plugin_argv[0] == plugin:
            return info
        return None
    return None


def install_hint(
    user_name: str, plugin: str, environ: Mapping[str, str] | None = None, pid: int | None = None
) -> str:
    """The ``installHint`` of wrapped user ``user_name`` whose plugin is ``plugin`` (argv[0] as
    the shim got it), or '' when there is none or it cannot be found. Never raises."""
    if not user_name:
        return ""
    env = os.environ if environ is None else environ
    try:
        explicit = caller_kubeconfig(pid)
        files = kubeconfig_files.resolve(explicit or None, environ=env)
        user = wrapped_user(user_name, plugin, [f for f in files if f.exists])
    except Exception:  # a hint is a courtesy: the failure it explains is reported anyway
        return ""
    if user is None or user.exec is None:
        return ""
    return user.exec.install_hint.strip()


def missing_plugin_help(hint: str) -> str:
    """What kubectl says about a missing plugin after its first line: client-go's help, then
    the kubeconfig's ``installHint`` (when there is one)."""
    return f"\n{VERBOSE_HELP}\n" + (f"\n{hint}\n" if hint else "")
