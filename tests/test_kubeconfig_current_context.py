"""Switching the current context (the tray's check-marked context list) does what
``kubectl config use-context`` does, to the same file, and changes nothing else: the real
kubectl reads the result, and runs the same switch on a copy for comparison."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from kubewarm.engine.kubeconfig import current_context
from kubewarm.engine.kubeconfig.model import KubeconfigError
from kubewarm.engine.kubeconfig.parse import parse

from tests.fixtures_core import kubectl_path

pytestmark = pytest.mark.real

A = """\
apiVersion: v1
# the team's clusters
clusters:
- cluster: {server: "https://127.0.0.1:1"}
  name: c
contexts:
- context: {cluster: c, user: u}   # prod
  name: prod
- context: {cluster: c, user: u}
  name: "dev team"
current-context: prod  # set by aws eks update-kubeconfig
kind: Config
users:
- name: u
  user: {token: x}
"""
B = (
    "apiVersion: v1\r\ncontexts:\r\n- context: {cluster: c, user: u}\r\n"
    "  name: gke\r\nkind: Config\r\n"
)


def _kubectl(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(kubectl_path()), "config", *args],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def _current_in(path: Path) -> str:
    """The current-context one file sets (kubectl may rewrite every file it loaded)."""
    return parse(str(path)).current_context


def _files(folder: Path, texts: dict[str, str]) -> list[Path]:
    folder.mkdir()
    paths = []
    for name, text in texts.items():
        path = folder / name
        path.write_bytes(text.encode())
        paths.append(path)
    return paths


def _switch_both(tmp_path: Path, texts: dict[str, str], name: str) -> tuple[list[Path], list[Path]]:
    """The same files switched by kubewarm (returned first) and by kubectl (second)."""
    ours = _files(tmp_path / "ours", texts)
    theirs = _files(tmp_path / "theirs", texts)
    env = {**os.environ, "KUBECONFIG": os.pathsep.join(map(str, ours))}
    result = current_context.use(name, environ=env)
    assert result.path and result.name == name
    assert _kubectl(env, "current-context") == name  # kubectl reads what we wrote
    kube_env = {**os.environ, "KUBECONFIG": os.pathsep.join(map(str, theirs))}
    _kubectl(kube_env, "use-context", name)
    return ours, theirs


def test_switch_changes_only_the_value_and_kubectl_reads_it(kw_env, tmp_path):
    ours, theirs = _switch_both(tmp_path, {"config": A}, "dev team")
    assert ours[0].read_text() == A.replace(
        "current-context: prod  #", "current-context: 'dev team'  #"
    )
    assert "# the team's clusters" not in theirs[0].read_text()  # kubectl re-serialises


def test_the_file_kubectl_would_write_is_the_one_written(kw_env, tmp_path):
    # the second file sets the current context, but kubectl writes to the first
    ours, theirs = _switch_both(tmp_path, {"b": B, "a": A}, "gke")
    assert ours[0].read_bytes() == (B + "current-context: gke\r\n").encode()
    assert ours[1].read_text() == A
    assert [_current_in(p) for p in theirs] == ["gke", "prod"]  # kubectl chose the same file


def test_no_current_context_anywhere_adds_one_line_to_the_first_file(kw_env, tmp_path):
    ours, theirs = _switch_both(
        tmp_path, {"b": B, "a": A.replace("current-context", "x-c")}, "prod"
    )
    assert ours[0].read_bytes() == (B + "current-context: prod\r\n").encode()
    assert [_current_in(p) for p in theirs] == ["prod", ""]  # kubectl chose the same file
    assert current_context.current(environ={"KUBECONFIG": str(ours[0])}) == "prod"


def test_unknown_context_is_refused_and_nothing_is_written(kw_env, tmp_path):
    (path,) = _files(tmp_path / "k", {"config": A})
    with pytest.raises(KubeconfigError, match="no context exists with the name 'nope'"):
        current_context.use("nope", environ={"KUBECONFIG": str(path)})
    assert path.read_text() == A
    already = current_context.use("prod", environ={"KUBECONFIG": str(path)})
    assert already.path == "" and path.read_text() == A
    assert shutil.which("kubectl")
