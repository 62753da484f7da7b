"""client-go's view of a context, without kubectl: ``KUBERNETES_EXEC_INFO`` in Go's JSON
(key order, HTML escapes, omitted fields) and the plugin's argv and environment. The same
function is checked against what the real kubectl sends in test_kubeconfig_model.py."""

from __future__ import annotations

import base64

import pytest
from kubewarm.engine.kubeconfig.clientgo import exec_info, plugin_invocation
from kubewarm.engine.kubeconfig.merge import merge_contexts
from kubewarm.engine.kubeconfig.model import ContextInfo
from kubewarm.engine.kubeconfig.parse import parse

API = "client.authentication.k8s.io/v1beta1"


def _context(cluster: str, exec_block: str, path: str = "/k/config") -> ContextInfo:
    text = (
        "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n"
        f"clusters:\n- name: c\n  cluster:\n{cluster}"
        f"users:\n- name: u\n  user:\n    exec:\n      apiVersion: {API}\n{exec_block}"
    )
    (context,) = merge_contexts([parse(path, text)])
    return context


def test_without_provide_cluster_info_only_interactive_is_sent():
    context = _context("    server: https://127.0.0.1:1\n", "      command: aws\n")
    expected = '{"kind":"ExecCredential","apiVersion":"%s","spec":{"interactive":%s}}\n'
    assert exec_info(context) == expected % (API, "false")
    assert exec_info(context, interactive=True) == expected % (API, "true")


def test_cluster_fields_in_go_order_with_go_escapes(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"-----CA-----\n")
    context = _context(
        "    server: https://127.0.0.1:1/a?b=1&c=<d>\n"
        "    certificate-authority: ca.pem\n"
        "    disable-compression: true\n"
        "    proxy-url: http://127.0.0.1:3128\n"
        "    insecure-skip-tls-verify: true\n"
        "    tls-server-name: api.example.com\n"
        "    extensions:\n"
        "    - name: client.authentication.k8s.io/exec\n"
        '      extension: {z: "\\u2028", a: "ü&"}\n',
        "      command: aws\n      provideClusterInfo: true\n",
        str(tmp_path / "config"),
    )
    b64 = base64.b64encode(b"-----CA-----\n").decode()
    cluster = (
        '{"server":"https://127.0.0.1:1/a?b=1\\u0026c=\\u003cd\\u003e",'
        '"tls-server-name":"api.example.com","insecure-skip-tls-verify":true,'
        f'"certificate-authority-data":"{b64}","proxy-url":"http://127.0.0.1:3128",'
        '"disable-compression":true,"config":{"a":"ü\\u0026","z":"\\u2028"}}'
    )
    assert exec_info(context) == (
        f'{{"kind":"ExecCredential","apiVersion":"{API}",'
        f'"spec":{{"cluster":{cluster},"interactive":false}}}}\n'
    )


@pytest.mark.parametrize(
    "ca",
    ["    certificate-authority-data: abc\n", "    certificate-authority: missing.pem\n", ""],
    ids=["bad-base64", "missing-file", "none"],
)
def test_unreadable_or_absent_ca_is_left_out_and_config_is_null(ca):
    context = _context(
        "    server: https://127.0.0.1:1\n" + ca,
        "      command: aws\n      provideClusterInfo: on\n",
    )
    assert '"cluster":{"server":"https://127.0.0.1:1","config":null}' in exec_info(context)


def test_only_exec_users_have_an_invocation():
    text = (
        "contexts:\n- name: ctx\n  context: {cluster: c, user: t}\n"
        "users:\n- name: t\n  user: {token: x}\n"
    )
    (context,) = merge_contexts([parse("/k/config", text)])
    with pytest.raises(ValueError, match="context 'ctx'"):
        exec_info(context)
    with pytest.raises(ValueError, match="context 'ctx' does not use an exec plugin"):
        plugin_invocation(context, {})


def test_a_wrapped_user_keeps_its_own_kubewarm_user():
    context = _context(
        "    server: https://127.0.0.1:1\n",
        "      command: /x/kubewarm-exec\n      args: [aws, eks]\n"
        "      env: [{name: KUBEWARM_USER, value: orig}, {name: A, value: b}]\n",
    )
    invocation = plugin_invocation(context, {"KUBEWARM_USER": "shell", "A": "shell"})
    assert invocation.argv == ("aws", "eks")
    assert invocation.env["KUBEWARM_USER"] == "orig" and invocation.env["A"] == "b"
    assert invocation.env["KUBERNETES_EXEC_INFO"] == exec_info(context)
