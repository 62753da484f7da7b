"""The read-only kubeconfig model: which files, contexts across files, errors with file and
line, and what kubectl hands a plugin (checked against the real kubectl)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from kubewarm.engine.kubeconfig import clientgo
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig import parse as kubeconfig_parse
from kubewarm.engine.kubeconfig.merge import load_contexts
from kubewarm.engine.kubeconfig.model import ContextInfo, ExecConfig, KubeconfigError, UserInfo

from tests.fixtures_core import EXEC_API, KUBECTL_VERSIONS, kubectl_path
from tests.kubeconfig_helpers import CORPUS

# --- which files --------------------------------------------------------------------------------


def test_explicit_kubeconfig_wins_over_environment(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    files = kubeconfig_files.resolve([str(a)], {"KUBECONFIG": str(b)})
    assert [f.path for f in files] == [str(a)]
    assert files[0].explicit and not files[0].exists


def test_kubeconfig_variable_split_on_pathsep_in_order_without_duplicates(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("")
    (tmp_path / "link").symlink_to(a)
    spec = os.pathsep.join([str(b), "", str(a), str(tmp_path / "link"), str(b)])
    files = kubeconfig_files.resolve(None, {"KUBECONFIG": spec})
    assert [f.path for f in files] == [str(b), str(a)]
    assert [f.source for f in files] == ["$KUBECONFIG", "$KUBECONFIG"]
    assert not files[0].exists and files[1].exists


def test_default_is_home_kube_config(kw_env):
    files = kubeconfig_files.resolve(None, {})
    assert [f.path for f in files] == [os.path.join(kw_env["HOME"], ".kube", "config")]
    assert files[0].source == "default"


def test_symlinked_file_is_edited_at_its_target_but_resolved_from_the_link(tmp_path):
    real = tmp_path / "dotfiles" / "kubeconfig.yaml"
    real.parent.mkdir()
    real.write_text("")
    link_dir = tmp_path / "home" / ".kube"
    link_dir.mkdir(parents=True)
    (link_dir / "config").symlink_to(real)
    (file,) = kubeconfig_files.resolve([str(link_dir / "config")])
    assert file.target == str(real)
    # kubectl resolves relative paths in a kubeconfig against the directory it was named in
    assert file.base_dir == str(link_dir)


# --- contexts across files ---------------------------------------------------------------------


def test_contexts_merge_across_files_first_definition_wins():
    contexts = load_contexts([str(CORPUS / "multi" / "a.yaml"), str(CORPUS / "multi" / "b.yaml")])
    by_name = {c.name: c for c in contexts}
    assert list(by_name) == ["alpha", "beta"]
    alpha, beta = by_name["alpha"], by_name["beta"]
    assert alpha.user is not None and beta.user is not None and beta.cluster is not None
    assert beta.user.exec is not None
    assert alpha.current and not beta.current
    assert alpha.user.plugin_argv == ("aws", "eks", "get-token", "--cluster-name", "alpha")
    assert alpha.user.path.endswith("a.yaml")  # b.yaml's alpha is shadowed, as in kubectl
    assert beta.user.plugin == "gke-gcloud-auth-plugin" and beta.user.path.endswith("b.yaml")
    assert beta.user.exec.provide_cluster_info
    assert beta.cluster.server == "https://127.0.0.1:6443"
    assert not alpha.user.wrapped


def _user(context: ContextInfo) -> UserInfo:
    assert context.user is not None, f"context {context.name!r} has no user"
    return context.user


def _exec(user: UserInfo) -> ExecConfig:
    assert user.exec is not None, f"user {user.name!r} has no exec block"
    return user.exec


def test_user_kinds_and_exec_details():
    contexts = {c.name: c for c in load_contexts([str(CORPUS / "several-users.yaml")])}
    assert _user(contexts["tok"]).kind == "token"
    assert _user(contexts["legacy"]).kind == "auth-provider"
    gke = _user(contexts["gke"])
    assert gke.kind == "exec" and _exec(gke).interactive_mode == "Never"
    assert _exec(gke).install_hint == "Install gke-gcloud-auth-plugin"
    assert _exec(_user(contexts["eks"])).env == (("AWS_PROFILE", "dev"),)


def test_wrapped_user_is_recognised_with_its_plugin_argv(tmp_path):
    path = tmp_path / "config"
    path.write_text(
        "users:\n- name: u\n  user:\n    exec:\n"
        "      command: /x/kubewarm-exec\n      args: [aws, eks, get-token]\n"
        "      env: [{name: KUBEWARM_USER, value: u}]\n"
        "- name: w\n  user:\n    exec:\n"
        "      command: C:\\x\\kubewarm.exe\n      args: [exec, gke-gcloud-auth-plugin]\n"
        "- name: plain\n  user:\n    exec:\n"
        "      command: aws\n      args: [eks]\n      env: [{name: KUBEWARM_USER, value: u}]\n"
    )
    users = {u.info.name: u.info for u in kubeconfig_parse.parse(str(path)).users}
    assert users["u"].wrapped and users["u"].plugin_argv == ("aws", "eks", "get-token")
    assert users["u"].shim_command == "/x/kubewarm-exec" and users["u"].kubewarm_user == "u"
    assert users["w"].wrapped and users["w"].plugin_argv == ("gke-gcloud-auth-plugin",)
    assert users["w"].kubewarm_user is None
    # KUBEWARM_USER alone does not make a user wrapped (another tool set the command back)
    assert not users["plain"].wrapped and users["plain"].kubewarm_user == "u"


# --- errors name the file and the line ----------------------------------------------------------

BAD = [
    ("users:\n- name: a\n  user: {exec: [\n", "not valid YAML", 4),
    ("- just\n- a list\n", "the file must be a mapping", 1),
    ("users: {a: 1}\n", "users must be a list", 1),
    ("users:\n- user: {token: x}\n", "a user entry has no name", 2),
    ("users:\n- name: a\n  user:\n    exec:\n      args: [x]\n", "user 'a' exec has no command", 5),
    (
        "users:\n- name: a\n  user: {token: x}\n- name: a\n  user: {token: y}\n",
        "user 'a' is defined twice in this file",
        4,
    ),
    (
        "users:\n- name: a\n  user:\n    exec:\n      command: aws\n      args: --region\n",
        "user 'a' exec args must be a list",
        6,
    ),
    (
        "users:\n- name: a\n  user:\n    exec:\n      command: aws\n      env:\n      - value: x\n",
        "user 'a' exec env item has no name",
        7,
    ),
    ("contexts:\n- name: c\n  context: [a]\n", "context 'c' must be a mapping", 3),
    (
        "users:\n- name: a\n  user:\n    exec:\n      command: x\n"
        "      args: [--ttl,\n        900]\n",
        "user 'a' exec args item 900 is a number, which kubectl refuses; quote it",
        7,
    ),
    (
        "users:\n- name: a\n  user:\n    exec:\n      <<: {command: aws}\n",
        "merge key",
        5,
    ),
]


@pytest.mark.parametrize("text, message, line", BAD, ids=[m for _, m, _ in BAD])
@pytest.mark.parametrize("exact", [True, False], ids=["python", "libyaml"])
def test_bad_input_error_names_file_and_line(tmp_path, kw_env, text, message, line, exact):
    path = Path(kw_env["HOME"]) / ".kube" / "config"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(KubeconfigError) as caught:
        kubeconfig_parse.parse(str(path), exact=exact)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"kubeconfig ~/.kube/config line {line}: ")


def test_not_utf8_and_missing_file(tmp_path):
    path = tmp_path / "config"
    path.write_bytes(b"users:\n- name: caf\xe9\n")
    with pytest.raises(KubeconfigError, match=r"line 2: is not UTF-8 text"):
        kubeconfig_parse.parse(str(path))
    with pytest.raises(KubeconfigError, match="no such file"):
        kubeconfig_merge.load(kubeconfig_files.resolve([str(tmp_path / "missing")]))


# --- what kubectl hands the plugin -----------------------------------------------------------

CAPTURE_PLUGIN = """\
import os, sys
with open(sys.argv[1], "a", encoding="utf-8") as fh:
    fh.write(repr(os.environ.get("KUBERNETES_EXEC_INFO")) + "\\n")
print('{"apiVersion": "%s", "kind": "ExecCredential", "status": {"token": "t"}}' % sys.argv[2])
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _capture(kubectl: Path, config: Path, log: Path) -> list[str]:
    log.unlink(missing_ok=True)
    subprocess.run(
        [str(kubectl), "--kubeconfig", str(config), "get", "--raw", "/version"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert log.exists(), "kubectl did not run the plugin"
    import ast

    return [ast.literal_eval(line) for line in log.read_text().splitlines()]


def _ca(directory: Path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    key, cert = directory / "ca.key", directory / "ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=kw"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert


CLUSTERS = {
    "no-cluster-info": ("", False, EXEC_API),
    "ca-data-tls-proxy-extension": (
        "    certificate-authority-data: {ca_b64}\n"
        "    tls-server-name: api.example.com\n"
        "    proxy-url: http://127.0.0.1:3128\n"
        "    extensions:\n"
        "    - name: client.authentication.k8s.io/exec\n"
        "      extension:\n"
        "        zeta: 1.50\n"
        '        audience: "sts<&>\\u2028"\n'
        "        list: [3, {b: 2, a: 1}]\n"
        "        n: yes\n"
        "        nested: {y: null, when: 2001-12-14}\n"
        "    - name: other\n"
        "      extension: {q: 1}\n",
        True,
        EXEC_API,
    ),
    "relative-ca-file-v1": (
        "    certificate-authority: ca.pem\n    disable-compression: true\n",
        True,
        "client.authentication.k8s.io/v1",
    ),
    "insecure": ("    insecure-skip-tls-verify: true\n", True, EXEC_API),
}


@pytest.mark.real
@pytest.mark.parametrize("version", [KUBECTL_VERSIONS[0], KUBECTL_VERSIONS[-1]])
@pytest.mark.parametrize("case", list(CLUSTERS))
def test_exec_info_is_what_kubectl_sends(tmp_path, version, case):
    import base64

    kubectl = kubectl_path(version)
    cluster_extra, provide, api_version = CLUSTERS[case]
    ca = _ca(tmp_path)
    plugin = tmp_path / "capture.py"
    plugin.write_text(CAPTURE_PLUGIN)
    log = tmp_path / "info.log"
    config = tmp_path / "config"
    cluster_extra = cluster_extra.replace("{ca_b64}", base64.b64encode(ca.read_bytes()).decode())
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
        "clusters:\n- name: c\n  cluster:\n"
        f"    server: https://127.0.0.1:{_closed_port()}\n{cluster_extra}"
        "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user:\n    exec:\n"
        f"      apiVersion: {api_version}\n"
        f"      command: {sys.executable}\n"
        f"      args: [{plugin}, {log}, {api_version}]\n"
        f"      provideClusterInfo: {'true' if provide else 'false'}\n"
        "      interactiveMode: Never\n"
    )
    sent = _capture(kubectl, config, log)
    (context,) = load_contexts([str(config)])
    expected = clientgo.exec_info(context)
    assert sent[0] == expected


def test_plugin_invocation_env_and_argv(tmp_path):
    config = tmp_path / "kube" / "config"
    config.parent.mkdir()
    config.write_text(
        "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n"
        "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
        "users:\n- name: u\n  user:\n    exec:\n"
        f"      apiVersion: {EXEC_API}\n      command: bin/plugin\n      args: [--flag]\n"
        "      env: [{name: AWS_PROFILE, value: from-kubeconfig}, {name: X, value: '1'}]\n"
    )
    (context,) = load_contexts([str(config)])
    invocation = clientgo.plugin_invocation(
        context, {"AWS_PROFILE": "from-shell", "HOME": "/h"}, interactive=True
    )
    assert invocation.argv == (str(tmp_path / "kube" / "bin" / "plugin"), "--flag")
    assert invocation.env["AWS_PROFILE"] == "from-kubeconfig"  # exec.env wins, as in kubectl
    assert invocation.env["HOME"] == "/h" and invocation.env["X"] == "1"
    assert invocation.env["KUBEWARM_USER"] == "u"
    assert invocation.env["KUBERNETES_EXEC_INFO"] == invocation.exec_info
    assert invocation.exec_info.endswith('"spec":{"interactive":true}}\n')
