"""Property: for any kubeconfig layout, inject then restore is byte-identical, inject twice is a
no-op, and the wrapped file means exactly what it should."""

from __future__ import annotations

import json
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubewarm.engine.kubeconfig.inject import inject_text, restore_text
from kubewarm.engine.kubeconfig.launcher import ShimCommand

SHIMS = [
    ShimCommand("/home/me/.local/share/kubewarm/bin/kubewarm-exec"),
    ShimCommand("/Users/me/Library/Application Support/kubewarm/bin/kubewarm-exec"),
    ShimCommand(r"C:\Users\me\AppData\Local\kubewarm\venv\Scripts\kubewarm.exe", ("exec",)),
]
COMMANDS = ["aws", "gke-gcloud-auth-plugin", "/usr/local/bin/kubelogin", "aws-vault", "kubectl"]
WORDS = ["eks", "get-token", "--region", "us-east-1", "--cluster-name", "prod", "oidc-login",
         "--oidc-issuer-url=https://x.example.com", "exec", "--", "yes", "123", "a b"]  # fmt: skip
NAMES = ["prod", "arn:aws:eks:us-east-1:123456789012:cluster/prod", "gke_p_z_c", "it's", "dev"]
NULLS = ["null", "~", "", "Null", "NULL"]

text_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"),
    max_size=12,
).filter(lambda s: not yaml.reader.Reader.NON_PRINTABLE.search(s))


@st.composite
def scalar(draw, value, flow: bool) -> str:
    """``value`` written in a random, valid quoting style."""
    styles = ["double", "single"]
    plain_ok = (
        re.fullmatch(r"[A-Za-z0-9/_.-][A-Za-z0-9/_.=:-]*", value) is not None
        and not value.endswith(":")
        and not (flow and ":" in value)
        and isinstance(yaml.safe_load(value), str)
        and value.lower() not in ("y", "n")
    )
    if plain_ok:
        styles.append("plain")
    style = draw(st.sampled_from(styles))
    if style == "plain":
        return value
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


@st.composite
def exec_user(draw, name: str, layout: dict) -> tuple[list[str], dict]:
    """Lines of one user entry (block style) and the exec block it means."""
    nl_indent = " " * layout["indent"]
    flow_exec = draw(st.booleans())
    command = draw(st.sampled_from(COMMANDS))
    block: dict = {"command": command}
    parts: list[tuple[str, str]] = [("command", draw(scalar(command, flow_exec)))]
    args_kind = draw(st.sampled_from(["absent", "null", "empty", "block", "flow"]))
    args = draw(st.lists(st.one_of(st.sampled_from(WORDS), text_values), min_size=1, max_size=4))
    env_kind = draw(st.sampled_from(["absent", "null", "empty", "block", "flow"]))
    env = draw(
        st.lists(
            st.tuples(st.sampled_from(["AWS_PROFILE", "FOO", "X_Y"]), text_values),
            min_size=1,
            max_size=2,
            unique_by=lambda t: t[0],
        )
    )
    if flow_exec and args_kind == "block":
        args_kind = "flow"
    if flow_exec and env_kind == "block":
        env_kind = "flow"
    for key, kind, items in (("args", args_kind, args), ("env", env_kind, env)):
        if kind == "absent":
            continue
        if kind == "null":
            text = draw(st.sampled_from(NULLS if not flow_exec else ["null", "~"]))
            parts.append((key, text))
            block[key] = None
            continue
        if kind == "empty":
            parts.append((key, draw(st.sampled_from(["[]", "[ ]"]))))
            block[key] = []
            continue
        if key == "args":
            rendered = [draw(scalar(a, kind == "flow")) for a in items]
            block["args"] = list(items)
        else:
            rendered = ["{name: " + n + ", value: " + draw(scalar(v, True)) + "}" for n, v in items]
            block["env"] = [{"name": n, "value": v} for n, v in items]
        if kind == "flow":
            sep = draw(st.sampled_from([", ", ","]))
            parts.append((key, "[" + sep.join(rendered) + "]"))
        else:
            parts.append((key, rendered))  # type: ignore[arg-type]
    if draw(st.booleans()):
        parts.append(("apiVersion", "client.authentication.k8s.io/v1beta1"))
        block["apiVersion"] = "client.authentication.k8s.io/v1beta1"
    if draw(st.booleans()):
        parts.append(("provideClusterInfo", "true"))
        block["provideClusterInfo"] = True
    order = draw(st.permutations(parts))

    dash = " " * layout["offset"] + "- "
    lines = [f"{dash}name: {draw(scalar(name, False))}"]
    inner = " " * (layout["offset"] + 2)
    lines.append(f"{inner}user:")
    exec_indent = inner + nl_indent
    if flow_exec:
        body = ", ".join(f"{k}: {v}" for k, v in order)
        lines.append(f"{exec_indent}exec: {{{body}}}")
        return lines, block
    lines.append(f"{exec_indent}exec:")
    key_indent = exec_indent + nl_indent
    for key, value in order:
        comment = draw(st.sampled_from(["", "", "  # note"]))
        if isinstance(value, list):
            lines.append(f"{key_indent}{key}:{comment}")
            item_dash = key_indent + " " * layout["offset"] + "- "
            for item in value:
                if key == "env" and draw(st.booleans()):
                    name_part, value_part = item[1:-1].split(", value: ", 1)
                    lines.append(f"{item_dash}{name_part}")
                    lines.append(f"{' ' * len(item_dash)}value: {value_part}")
                else:
                    lines.append(f"{item_dash}{item}")
        else:
            sep = " " if value else ""
            lines.append(f"{key_indent}{key}:{sep}{value}{comment}")
    return lines, block


@st.composite
def kubeconfig(draw) -> tuple[str, dict[str, dict]]:
    layout = {"indent": draw(st.sampled_from([2, 4])), "offset": draw(st.sampled_from([0, 2]))}
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    lines = []
    if draw(st.booleans()):
        lines.append("# a kubeconfig")
    if draw(st.booleans()):
        lines.append("---")
    lines += ["apiVersion: v1", "kind: Config", "users:"]
    blocks = {}
    for name in names:
        user_lines, block = draw(exec_user(name, layout))
        lines += user_lines
        blocks[name] = block
        if draw(st.booleans()):
            lines.append("# between users")
    lines += ["current-context: x"]
    if draw(st.booleans()):
        lines.append("...")
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    return text, blocks


def _exec_blocks(text: str) -> dict[str, dict]:
    doc = next(yaml.safe_load_all(text))
    return {u["name"]: u["user"]["exec"] for u in doc["users"]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kubeconfig(), st.sampled_from(SHIMS))
def test_inject_restore_round_trip(generated, shim):
    text, blocks = generated
    assert _exec_blocks(text) == blocks, "the generator must write what it means"
    wrapped, changes, skipped = inject_text(text, shim, "/home/me/.kube/config")
    assert skipped == []
    assert sorted(c.user for c in changes) == sorted(blocks)
    for name, block in _exec_blocks(wrapped).items():
        original = blocks[name]
        assert block["command"] == shim.command
        own = sorted({e["name"] for e in original.get("env") or []} - {"KUBEWARM_USER"})
        declared = ["--exec-env=" + ",".join(own)] if own else []
        assert block["args"] == [
            *shim.prefix,
            *declared,
            original["command"],
            *(original.get("args") or []),
        ]
        assert block["env"] == [
            {"name": "KUBEWARM_USER", "value": name},
            *(original.get("env") or []),
        ]
        assert {k: v for k, v in block.items() if k not in ("command", "args", "env")} == {
            k: v for k, v in original.items() if k not in ("command", "args", "env")
        }
    again, changes_again, _ = inject_text(wrapped, shim, "/home/me/.kube/config")
    assert again == wrapped and not changes_again
    restored, _, skipped = restore_text(wrapped, "/home/me/.kube/config")
    assert skipped == []
    assert restored == text
