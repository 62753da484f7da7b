"""The one drift rule: what ``kubewarm status`` reports and ``kubewarm inject`` repairs, worded
once (users read from kubeconfig text, shims as real files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kubewarm.engine.contexts.status import user_drift
from kubewarm.engine.kubeconfig.drift import NOT_WRAPPED, drift
from kubewarm.engine.kubeconfig.inject import inject_text
from kubewarm.engine.kubeconfig.launcher import ShimCommand
from kubewarm.engine.kubeconfig.model import UserInfo
from kubewarm.engine.kubeconfig.parse import parse


def _users(text: str) -> dict[str, UserInfo]:
    return {u.info.name: u.info for u in parse("/k/config", "users:\n" + text).users}


def _wrapped(name: str, shim: str, marker: str | None, args: str = "[aws, eks]") -> str:
    env = f"      env: [{{name: KUBEWARM_USER, value: {marker}}}]\n" if marker else ""
    return f"- name: {name}\n  user:\n    exec:\n      command: {shim}\n      args: {args}\n{env}"


@pytest.fixture
def shim(tmp_path: Path) -> str:
    path = tmp_path / "bin" / "kubewarm-exec"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_users_without_exec_never_drift():
    users = _users("- name: t\n  user: {token: x}\n- name: n\n  user: {}\n")
    assert drift(users["t"]) == [] and drift(users["n"], "/x/kubewarm-exec") == []


def test_unwrapped_exec_user_and_one_whose_command_was_set_back():
    users = _users(
        "- name: plain\n  user:\n    exec: {command: aws, args: [eks]}\n"
        "- name: stale\n  user:\n    exec:\n      command: kubectl\n"
        "      env: [{name: KUBEWARM_USER, value: stale}]\n"
    )
    assert drift(users["plain"]) == [NOT_WRAPPED]
    assert NOT_WRAPPED == "not wrapped: kubectl runs the plugin on every call"
    stale = [
        "not wrapped: exec.command is kubectl (set back by another tool?)"
        " but KUBEWARM_USER is still there"
    ]
    assert drift(users["stale"]) == stale
    assert drift(users["stale"], "/x/kubewarm-exec") == stale  # inject words it the same


def test_a_well_wrapped_user_has_no_drift(shim):
    (user,) = _users(_wrapped("u", shim, "u")).values()
    assert user.wrapped
    assert drift(user) == [] and drift(user, shim) == []


def test_missing_or_foreign_kubewarm_user(shim):
    users = _users(_wrapped("none", shim, None) + _wrapped("copy", shim, "orig"))
    assert drift(users["none"]) == ["its env has no KUBEWARM_USER"]
    expected = ["KUBEWARM_USER is 'orig', not 'copy' (copied from another user?)"]
    assert drift(users["copy"]) == expected and drift(users["copy"], shim) == expected


def test_status_asks_whether_the_shim_is_there(shim, tmp_path, monkeypatch):
    not_executable = tmp_path / "bin2" / "kubewarm-exec"
    not_executable.parent.mkdir()
    not_executable.write_text("")
    gone = str(tmp_path / "gone" / "kubewarm-exec")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    users = _users(
        _wrapped("gone", gone, "gone")
        + _wrapped("noexec", str(not_executable), "noexec")
        + _wrapped("bare", "kubewarm-exec", "bare")
    )
    assert drift(users["gone"]) == [f"its shim {gone} does not exist"]
    assert drift(users["noexec"]) == [f"its shim {not_executable} does not exist"]
    assert drift(users["bare"]) == ["its shim kubewarm-exec is not on PATH"]
    monkeypatch.setenv("PATH", os.path.dirname(shim))
    assert drift(users["bare"]) == []
    # inject writes the shim it compares with, so it asks only whether the user runs that one
    assert drift(users["gone"], gone) == []
    assert drift(users["gone"], shim) == [f"runs {gone} instead of {shim}"]


def test_wrapped_twice_is_reported_by_status_and_left_to_restore(shim):
    (user,) = _users(_wrapped("u", shim, "u", f"[{shim}, aws, eks]")).values()
    assert user.plugin == "kubewarm-exec"
    assert drift(user) == ["wrapped twice"]
    assert drift(user, shim) == []


def test_status_and_inject_use_the_rule(shim):
    users = _users(
        _wrapped("ok", shim, "ok")
        + _wrapped("copy", shim, "orig")
        + "- name: plain\n  user:\n    exec: {command: aws}\n"
    )
    for user in users.values():
        assert user_drift(user) == drift(user)
    text = "users:\n" + _wrapped("copy", shim, "orig")
    _, changes, _ = inject_text(text, ShimCommand(shim))
    assert [(c.user, c.action, c.detail) for c in changes] == [
        ("copy", "repaired", "; ".join(drift(users["copy"], shim)))
    ]
