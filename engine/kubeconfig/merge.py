"""Several kubeconfig files read together the way kubectl merges them.

kubectl reads every file in ``$KUBECONFIG`` and the first file that defines a context, cluster
or user name wins (so a context in one file may use a user from another); the current context
is the first one set.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig.files import KubeconfigPath
from kubewarm.engine.kubeconfig.model import (
    ClusterInfo,
    ContextInfo,
    KubeconfigError,
    ParsedFile,
    UserInfo,
)
from kubewarm.engine.kubeconfig.parse import parse


def load(files: Sequence[KubeconfigPath], exact: bool = False) -> list[ParsedFile]:
    """Parse every existing file; a missing file named with ``--kubeconfig`` is an error."""
    parsed = []
    for file in files:
        if not file.exists:
            if file.explicit:
                raise KubeconfigError(file.path, "no such file")
            continue
        parsed.append(parse(file, exact=exact))
    return parsed


def merge_contexts(parsed: Sequence[ParsedFile]) -> list[ContextInfo]:
    """Every context with its cluster and user resolved (first definition of a name wins)."""
    users: dict[str, UserInfo] = {}
    clusters: dict[str, ClusterInfo] = {}
    contexts: dict[str, ContextInfo] = {}
    current = ""
    for pf in parsed:
        current = current or pf.current_context
        for u in pf.users:
            users.setdefault(u.info.name, u.info)
        for name, cluster in pf.clusters.items():
            clusters.setdefault(name, cluster)
        for name, context in pf.contexts.items():
            contexts.setdefault(name, context)
    result = []
    for context in contexts.values():
        result.append(
            ContextInfo(
                name=context.name,
                path=context.path,
                line=context.line,
                cluster_name=context.cluster_name,
                user_name=context.user_name,
                namespace=context.namespace,
                current=context.name == current,
                cluster=clusters.get(context.cluster_name),
                user=users.get(context.user_name),
            )
        )
    return result


def load_contexts(
    paths: Sequence[KubeconfigPath] | Sequence[str] | None = None,
) -> list[ContextInfo]:
    """The contexts of the given files (default: the files kubectl would use)."""
    if paths is None:
        files = kubeconfig_files.resolve()
    else:
        files = [
            p if isinstance(p, KubeconfigPath) else kubeconfig_files.resolve([p])[0] for p in paths
        ]
    return merge_contexts(load(files))
