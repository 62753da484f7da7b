"""What kubectl hands an exec plugin for a context, byte for byte as client-go builds it.

:func:`plugin_invocation` gives the argv, the environment (``exec.env`` merged,
``KUBEWARM_USER`` included) and ``KUBERNETES_EXEC_INFO`` exactly as client-go serialises it
(Go's encoding/json: sorted keys, HTML characters escaped), so the tray and ``kubewarm status``
compute the cache key the shim will compute for that context's next kubectl call.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from kubewarm.engine.kubeconfig.model import USER_ENV, ClusterInfo, ContextInfo


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
