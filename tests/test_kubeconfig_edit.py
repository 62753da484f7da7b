"""Surgical kubeconfig edits: inject then restore gives back every file byte for byte."""

from __future__ import annotations

import pytest
import yaml
from kubewarm.engine.kubeconfig.edit import render_scalar
from kubewarm.engine.kubeconfig.inject import inject_text, restore_text
from kubewarm.engine.kubeconfig.launcher import ShimCommand

from tests.kubeconfig_helpers import (
    CORPUS,
    SHIM,
    corpus_files,
    kubectl_generated,
    kubectl_view,
    read_exact,
)

LAUNCHER = ShimCommand(SHIM)
WINDOWS = ShimCommand(r"C:\Users\me\venv\Scripts\kubewarm.exe", ("exec",))


def _exec_blocks(text: str) -> dict[str, dict]:
    doc = next(yaml.safe_load_all(text)) or {}
    return {
        u["name"]: block
        for u in doc.get("users") or []
        if (block := (u.get("user") or {}).get("exec"))
    }


def _check_wrapped(before: str, after: str, shim: ShimCommand) -> None:
    """Every exec user now runs the shim with the original argv, KUBEWARM_USER first in env;
    everything else in the document means the same."""
    old, new = _exec_blocks(before), _exec_blocks(after)
    assert old.keys() == new.keys()
    for name, block in old.items():
        wrapped = new[name]
        assert wrapped["command"] == shim.command
        # the shim's own arguments, then the user's exec.env names declared (part of the key)
        own = sorted({e["name"] for e in block.get("env") or []} - {"KUBEWARM_USER"})
        prefix = [*shim.prefix, *(["--exec-env=" + ",".join(own)] if own else [])]
        assert wrapped["args"][: len(prefix)] == prefix
        plugin = wrapped["args"][len(prefix)]
        assert plugin == block["command"] or plugin.endswith(block["command"].lstrip("."))
        assert wrapped["args"][len(prefix) + 1 :] == (block.get("args") or [])
        assert wrapped["env"][0] == {"name": "KUBEWARM_USER", "value": name}
        assert wrapped["env"][1:] == (block.get("env") or [])
        rest_old = {k: v for k, v in block.items() if k not in ("command", "args", "env")}
        rest_new = {k: v for k, v in wrapped.items() if k not in ("command", "args", "env")}
        assert rest_old == rest_new
    strip = lambda text: [  # noqa: E731
        {k: v for k, v in u.items() if k != "user"}
        for u in (next(yaml.safe_load_all(text)) or {}).get("users") or []
    ]
    assert strip(before) == strip(after)
    doc_old = {k: v for k, v in (next(yaml.safe_load_all(before)) or {}).items() if k != "users"}
    doc_new = {k: v for k, v in (next(yaml.safe_load_all(after)) or {}).items() if k != "users"}
    assert doc_old == doc_new


def _round_trip(text: str, shim: ShimCommand = LAUNCHER, path: str = "config") -> str:
    wrapped, changes, skipped = inject_text(text, shim, path)
    assert skipped == []
    assert len(changes) == len(_exec_blocks(text))
    _check_wrapped(text, wrapped, shim)
    again, changes_again, _ = inject_text(wrapped, shim, path)
    assert again == wrapped and changes_again == [], "inject twice must change nothing"
    restored, restored_changes, skipped = restore_text(wrapped, path)
    assert skipped == []
    assert len(restored_changes) == len(changes)
    assert restored == text, "restore must give back the file byte for byte"
    return wrapped


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_corpus_round_trip(path):
    text = read_exact(path)
    wrapped = _round_trip(text, path=str(path))
    assert wrapped != text


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_round_trip_windows_command(path):
    _round_trip(read_exact(path), WINDOWS, str(path))


@pytest.mark.real
def test_kubectl_written_round_trip_and_kubectl_reads_result(tmp_path):
    for name, path in kubectl_generated(tmp_path / "gen").items():
        text = read_exact(path)
        wrapped = _round_trip(text, path=str(path))
        path.write_bytes(wrapped.encode())
        view = kubectl_view(path)
        assert view.returncode == 0, f"{name}: {view.stderr}"
        assert SHIM in view.stdout


def test_aws_eks_shape_exact_output():
    text = read_exact(next(p for p in corpus_files() if p.name == "aws-eks-update-kubeconfig.yaml"))
    wrapped, _, _ = inject_text(text, LAUNCHER)
    prod = wrapped[wrapped.index("- name: arn:aws:eks:us-east-1") :]
    assert prod.startswith(
        "- name: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "  user:\n"
        "    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      args:\n"
        "      - '--exec-env=AWS_PROFILE'\n"
        "      - aws\n"
        "      - --region\n"
        "      - us-east-1\n"
        "      - eks\n"
        "      - get-token\n"
        "      - --cluster-name\n"
        "      - prod\n"
        "      - --output\n"
        "      - json\n"
        f"      command: {SHIM}\n"
        "      env:\n"
        "      - name: KUBEWARM_USER\n"
        "        value: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "      - name: AWS_PROFILE\n"
        "        value: prod-admin\n"
    )
    # the user without a profile had no env: one is added after the command, and a marker
    # comment records that restore must remove it again
    staging = wrapped[wrapped.index("- name: arn:aws:eks:eu-west-1") :]
    assert f'      command: {SHIM} # kubewarm restore: {{"env": "(absent)"}}\n' in staging
    assert "      env:\n      - name: KUBEWARM_USER\n" in staging


def test_crlf_endings_kept_in_every_line():
    text = read_exact(next(p for p in corpus_files() if p.name == "crlf.yaml"))
    assert text.count("\r\n") == text.count("\n"), "the corpus file must have CRLF endings"
    wrapped, _, _ = inject_text(text, LAUNCHER)
    assert wrapped.count("\r\n") == wrapped.count("\n") > text.count("\n") - 1
    assert "\n" not in wrapped.replace("\r\n", "")


def test_relative_command_is_resolved_and_put_back(tmp_path):
    text = (
        "users:\n- name: rel\n  user:\n    exec:\n"
        "      command: ./bin/plugin   # next to this kubeconfig\n"
        "      args: [token]\n"
    )
    path = tmp_path / "dir" / "config"
    wrapped, _, _ = inject_text(text, LAUNCHER, str(path))
    block = _exec_blocks(wrapped)["rel"]
    # kubectl resolves ./bin/plugin against the kubeconfig's directory; the shim could not
    assert block["args"] == [str(tmp_path / "dir" / "bin" / "plugin"), "token"]
    restored, _, _ = restore_text(wrapped, str(path))
    assert restored == text


@pytest.mark.parametrize(
    "args_text, env_text",
    [
        ("args: null", "env: null"),
        ("args: ~", "env: ~"),
        ("args:", "env:"),
        ("args: []", "env: []"),
        ("args: [ ]  # none", "env: [ ]"),
        ("args: Null", "env: NULL"),
        ("", ""),
        ("args: [a,b]", "env: [{name: X, value: y}]"),
    ],
)
def test_every_empty_or_missing_list_comes_back_as_written(args_text, env_text):
    lines = ["users:", "- name: u", "  user:", "    exec:", "      command: plugin"]
    lines += [f"      {t}" for t in (args_text, env_text) if t]
    lines += ["      provideClusterInfo: false", ""]
    _round_trip("\n".join(lines))


def test_users_sharing_one_line_each_get_their_own_marker():
    text = "users: [{name: a, user: {exec: {command: x}}}, {name: b, user: {exec: {command: y}}}]"
    wrapped = _round_trip(text)
    assert wrapped.count("# kubewarm restore:") == 2


def test_unusual_layout_is_skipped_not_mangled():
    # the command is a multi-line plain scalar: kubewarm will not move it
    text = "users:\n- name: u\n  user:\n    exec:\n      command: my\n        plugin\n"
    wrapped, changes, skipped = inject_text(text, LAUNCHER)
    assert wrapped == text and changes == []
    assert [s.user for s in skipped] == ["u"]
    assert "several lines" in skipped[0].reason


def test_anchored_exec_shared_by_two_users_is_refused():
    text = (
        "users:\n- name: a\n  user:\n    exec: &e\n      command: aws\n      args: [x]\n"
        "- name: b\n  user:\n    exec: *e\n"
    )
    wrapped, _, skipped = inject_text(text, LAUNCHER)
    assert wrapped == text
    assert {s.user for s in skipped} == {"a", "b"}


def test_only_named_users_are_wrapped():
    text = read_exact(next(p for p in corpus_files() if p.name == "several-users.yaml"))
    wrapped, changes, _ = inject_text(text, LAUNCHER, users=["gke"])
    assert [c.user for c in changes] == ["gke"]
    blocks = _exec_blocks(wrapped)
    assert blocks["gke"]["command"] == SHIM
    assert blocks["eks"]["command"] == "aws" and blocks["last"]["command"] == "kubelogin"
    restored, _, _ = restore_text(wrapped)
    assert restored == text


def test_double_wrapped_user_is_restored_completely():
    text = "users:\n- name: u\n  user:\n    exec:\n      command: aws\n      args: [eks]\n"
    once, _, _ = inject_text(text, LAUNCHER)
    # someone wraps the wrapped user once more by hand, the old way
    twice = once.replace(f"command: {SHIM}", "command: kubewarm-exec").replace(
        "[aws, ", f"[{SHIM}, aws, "
    )
    assert _exec_blocks(twice)["u"]["args"][:2] == [SHIM, "aws"]
    restored, _, skipped = restore_text(twice)
    assert skipped == []
    assert _exec_blocks(restored)["u"] == {"command": "aws", "args": ["eks"]}


@pytest.mark.parametrize(
    "value",
    ["aws", "yes", "n", "null", "123", "1.5", "2001-12-14", "a: b", "-", "arn:aws:eks:x:1:c/p",
     "it's", 'q"uote', "tab\there", "ü", "#x", "x #y", "[a]", "", "~", "@at", "%p", "C:\\x y"],
)  # fmt: skip
@pytest.mark.parametrize("flow", [False, True])
def test_render_scalar_reads_back_as_the_same_string(value, flow):
    doc = f"[{render_scalar(value, True)}]" if flow else f"k: {render_scalar(value, False)}"
    loaded = yaml.safe_load(doc)
    assert (loaded[0] if flow else loaded["k"]) == value
