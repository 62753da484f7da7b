"""Several kubeconfig files read together as kubectl merges them: the first file to define a
name wins, names resolve across files, the first current-context set is the current one."""

from __future__ import annotations

import os
from pathlib import Path

from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig.merge import load, load_contexts, merge_contexts
from kubewarm.engine.kubeconfig.parse import parse


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_names_resolve_across_files_and_the_first_definition_wins(tmp_path):
    first = _write(
        tmp_path / "first",
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
        "- name: orphan\n  context: {cluster: nowhere, user: nobody}\n"
        "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n",
    )
    second = _write(
        tmp_path / "second",
        "current-context: y\n"
        "contexts:\n- name: x\n  context: {cluster: other, user: other}\n"
        "- name: y\n  context: {cluster: c, user: u, namespace: ns}\n"
        "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:2'}\n"
        "users:\n- name: u\n  user:\n    exec: {command: aws}\n",
    )
    third = _write(
        tmp_path / "third", "current-context: x\nusers:\n- name: u\n  user: {token: t}\n"
    )
    contexts = {c.name: c for c in merge_contexts([parse(p) for p in (first, second, third)])}
    assert list(contexts) == ["x", "orphan", "y"]
    x, y = contexts["x"], contexts["y"]
    assert x.cluster is not None and x.user is not None and y.cluster is not None
    assert (x.path, x.cluster_name, x.user_name) == (first, "c", "u")
    assert x.cluster.server == "https://127.0.0.1:1" and x.cluster.path == first
    assert x.user.path == second and x.user.plugin == "aws"  # a user from another file
    assert y.current and not x.current  # the first file that sets current-context
    assert y.namespace == "ns" and y.cluster.server == "https://127.0.0.1:1"
    assert contexts["orphan"].cluster is None and contexts["orphan"].user is None


def test_missing_files_from_the_environment_are_skipped(tmp_path, kw_env, monkeypatch):
    present = _write(tmp_path / "present", "contexts:\n- name: p\n  context: {user: u}\n")
    absent = str(tmp_path / "absent")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join((absent, present)))
    files = kubeconfig_files.resolve()
    assert [pf.path for pf in load(files)] == [present]
    assert [c.name for c in load_contexts()] == ["p"]
    assert [c.name for c in load_contexts([present])] == ["p"]
