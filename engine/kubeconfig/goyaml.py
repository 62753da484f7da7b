"""Reading YAML the way kubectl's go-yaml does, where PyYAML would read it differently.

Used for the one place kubewarm needs a kubeconfig value as plain data rather than as nodes:
the cluster's ``client.authentication.k8s.io/exec`` extension, which client-go passes to the
plugin (in ``KUBERNETES_EXEC_INFO``) as JSON, so it must read ``y`` or a timestamp as go-yaml
does, or the shim's cache key would differ from the one kubectl causes.
"""

from __future__ import annotations

import re
from typing import ClassVar

import yaml


class _GoYamlLoader(yaml.SafeLoader):
    """Reads YAML the way kubectl's go-yaml does where PyYAML differs: ``y``/``n`` are
    booleans, timestamps stay strings."""

    bool_values: ClassVar[dict] = {**yaml.SafeLoader.bool_values, "y": True, "n": False}


# A class attribute, as PyYAML keeps it (set here, not in the class body, because PyYAML's stub
# declares it per instance and a ClassVar there would be an incompatible override).
_GoYamlLoader.yaml_implicit_resolvers = {
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
    assert isinstance(node, yaml.MappingNode)  # a composed node is a scalar, list or mapping
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


def go_plain(node: yaml.Node | None) -> object:
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
