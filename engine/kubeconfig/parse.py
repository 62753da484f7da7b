"""Reading one kubeconfig file into the model, keeping PyYAML's composed nodes.

The nodes keep their exact marks so that the editor can change the file surgically. Every
error names the file and, when known, the line, in kubectl's terms ("args must be a list").
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import yaml
from kubewarm.engine.kubeconfig.files import KubeconfigPath
from kubewarm.engine.kubeconfig.goyaml import go_plain
from kubewarm.engine.kubeconfig.model import (
    EXEC_ENV_FLAG,
    USER_ENV,
    ClusterInfo,
    ContextInfo,
    ExecConfig,
    KubeconfigError,
    ParsedFile,
    UserInfo,
    UserNodes,
    is_shim_command,
    resolve_command,
    shim_prefix,
)

EXEC_EXTENSION = "client.authentication.k8s.io/exec"
_NULL = "tag:yaml.org,2002:null"
_NOT_STRINGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool")
_TRUE = ("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def is_null(node: yaml.Node | None) -> bool:
    """An absent key or a YAML null: kubectl reads both as unset."""
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL)


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
            _check_size(path, node)
            return node
        return None
    except RecursionError:
        raise KubeconfigError(path, f"nested more than {MAX_DEPTH} levels deep") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else None
        raise KubeconfigError(path, f"not valid YAML ({problem})", line) from None
    except yaml.YAMLError as exc:
        raise KubeconfigError(path, f"not valid YAML ({exc})") from None


# kubectl refuses alias bombs and absurd nesting; so does kubewarm, before anything walks the
# nodes (a billion-laughs bomb is a few hundred bytes that expand to billions of nodes).
MAX_DEPTH = 100
MAX_EXPANDED = 250_000


def _check_size(path: str, root: yaml.Node) -> None:
    """Raise KubeconfigError when the document, with every alias expanded, has more than
    MAX_EXPANDED nodes or is nested more than MAX_DEPTH levels (a bounded walk: it stops at
    the first node past either bound)."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        line = node.start_mark.line + 1
        if seen > MAX_EXPANDED:
            raise KubeconfigError(
                path, "too many YAML nodes once its aliases are expanded (an alias bomb?)", line
            )
        if depth > MAX_DEPTH:
            raise KubeconfigError(path, f"nested more than {MAX_DEPTH} levels deep", line)
        if isinstance(node, yaml.MappingNode):
            stack.extend((n, depth + 1) for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((n, depth + 1) for n in node.value)


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
                config = go_plain(r.value(ext_pairs, "extension"))

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


def _users(r: _Reader, top, base_dir: str) -> list[UserNodes]:
    users: list[UserNodes] = []
    names: set[str] = set()
    for item in r.sequence(r.value(top, "users"), "users"):
        pairs = r.pairs(item, "a user entry")
        name = _name(r, item, pairs, "user", names)
        assert isinstance(item, yaml.MappingNode)  # it has a name: pairs() found a mapping
        names.add(name)
        what = f"user {name!r}"
        body = r.pairs(r.value(pairs, "user"), what)
        exec_node = r.value(body, "exec")
        if exec_node is None or is_null(exec_node):
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
    assert isinstance(exec_node, yaml.MappingNode)  # it has a command: pairs() found a mapping
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
        assert isinstance(node, yaml.MappingNode)  # it has a name: pairs() found a mapping
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
    declared: tuple[str, ...] = ()
    if wrapped and args[len(prefix)].startswith(EXEC_ENV_FLAG):
        flag = args[len(prefix)]
        declared = tuple(n for n in flag[len(EXEC_ENV_FLAG) :].split(",") if n)
        prefix = (*prefix, flag)
        wrapped = len(args) > len(prefix)
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
        declared_env=declared,
    )
    return UserNodes(info, item, exec_node, pairs, marker_item)
