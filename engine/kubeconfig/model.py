"""The read-only model of kubeconfig files: contexts, their cluster and user, the exec block.

Plain dataclasses (plus the composed PyYAML nodes the editor needs) and
:class:`KubeconfigError`. Reading a file is :mod:`.parse`, several files merge in :mod:`.merge`,
what kubectl hands a plugin is :mod:`.clientgo`. The few rules that define a field live here
too: what a shim command is (``UserInfo.wrapped``) and how kubectl resolves a command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import yaml
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.kubeconfig.files import display

USER_ENV = "KUBEWARM_USER"
SHIM_NAMES = ("kubewarm-exec", "kubewarm")


class KubeconfigError(KubewarmError):
    """A kubeconfig kubewarm cannot use; the message names the file and, when known, the line."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = " ".join(message.split())  # one line, whatever PyYAML's text holds
        message = self.message
        where = f" line {line}" if line else ""
        super().__init__(f"kubeconfig {display(path)}{where}: {message}")


@dataclass(frozen=True)
class ExecConfig:
    """A user's ``exec`` block as written in the file."""

    api_version: str
    command: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    provide_cluster_info: bool
    interactive_mode: str
    install_hint: str


@dataclass(frozen=True)
class UserInfo:
    """One kubeconfig user. ``plugin_argv`` is what the plugin is (or would be) run with.

    ``wrapped``: ``exec.command`` is a kubewarm shim (named ``kubewarm-exec``, or ``kubewarm``
    followed by ``exec``) with the plugin's argv after it. ``kubewarm_user`` is the value of the
    ``KUBEWARM_USER`` env entry, if any (a wrapped user must have one, equal to its name).
    """

    name: str
    path: str
    line: int
    kind: str  # exec, token, client-certificate, auth-provider, basic, none
    exec: ExecConfig | None = None
    wrapped: bool = False
    shim_command: str = ""
    kubewarm_user: str | None = None
    plugin_argv: tuple[str, ...] = ()
    declared_env: tuple[str, ...] = ()  # the names a wrapped user's --exec-env= argument lists

    @property
    def own_env_names(self) -> tuple[str, ...]:
        """The names of the user's own ``exec.env`` (kubewarm's ``KUBEWARM_USER`` aside),
        sorted: what ``--exec-env=`` must declare so they are part of the cache key."""
        if self.exec is None:
            return ()
        return tuple(sorted({name for name, _ in self.exec.env if name != USER_ENV}))

    @property
    def plugin(self) -> str:
        """The plugin's program name (``aws``, ``gke-gcloud-auth-plugin`` …), or ''."""
        return os.path.basename(self.plugin_argv[0]) if self.plugin_argv else ""


@dataclass(frozen=True)
class ClusterInfo:
    """One kubeconfig cluster, with what ``provideClusterInfo`` passes to a plugin."""

    name: str
    path: str
    line: int
    server: str = ""
    certificate_authority: str = ""  # a file, resolved against the kubeconfig's directory
    certificate_authority_data: str = ""
    tls_server_name: str = ""
    insecure_skip_tls_verify: bool = False
    proxy_url: str = ""
    disable_compression: bool = False
    exec_config: object = None  # the client.authentication.k8s.io/exec extension, if any


@dataclass(frozen=True)
class ContextInfo:
    """One context, resolved across every file (kubectl's merge: first definition wins)."""

    name: str
    path: str
    line: int
    cluster_name: str
    user_name: str
    namespace: str = ""
    current: bool = False
    cluster: ClusterInfo | None = None
    user: UserInfo | None = None


@dataclass
class UserNodes:
    """The composed nodes of one user entry, for the editor."""

    info: UserInfo
    entry: yaml.MappingNode
    exec: yaml.MappingNode | None = None
    pairs: dict[str, tuple[yaml.Node, yaml.Node]] = field(default_factory=dict)
    user_env_item: yaml.MappingNode | None = None


@dataclass
class ParsedFile:
    """One parsed kubeconfig file."""

    path: str
    text: str
    root: yaml.Node | None
    users: list[UserNodes]
    clusters: dict[str, ClusterInfo]
    contexts: dict[str, ContextInfo]
    current_context: str
    base_dir: str

    def user(self, name: str) -> UserNodes | None:
        return next((u for u in self.users if u.info.name == name), None)

    def shared(self, node: yaml.Node) -> bool:
        """Whether ``node`` or anything in it is reachable twice (a YAML anchor and alias):
        editing it would change other parts of the document too."""
        if self._shared is None:
            self._shared = _shared_nodes(self.root)
        stack = [node]
        while stack:
            current = stack.pop()
            if id(current) in self._shared:
                return True
            if isinstance(current, yaml.MappingNode):
                stack.extend(n for pair in current.value for n in pair)
            elif isinstance(current, yaml.SequenceNode):
                stack.extend(current.value)
        return False

    _shared: set[int] | None = None


def _shared_nodes(root: yaml.Node | None) -> set[int]:
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return shared


def is_shim_command(command: str) -> bool:
    """Whether ``command`` names a kubewarm shim (launcher, ``kubewarm-exec`` or ``kubewarm``)."""
    name = command.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for suffix in (".exe", ".py", ".cmd", ".bat"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name in SHIM_NAMES


def shim_prefix(command: str) -> tuple[str, ...]:
    """Arguments the shim command itself takes before the plugin argv (``kubewarm exec``)."""
    name = command.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return ("exec",) if name in ("kubewarm", "kubewarm.exe") else ()


# The shim argument that declares a user's own exec.env names (kubectl sets them in the
# plugin's environment, where the shim cannot tell them from the shell's): the shim keys on
# them. It stands right after the shim's own prefix, before the plugin's argv.
EXEC_ENV_FLAG = "--exec-env="


def exec_env_args(names: tuple[str, ...]) -> tuple[str, ...]:
    """The shim arguments that declare ``names`` (none when there are none)."""
    return (EXEC_ENV_FLAG + ",".join(names),) if names else ()


def has_separator(command: str) -> bool:
    """Whether ``command`` is a path (kubectl runs it as such) rather than a name on PATH."""
    return os.sep in command or bool(os.altsep and os.altsep in command)


def resolve_command(command: str, base_dir: str) -> str:
    """``command`` as kubectl runs it: a relative path containing a separator is resolved
    against the kubeconfig's directory; a bare name is looked up on PATH."""
    if has_separator(command) and not os.path.isabs(command):
        return os.path.normpath(os.path.join(base_dir, command))
    return command
