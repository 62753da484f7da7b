"""Which kubeconfig files to use, found the way kubectl finds them.

``--kubeconfig PATH`` (kubewarm accepts it more than once), else every file in ``$KUBECONFIG``
(split on ``os.pathsep``, empty entries ignored, first occurrence kept), else
``~/.kube/config``. A symlinked file is read and edited at its target, so the link survives.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class KubeconfigPath:
    """One kubeconfig file: ``path`` as the user named it, ``target`` the file really edited."""

    path: str
    target: str
    source: str  # "--kubeconfig", "$KUBECONFIG" or "default"

    @property
    def exists(self) -> bool:
        return os.path.isfile(self.target)

    @property
    def explicit(self) -> bool:
        """Named on the command line: a missing file is an error, not something to skip."""
        return self.source == "--kubeconfig"

    @property
    def base_dir(self) -> str:
        """The directory kubectl resolves relative paths in this file against."""
        return os.path.dirname(os.path.abspath(self.path))


def display(path: str) -> str:
    """``path`` with the home directory shown as ``~``, for messages."""
    home = os.path.expanduser("~")
    absolute = os.path.abspath(path)
    if home not in ("", "~", os.sep) and absolute.startswith(home.rstrip(os.sep) + os.sep):
        return "~" + absolute[len(home.rstrip(os.sep)) :]
    return path


def _target(path: str) -> str:
    """The file a (possibly symlinked) path finally names, made absolute."""
    return os.path.realpath(os.path.abspath(path))


def default_path() -> str:
    return os.path.join(os.path.expanduser("~"), ".kube", "config")


def resolve(
    explicit: Sequence[str] | str | None = None, environ: Mapping[str, str] | None = None
) -> list[KubeconfigPath]:
    """The kubeconfig files kubectl would use, in its precedence order, without duplicates."""
    env = os.environ if environ is None else environ
    if isinstance(explicit, str):
        explicit = [explicit]
    if explicit:
        named, source = [os.path.expanduser(p) for p in explicit], "--kubeconfig"
    elif env.get("KUBECONFIG", ""):
        named, source = env["KUBECONFIG"].split(os.pathsep), "$KUBECONFIG"
    else:
        named, source = [default_path()], "default"
    seen: set[str] = set()
    result = []
    for path in named:
        if not path:
            continue
        target = _target(path)
        if target in seen:
            continue
        seen.add(target)
        result.append(KubeconfigPath(path, target, source))
    return result
