"""A read-only model of kubeconfig files: contexts, their cluster and user, the exec block.

Used by ``kubewarm status``, the tray and the injector. Parsing keeps PyYAML's composed nodes
(with their exact marks) so that the editor can change a file surgically; errors name the file
and line. Several files merge the way kubectl merges them: the first file that defines a
name wins.

:func:`plugin_invocation` reproduces what kubectl hands an exec plugin for a context: argv,
environment (``exec.env`` merged, ``KUBEWARM_USER`` included) and ``KUBERNETES_EXEC_INFO``
byte for byte as client-go serialises it, so the tray computes the shim's cache key.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import yaml
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.kubeconfig.files import KubeconfigPath, display

USER_ENV = "KUBEWARM_USER"
SHIM_NAMES = ("kubewarm-exec", "kubewarm")
EXEC_EXTENSION = "client.authentication.k8s.io/exec"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_NOT_STRINGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool")
_TRUE = ("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON")


class KubeconfigError(KubewarmError):
    """A kubeconfig kubewarm cannot use; the message names the file and, when known, the line."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
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


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def is_null(node: yaml.Node | None) -> bool:
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL)


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


class _Reader:
    """Checks and reads one composed document, raising errors that name the file and line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, message: str) -> KubeconfigError:
        return KubeconfigError(self.path, message, _line(node) if node is not None else None)

    def mapping(self, node: yaml.Node | None, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if is_null(node):
            return []
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        pairs = []
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, f"{what} has a key that is not a string")
            if key.value == "<<":
                raise self.fail(key, f"{what} uses a YAML merge key (<<), which kubectl ignores")
            pairs.append((key, value))
        return pairs

    def pairs(self, node: yaml.Node | None, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in self.mapping(node, what):
            if key.value in result:
                raise self.fail(key, f"{what} has {key.value!r} twice")
            result[key.value] = (key, value)
        return result

    def sequence(self, node: yaml.Node | None, what: str) -> list[yaml.Node]:
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node | None, what: str) -> str:
        if is_null(node):
            return ""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a string")
        return node.value

    def string(self, node: yaml.Node | None, what: str) -> str:
        """Like :meth:`text`, but a number or boolean is an error, as it is for kubectl."""
        if isinstance(node, yaml.ScalarNode) and node.tag in _NOT_STRINGS:
            kind = "a boolean" if node.tag.endswith("bool") else "a number"
            raise self.fail(node, f"{what} {node.value} is {kind}, which kubectl refuses; quote it")
        return self.text(node, what)

    def flag(self, node: yaml.Node | None, what: str) -> bool:
        return self.text(node, what) in _TRUE

    def value(self, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]], key: str):
        return pairs[key][1] if key in pairs else None


def compose(path: str, text: str, exact: bool = True) -> yaml.Node | None:
    """The first YAML document of ``text`` as composed nodes (None for an empty file).

    ``exact`` uses the pure-Python parser, whose marks are exact character offsets (the editor
    needs them); otherwise libyaml is used when available (lines only, ~15x faster).
    """
    loader = yaml.SafeLoader
    if not exact:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for node in yaml.compose_all(text, Loader=loader):
            return node
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else None
        raise KubeconfigError(path, f"not valid YAML ({problem})", line) from None
    except yaml.YAMLError as exc:
        raise KubeconfigError(path, f"not valid YAML ({exc})") from None


def read_text(path: str) -> str:
    """The file's text (UTF-8, line endings untouched)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise KubeconfigError(path, "no such file") from None
    except IsADirectoryError:
        raise KubeconfigError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise KubeconfigError(path, f"cannot be read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KubeconfigError(path, "is not UTF-8 text", line) from None


def parse(file: KubeconfigPath | str, text: str | None = None, exact: bool = True) -> ParsedFile:
    """Parse one kubeconfig file (or ``text`` as if it were that file)."""
    kpath = file if isinstance(file, KubeconfigPath) else None
    path = kpath.target if kpath else os.path.abspath(str(file))
    base_dir = kpath.base_dir if kpath else os.path.dirname(path)
    if text is None:
        text = read_text(path)
    root = compose(path, text, exact)
    r = _Reader(path)
    top = r.pairs(root, "the file")
    clusters = _clusters(r, top, base_dir)
    users = _users(r, top, base_dir)
    current = r.text(r.value(top, "current-context"), "current-context")
    contexts: dict[str, ContextInfo] = {}
    for item in r.sequence(r.value(top, "contexts"), "contexts"):
        pairs = r.pairs(item, "a context entry")
        name = _name(r, item, pairs, "context", contexts)
        body = r.pairs(r.value(pairs, "context"), f"context {name!r}")
        contexts[name] = ContextInfo(
            name=name,
            path=path,
            line=_line(item),
            cluster_name=r.text(r.value(body, "cluster"), f"context {name!r} cluster"),
            user_name=r.text(r.value(body, "user"), f"context {name!r} user"),
            namespace=r.text(r.value(body, "namespace"), f"context {name!r} namespace"),
        )
    return ParsedFile(path, text, root, users, clusters, contexts, current, base_dir)


def _name(r: _Reader, item: yaml.Node, pairs, kind: str, seen) -> str:
    name = r.text(r.value(pairs, "name"), f"a {kind} name")
    if not name:
        raise r.fail(item, f"a {kind} entry has no name")
    if name in seen:
        raise r.fail(item, f"{kind} {name!r} is defined twice in this file")
    return name


def _resolve(path: str, base_dir: str) -> str:
    return path if not path or os.path.isabs(path) else os.path.join(base_dir, path)


def _clusters(r: _Reader, top, base_dir: str) -> dict[str, ClusterInfo]:
    clusters: dict[str, ClusterInfo] = {}
    for item in r.sequence(r.value(top, "clusters"), "clusters"):
        pairs = r.pairs(item, "a cluster entry")
        name = _name(r, item, pairs, "cluster", clusters)
        what = f"cluster {name!r}"
        body = r.pairs(r.value(pairs, "cluster"), what)
        config = None
        for ext in r.sequence(r.value(body, "extensions"), f"{what} extensions"):
            ext_pairs = r.pairs(ext, f"{what} extension")
            if r.text(r.value(ext_pairs, "name"), f"{what} extension name") == EXEC_EXTENSION:
                config = _plain(r.value(ext_pairs, "extension"))

        def t(key: str, body=body, what=what) -> str:
            return r.text(r.value(body, key), f"{what} {key}")

        clusters[name] = ClusterInfo(
            name=name,
            path=r.path,
            line=_line(item),
            server=t("server"),
            certificate_authority=_resolve(t("certificate-authority"), base_dir),
            certificate_authority_data=t("certificate-authority-data"),
            tls_server_name=t("tls-server-name"),
            insecure_skip_tls_verify=r.flag(r.value(body, "insecure-skip-tls-verify"), what),
            proxy_url=t("proxy-url"),
            disable_compression=r.flag(r.value(body, "disable-compression"), what),
            exec_config=config,
        )
    return clusters


class _GoYamlLoader(yaml.SafeLoader):
    """Reads YAML the way kubectl's go-yaml does where PyYAML differs: ``y``/``n`` are
    booleans, timestamps stay strings."""

    bool_values: ClassVar[dict] = {**yaml.SafeLoader.bool_values, "y": True, "n": False}
    yaml_implicit_resolvers: ClassVar[dict] = {
        first: [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
        ]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_GoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN")
)


def _go_tagged(loader: _GoYamlLoader, node: yaml.Node) -> yaml.Node:
    """A copy of ``node`` with plain scalars re-resolved by go-yaml's rules."""
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if not node.style:  # plain (PyYAML: None, libyaml: '')
            tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))
        return yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)
    if isinstance(node, yaml.SequenceNode):
        items = [_go_tagged(loader, n) for n in node.value]
        return yaml.SequenceNode(node.tag, items, node.start_mark, node.end_mark, node.flow_style)
    pairs = [(_go_tagged(loader, k), _go_tagged(loader, v)) for k, v in node.value]
    return yaml.MappingNode(node.tag, pairs, node.start_mark, node.end_mark, node.flow_style)


def _go_keys(value: object) -> object:
    """Map keys as strings, the way kubectl turns YAML into JSON (``false``, ``1`` …)."""
    if isinstance(value, dict):
        return {_go_key(k): _go_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_keys(v) for v in value]
    return value


def _go_key(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _plain(node: yaml.Node | None) -> object:
    """A composed node as plain data, as kubectl reads it (for the exec extension's config)."""
    if node is None:
        return None
    loader = _GoYamlLoader("")
    try:
        return _go_keys(loader.construct_document(_go_tagged(loader, node)))
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def _users(r: _Reader, top, base_dir: str) -> list[UserNodes]:
    users: list[UserNodes] = []
    names: set[str] = set()
    for item in r.sequence(r.value(top, "users"), "users"):
        pairs = r.pairs(item, "a user entry")
        name = _name(r, item, pairs, "user", names)
        names.add(name)
        what = f"user {name!r}"
        body = r.pairs(r.value(pairs, "user"), what)
        exec_node = r.value(body, "exec")
        if is_null(exec_node):
            kind = _kind(body)
            users.append(UserNodes(UserInfo(name, r.path, _line(item), kind), item))
            continue
        users.append(_exec_user(r, name, item, exec_node, base_dir))
    return users


def _kind(body) -> str:
    if "auth-provider" in body:
        return "auth-provider"
    if "token" in body or "tokenFile" in body:
        return "token"
    if "client-certificate" in body or "client-certificate-data" in body:
        return "client-certificate"
    if "username" in body:
        return "basic"
    return "none"


def _exec_user(
    r: _Reader, name: str, item: yaml.MappingNode, exec_node: yaml.Node, base_dir: str
) -> UserNodes:
    what = f"user {name!r} exec"
    pairs = r.pairs(exec_node, what)
    command = r.string(r.value(pairs, "command"), f"{what} command")
    if not command:
        raise r.fail(exec_node, f"{what} has no command")
    args = tuple(
        r.string(node, f"{what} args item")
        for node in r.sequence(r.value(pairs, "args"), f"{what} args")
    )
    env: list[tuple[str, str]] = []
    marker_item = None
    for node in r.sequence(r.value(pairs, "env"), f"{what} env"):
        env_pairs = r.pairs(node, f"{what} env item")
        var = r.string(r.value(env_pairs, "name"), f"{what} env name")
        if not var:
            raise r.fail(node, f"{what} env item has no name")
        env.append((var, r.string(r.value(env_pairs, "value"), f"{what} env {var}")))
        if var == USER_ENV and marker_item is None:
            marker_item = node
    config = ExecConfig(
        api_version=r.text(r.value(pairs, "apiVersion"), f"{what} apiVersion"),
        command=command,
        args=args,
        env=tuple(env),
        provide_cluster_info=r.flag(r.value(pairs, "provideClusterInfo"), what),
        interactive_mode=r.text(r.value(pairs, "interactiveMode"), f"{what} interactiveMode"),
        install_hint=r.text(r.value(pairs, "installHint"), f"{what} installHint"),
    )
    marker = next((v for k, v in env if k == USER_ENV), None)
    prefix = shim_prefix(command)
    wrapped = (
        is_shim_command(command)
        and len(args) > len(prefix)
        and tuple(args[: len(prefix)]) == prefix
    )
    plugin_argv = args[len(prefix) :] if wrapped else (resolve_command(command, base_dir), *args)
    info = UserInfo(
        name=name,
        path=r.path,
        line=_line(item),
        kind="exec",
        exec=config,
        wrapped=wrapped,
        shim_command=command if wrapped else "",
        kubewarm_user=marker,
        plugin_argv=tuple(plugin_argv),
    )
    return UserNodes(info, item, exec_node, pairs, marker_item)


def has_separator(command: str) -> bool:
    return os.sep in command or bool(os.altsep and os.altsep in command)


def resolve_command(command: str, base_dir: str) -> str:
    """``command`` as kubectl runs it: a relative path containing a separator is resolved
    against the kubeconfig's directory; a bare name is looked up on PATH."""
    if has_separator(command) and not os.path.isabs(command):
        return os.path.normpath(os.path.join(base_dir, command))
    return command


# --- several files -----------------------------------------------------------------------------


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
    from kubewarm.engine.kubeconfig import files as kubeconfig_files

    if paths is None:
        files = kubeconfig_files.resolve()
    else:
        files = [
            p if isinstance(p, KubeconfigPath) else kubeconfig_files.resolve([p])[0] for p in paths
        ]
    return merge_contexts(load(files))


# --- what kubectl hands the plugin -------------------------------------------------------------


@dataclass(frozen=True)
class PluginInvocation:
    """How the shim will be asked for a context's credential: plugin argv (the shim's own
    arguments), the full environment, and ``KUBERNETES_EXEC_INFO`` as client-go sends it."""

    argv: tuple[str, ...]
    env: dict[str, str]
    exec_info: str


def exec_info(context: ContextInfo, interactive: bool = False) -> str:
    """``KUBERNETES_EXEC_INFO`` exactly as client-go serialises it (trailing newline included)."""
    user = context.user
    if user is None or user.exec is None:
        raise ValueError(f"context {context.name!r} has no exec user")
    spec = "{"
    if user.exec.provide_cluster_info and context.cluster is not None:
        spec += '"cluster":' + _cluster_json(context.cluster) + ","
    spec += '"interactive":' + ("true" if interactive else "false") + "}"
    return (
        '{"kind":"ExecCredential","apiVersion":'
        + _go_json(user.exec.api_version)
        + ',"spec":'
        + spec
        + "}\n"
    )


def _cluster_json(cluster: ClusterInfo) -> str:
    parts = ['"server":' + _go_json(cluster.server)]
    if cluster.tls_server_name:
        parts.append('"tls-server-name":' + _go_json(cluster.tls_server_name))
    if cluster.insecure_skip_tls_verify:
        parts.append('"insecure-skip-tls-verify":true')
    ca = _ca_bytes(cluster)
    if ca:
        parts.append('"certificate-authority-data":' + _go_json(base64.b64encode(ca).decode()))
    if cluster.proxy_url:
        parts.append('"proxy-url":' + _go_json(cluster.proxy_url))
    if cluster.disable_compression:
        parts.append('"disable-compression":true')
    parts.append('"config":' + _go_json(cluster.exec_config))
    return "{" + ",".join(parts) + "}"


def _ca_bytes(cluster: ClusterInfo) -> bytes:
    if cluster.certificate_authority_data:
        try:
            return base64.b64decode(cluster.certificate_authority_data)
        except ValueError:
            return b""
    if cluster.certificate_authority:
        try:
            with open(cluster.certificate_authority, "rb") as fh:
                return fh.read()
        except OSError:
            return b""
    return b""


def _go_json(value: object) -> str:
    """Compact JSON as Go's encoding/json writes it (sorted map keys, HTML characters escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def plugin_invocation(
    context: ContextInfo,
    environ: Mapping[str, str] | None = None,
    interactive: bool = False,
) -> PluginInvocation:
    """What the shim receives for ``context`` once its user is wrapped (or now, if it is)."""
    user = context.user
    if user is None or user.exec is None:
        raise ValueError(f"context {context.name!r} does not use an exec plugin")
    env = dict(os.environ if environ is None else environ)
    for name, value in user.exec.env:
        env[name] = value
    if not user.wrapped or user.kubewarm_user is None:
        env[USER_ENV] = user.name
    info = exec_info(context, interactive)
    env["KUBERNETES_EXEC_INFO"] = info
    return PluginInvocation(tuple(user.plugin_argv), env, info)
