"""Surgical kubeconfig edits: wrap and unwrap one user's ``exec`` block, byte for byte.

Every change is a text edit at positions taken from PyYAML's composed nodes (exact character
marks); nothing is re-serialised, so comments, key order, quoting, flow or block style,
indentation, line endings and document markers outside the change stay as they were.

Wrapping (``kubectl`` then runs the shim, which runs the plugin)::

    command: aws                      command: /home/me/.local/share/kubewarm/bin/kubewarm-exec
    args:                             args:
    - eks                     ->      - aws
    - get-token                       - eks
                                      - get-token
                                      env:
                                      - name: KUBEWARM_USER
                                        value: prod

The original ``command`` text moves verbatim to the front of ``args``; our env item goes first
in ``env``. Unwrapping undoes exactly that. When ``args`` or ``env`` was absent or ``null``
(or the command text had to change, e.g. a relative path that kubectl resolves against the
kubeconfig's directory), the lone list we create cannot say what was there before, so a
comment at the end of the ``command`` line records it: ``# kubewarm restore: {"env": "null"}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.kubeconfig.model import USER_ENV, ParsedFile, UserNodes, resolve_command
from kubewarm.engine.kubeconfig.parse import is_null

MARKER = " # kubewarm restore: "
ABSENT = "(absent)"
_DASH_PREFIX = re.compile(r"[ \t]*-[ \t]+\Z")
_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./@%+=~:-]*\Z")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


class Unwrappable(KubewarmError):
    """This user's exec block cannot be changed safely; the message says why (user's words)."""


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``new``."""

    start: int
    end: int
    new: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with non-overlapping ``edits`` applied (insertions at one position keep order)."""
    ordered = sorted(enumerate(edits), key=lambda pair: (pair[1].start, pair[1].end, pair[0]))
    out, pos = [], 0
    for _, edit in ordered:
        if edit.start < pos:
            raise ValueError("overlapping kubeconfig edits")
        out.append(text[pos : edit.start])
        out.append(edit.new)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


# --- text geometry -----------------------------------------------------------------------------


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def line_end(text: str, index: int) -> int:
    """Index of the line break ending the line that holds ``index`` (or len(text))."""
    end = text.find("\n", index)
    if end < 0:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def break_at(text: str, index: int) -> str:
    """The line break starting at ``index`` ('' at the end of the file)."""
    if text.startswith("\r\n", index):
        return "\r\n"
    return "\n" if text.startswith("\n", index) else ""


def file_break(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def content_end(text: str, node: yaml.Node) -> int:
    """Where a node's own text ends (block collections and block scalars end at their last
    character, not at the next token)."""
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark.index
        if node.style in ("|", ">"):
            while end > node.start_mark.index and text[end - 1] in " \t\r\n":
                end -= 1
        return end
    assert isinstance(node, yaml.CollectionNode)  # a composed node is a scalar or a collection
    if node.flow_style or not node.value:
        return node.end_mark.index
    last = node.value[-1]
    return content_end(text, last[1] if isinstance(node, yaml.MappingNode) else last)


def lines_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole lines holding ``text[start:end]``, with their final line break. At the end of a
    file without a final break, the break before the lines is taken instead."""
    first = line_start(text, start)
    last = line_end(text, max(end - 1, start))
    brk = break_at(text, last)
    if brk:
        return first, last + len(brk)
    before = 2 if text[max(first - 2, 0) : first] == "\r\n" else 1 if first else 0
    return first - before, last


# --- scalars ----------------------------------------------------------------------------------


def render_scalar(value: str, flow: bool) -> str:
    """``value`` as a YAML scalar that every kubeconfig reader reads back as this string."""
    plain_ok = (
        bool(_PLAIN.match(value))
        and value.lower() not in _YAML11_WORDS
        and not value.endswith(":")
        and not (flow and ":" in value)
        and yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False))
        == "tag:yaml.org,2002:str"
    )
    if plain_ok:
        return value
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)


def _safe_in_flow(source: str) -> bool:
    """Whether scalar source text means the same inside a flow sequence."""
    if source[:1] in ("'", '"'):
        return True
    return not any(c in source for c in ",[]{}#") and ": " not in source and ":" not in source


def _exec(user: UserNodes) -> yaml.MappingNode:
    """The user's ``exec`` mapping: only exec users are edited, and parse checked its kind."""
    assert user.exec is not None
    return user.exec


def _command(user: UserNodes) -> yaml.ScalarNode:
    """The ``command`` value node: parse accepted only a non-empty string there."""
    node = user.pairs["command"][1]
    assert isinstance(node, yaml.ScalarNode)
    return node


def _seq(node: yaml.Node | None) -> yaml.SequenceNode:
    """``args`` or ``env`` known to be present and not null: parse accepted only a list."""
    assert isinstance(node, yaml.SequenceNode)
    return node


def _inline_text(pf: ParsedFile, node: yaml.ScalarNode, what: str) -> str:
    if node.start_mark.line != node.end_mark.line or node.style in ("|", ">"):
        raise Unwrappable(f"its {what} spans several lines")
    return pf.text[node.start_mark.index : node.end_mark.index]


# --- marker comment ---------------------------------------------------------------------------


def read_marker(text: str, command: yaml.Node, user: str) -> tuple[dict[str, str], int, int]:
    """``user``'s restore marker on the command's line: (contents, start, end), or
    ({}, -1, -1). Several users written on one line each carry their name in their marker."""
    end = line_end(text, command.end_mark.index)
    starts = []
    found = text.find(MARKER, command.end_mark.index, end)
    while found >= 0:
        starts.append(found)
        found = text.find(MARKER, found + len(MARKER), end)
    candidates = []
    for i, begin in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        try:
            data = json.loads(text[begin + len(MARKER) : stop])
        except ValueError:
            continue
        if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            candidates.append((data, begin, stop))
    mine = [c for c in candidates if c[0].get("user") == user]
    if not mine:
        mine = [c for c in candidates if "user" not in c[0]]
    if len(mine) != 1:
        return {}, -1, -1
    data, begin, stop = mine[0]
    data.pop("user", None)
    return data, begin, stop


# --- wrapping ---------------------------------------------------------------------------------


class _Context:
    """Text, line break and indentation conventions of one file."""

    def __init__(self, pf: ParsedFile) -> None:
        self.pf = pf
        self.text = pf.text
        self.offset = self._sequence_offset()

    def _sequence_offset(self) -> int:
        """How far this file indents block sequence dashes past their key (0 like kubectl)."""
        root = self.pf.root
        if not isinstance(root, yaml.MappingNode):
            return 0
        for key, value in root.value:
            if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
                prefix = self.prefix(value.value[0])
                if prefix is not None:
                    dash = len(prefix) - len(prefix.lstrip(" "))
                    return max(dash - key.start_mark.column, 0)
        return 0

    def prefix(self, item: yaml.Node) -> str | None:
        """The ``  - `` text before a block sequence item, or None for unusual layouts."""
        start = item.start_mark.index
        prefix = self.text[line_start(self.text, start) : start]
        return prefix if _DASH_PREFIX.match(prefix) else None

    def brk(self, node: yaml.Node) -> str:
        return break_at(self.text, line_end(self.text, node.end_mark.index)) or file_break(
            self.text
        )


def _env_item_flow(name: str) -> str:
    return "{name: " + USER_ENV + ", value: " + render_scalar(name, True) + "}"


def wrap_edits(
    pf: ParsedFile, user: UserNodes, shim: str, shim_args: Sequence[str] = ()
) -> list[Edit]:
    """Edits that make ``user`` run ``shim [shim_args] PLUGIN ARGS...`` with KUBEWARM_USER set."""
    info, exec_node = user.info, user.exec
    if info.kind != "exec" or exec_node is None or info.exec is None:
        raise Unwrappable("it has no exec plugin")
    if info.wrapped or info.kubewarm_user is not None:
        raise Unwrappable("it is already wrapped")
    _refuse_shared(pf, user)
    ctx = _Context(pf)
    text = pf.text
    flow_map = bool(exec_node.flow_style)
    command = _command(user)
    source = _inline_text(pf, command, "command")
    marker: dict[str, str] = {}
    resolved = resolve_command(info.exec.command, pf.base_dir)
    args_node = user.pairs["args"][1] if "args" in user.pairs else None
    args_flow = (
        flow_map if args_node is None else is_null(args_node) or bool(_seq(args_node).flow_style)
    )
    item = source
    if resolved != info.exec.command or (args_flow and not _safe_in_flow(source)):
        item = render_scalar(resolved, args_flow)
        marker["command"] = source
    items = [render_scalar(a, args_flow) for a in shim_args] + [item]
    edits = [Edit(command.start_mark.index, command.end_mark.index, render_scalar(shim, flow_map))]
    brk = ctx.brk(command)
    key_column = user.pairs["command"][0].start_mark.column
    indent = " " * key_column
    dash = indent + " " * ctx.offset + "- "
    added: list[str] = []  # pairs to insert after the command (absent keys)

    if args_node is None:
        marker["args"] = ABSENT
        if flow_map:
            added.append("args: [" + ", ".join(items) + "]")
        else:
            added.append(indent + "args:" + brk + "".join(dash + i + brk for i in items))
    elif is_null(args_node):
        edits.append(_replace_null(text, args_node, "[" + ", ".join(items) + "]", "args", marker))
    else:
        edits.append(_seq_insert_first(ctx, _seq(args_node), items, "args"))

    env_node = user.pairs["env"][1] if "env" in user.pairs else None
    if env_node is None:
        marker["env"] = ABSENT
        if flow_map:
            added.append("env: [" + _env_item_flow(info.name) + "]")
        else:
            added.append(
                indent
                + "env:"
                + brk
                + dash
                + "name: "
                + USER_ENV
                + brk
                + " " * len(dash)
                + "value: "
                + render_scalar(info.name, False)
                + brk
            )
    elif is_null(env_node):
        edits.append(
            _replace_null(text, env_node, "[" + _env_item_flow(info.name) + "]", "env", marker)
        )
    else:
        edits.append(_env_insert_first(ctx, _seq(env_node), info.name))

    if marker:
        end = line_end(text, command.end_mark.index)
        if _shares_line(pf, user, command):
            marker["user"] = info.name
        edits.append(Edit(end, end, MARKER + json.dumps(marker, sort_keys=True)))
    if added:
        if flow_map:
            edits.append(
                Edit(
                    command.end_mark.index, command.end_mark.index, "".join(", " + a for a in added)
                )
            )
        else:
            end = line_end(text, command.end_mark.index)
            here = break_at(text, end)
            at = end + len(here)
            block = "".join(added)
            if not here:  # the command is on the file's last line, which has no line break
                block = brk + block[: -len(brk)]
            edits.append(Edit(at, at, block))
    return edits


def _refuse_shared(pf: ParsedFile, user: UserNodes) -> None:
    if user.exec is not None and pf.shared(user.exec):
        raise Unwrappable(
            "its exec block is shared through a YAML anchor (&) and alias (*), so changing it"
            " would change other users too; give it its own exec block"
        )


def _shares_line(pf: ParsedFile, user: UserNodes, command: yaml.Node) -> bool:
    """Whether another user's exec command ends on the same line as ``command``."""
    line = command.end_mark.line
    for other in pf.users:
        command_pair = other.pairs.get("command")
        if other is not user and command_pair and command_pair[1].end_mark.line == line:
            return True
    return False


def _replace_null(text: str, node: yaml.Node, new: str, what: str, marker: dict) -> Edit:
    start, end = node.start_mark.index, node.end_mark.index
    marker[what] = text[start:end]
    if start == end:
        return Edit(start, end, " " + new)
    return Edit(start, end, new)


def _seq_insert_first(ctx: _Context, seq: yaml.SequenceNode, items: list[str], what: str) -> Edit:
    if seq.flow_style:
        if seq.value:
            at = seq.value[0].start_mark.index
            return Edit(at, at, "".join(i + ", " for i in items))
        at = ctx.text.index("[", seq.start_mark.index) + 1
        return Edit(at, at, ", ".join(items))
    first = seq.value[0]
    prefix = ctx.prefix(first)
    if prefix is None:
        raise Unwrappable(
            f"its {what} list has an unusual layout (line {first.start_mark.line + 1})"
        )
    at = line_start(ctx.text, first.start_mark.index)
    brk = ctx.brk(first)
    return Edit(at, at, "".join(prefix + i + brk for i in items))


def _env_insert_first(ctx: _Context, seq: yaml.SequenceNode, name: str) -> Edit:
    if seq.flow_style or not seq.value:
        return _seq_insert_first(ctx, seq, [_env_item_flow(name)], "env")
    first = seq.value[0]
    prefix = ctx.prefix(first)
    if prefix is None:
        raise Unwrappable(f"its env list has an unusual layout (line {first.start_mark.line + 1})")
    at = line_start(ctx.text, first.start_mark.index)
    brk = ctx.brk(first)
    if isinstance(first, yaml.MappingNode) and not first.flow_style:
        body = (
            prefix
            + "name: "
            + USER_ENV
            + brk
            + " " * first.start_mark.column
            + "value: "
            + render_scalar(name, False)
            + brk
        )
    else:
        body = prefix + _env_item_flow(name) + brk
    return Edit(at, at, body)


# --- unwrapping -------------------------------------------------------------------------------


def unwrap_edits(pf: ParsedFile, user: UserNodes) -> list[Edit]:
    """Edits that give a wrapped ``user`` back exactly the exec block it had before wrapping."""
    info = user.info
    if not info.wrapped or user.exec is None:
        raise Unwrappable("it is not wrapped by kubewarm")
    items = list(user.pairs["args"][1].value)
    count = len(items) - len(info.plugin_argv) + 1  # shim arguments + the plugin's command
    plugin = items[count - 1]
    if not isinstance(plugin, yaml.ScalarNode):
        raise Unwrappable("its wrapped command is not a string")
    return _undo(pf, user, count, _inline_text(pf, plugin, "wrapped command"))


def strip_stale_edits(pf: ParsedFile, user: UserNodes) -> list[Edit]:
    """Edits that remove what a half-undone wrapping left behind: another tool set
    ``exec.command`` back to the plugin but kept our ``KUBEWARM_USER`` entry (and, when it
    repeats the command, the plugin's name at the front of ``args``)."""
    info = user.info
    if info.wrapped or info.exec is None or user.user_env_item is None:
        raise Unwrappable("it has nothing stale to remove")
    args = info.exec.args
    count = 1 if args and args[0] == info.exec.command else 0
    return _undo(pf, user, count, None)


def _undo(pf: ParsedFile, user: UserNodes, count: int, command_text: str | None) -> list[Edit]:
    """Drop the first ``count`` args and our env entry, put back what the marker recorded and,
    unless ``command_text`` is None, set the command's text."""
    info = user.info
    text = pf.text
    _refuse_shared(pf, user)
    ctx = _Context(pf)
    command = _command(user)
    marker, marker_start, marker_end = read_marker(text, command, info.name)
    edits = []
    if command_text is not None:
        if "command" in marker:
            _check_recorded_command(marker["command"], info.plugin_argv, pf.base_dir)
        original = marker.get("command") or command_text
        edits.append(Edit(command.start_mark.index, command.end_mark.index, original))
    if marker_start >= 0:
        edits.append(Edit(marker_start, marker_end, ""))

    restore: list[tuple[str, str]] = []  # (key, original text) for absent/null lists
    args_node = user.pairs["args"][1] if "args" in user.pairs else None
    items = list(args_node.value) if isinstance(args_node, yaml.SequenceNode) else []
    if count and "args" in marker and len(items) == count:
        restore.append(("args", marker["args"]))
    elif count:
        edits.append(_seq_remove(ctx, _seq(args_node), 0, count))

    env_item = user.user_env_item
    if env_item is not None:
        env_node = _seq(user.pairs["env"][1])
        if "env" in marker and len(env_node.value) == 1:
            restore.append(("env", marker["env"]))
        else:
            index = next(i for i, n in enumerate(env_node.value) if n is env_item)
            edits.append(_seq_remove(ctx, env_node, index, 1))
    absent = [key for key, original in restore if original == ABSENT]
    if len(absent) == 2 and not _exec(user).flow_style and _adjacent(user, *absent):
        # both were inserted together after the command: remove them as one block of lines
        keys = [user.pairs[k][0] for k in absent]
        nodes = [user.pairs[k][1] for k in absent]
        start = min(k.start_mark.index for k in keys)
        end = max(content_end(text, n) for n in nodes)
        edits.append(Edit(*lines_span(text, start, end), ""))
        restore = [(k, o) for k, o in restore if o != ABSENT]
    edits.extend(_restore_value(ctx, user, key, original) for key, original in restore)
    return edits


def _check_recorded_command(recorded: str, plugin_argv: Sequence[str], base_dir: str) -> None:
    """The restore comment may only name the command that was wrapped (as written, before it
    was resolved): a comment edited to name another program is refused, never restored."""
    try:
        value = yaml.safe_load(recorded)
    except yaml.YAMLError:
        value = None
    wrapped = plugin_argv[0] if plugin_argv else ""
    if not isinstance(value, str) or resolve_command(value, base_dir) != wrapped:
        raise Unwrappable(
            f"its restore comment names {recorded}, not the wrapped plugin {wrapped}"
            " (edited by hand?); restore this user by hand"
        )


def _adjacent(user: UserNodes, first: str, second: str) -> bool:
    keys = [k.value for k, _ in _exec(user).value]
    return abs(keys.index(first) - keys.index(second)) == 1


def _restore_value(ctx: _Context, user: UserNodes, what: str, original: str) -> Edit:
    """Put back an absent or null ``args``/``env`` that wrapping turned into a one-item list."""
    key, node = user.pairs[what]
    text = ctx.text
    if original == ABSENT:
        exec_node = _exec(user)
        if exec_node.flow_style:
            # wrapping inserted ", key: [...]" after the previous value
            pairs = exec_node.value
            index = next(i for i, (k, _) in enumerate(pairs) if k is key)
            if index == 0:
                end = pairs[1][0].start_mark.index if len(pairs) > 1 else content_end(text, node)
                return Edit(key.start_mark.index, end, "")
            return Edit(content_end(text, pairs[index - 1][1]), content_end(text, node), "")
        start, end = lines_span(text, key.start_mark.index, content_end(text, node))
        return Edit(start, end, "")
    start, end = node.start_mark.index, content_end(text, node)
    if original == "" and text[start - 1 : start] == " ":
        start -= 1
    return Edit(start, end, original)


def _seq_remove(ctx: _Context, seq: yaml.SequenceNode, index: int, count: int) -> Edit:
    """Remove ``count`` items from ``index`` (whole lines in block style)."""
    text = ctx.text
    items = seq.value
    first, last = items[index], items[index + count - 1]
    if seq.flow_style:
        if index + count < len(items):
            return Edit(first.start_mark.index, items[index + count].start_mark.index, "")
        if index > 0:
            return Edit(content_end(text, items[index - 1]), content_end(text, last), "")
        return Edit(first.start_mark.index, content_end(text, last), "")
    if ctx.prefix(first) is None:
        raise Unwrappable(f"its list has an unusual layout (line {first.start_mark.line + 1})")
    start, end = lines_span(text, first.start_mark.index, content_end(text, last))
    return Edit(start, end, "")


def set_command_edit(pf: ParsedFile, user: UserNodes, shim: str) -> Edit:
    """Point a wrapped user at another shim command (same shim arguments)."""
    command = _command(user)
    _inline_text(pf, command, "command")
    return Edit(
        command.start_mark.index,
        command.end_mark.index,
        render_scalar(shim, bool(user.exec is not None and user.exec.flow_style)),
    )
