"""kubectl's current context, and ``kubectl config use-context NAME`` done byte-exactly.

``kubectl config use-context`` writes the new current context to its default file (the only
``$KUBECONFIG`` file, else the first one that exists, else the last; ``~/.kube/config``
without ``$KUBECONFIG``), even when a later file sets one (measured with kubectl 1.27–1.33;
the first file that sets one wins when kubectl reads). kubectl then re-serialises the file;
here only the value changes (or one ``current-context:`` line is added), every other byte stays,
and the result is re-read to check that it means exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import yaml
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge
from kubewarm.engine.kubeconfig.edit import (
    Edit,
    apply_edits,
    content_end,
    file_break,
    render_scalar,
)
from kubewarm.engine.kubeconfig.files import KubeconfigPath, display
from kubewarm.engine.kubeconfig.model import KubeconfigError, ParsedFile
from kubewarm.engine.kubeconfig.parse import parse
from kubewarm.engine.kubeconfig.write import InjectError, backups_to_keep, write_all

KEY = "current-context"


@dataclass(frozen=True)
class Switched:
    """What ``use`` did: the context now current, the file written ('' when unchanged)."""

    name: str
    path: str
    line: str


def _existing(paths: Sequence[KubeconfigPath]) -> list[KubeconfigPath]:
    return [p for p in paths if p.exists]


def current(
    explicit: Sequence[str] | str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The context kubectl uses now ('' if none): the first file that sets one wins."""
    for file in _existing(kubeconfig_files.resolve(explicit, environ)):
        value = parse(file, exact=False).current_context
        if value:
            return value
    return ""


def destination(paths: Sequence[KubeconfigPath]) -> KubeconfigPath:
    """The file kubectl writes a new current context to (see the module docstring)."""
    if len(paths) == 1 or paths[0].source == "--kubeconfig":
        return paths[0]
    existing = _existing(paths)
    return existing[0] if existing else paths[-1]


def _edit(pf: ParsedFile, name: str) -> Edit:
    """The one text edit that makes ``pf`` name ``name`` as its current context."""
    root, text = pf.root, pf.text
    if root is None or not isinstance(root, yaml.MappingNode):
        raise KubeconfigError(pf.path, "has no top-level mapping to set current-context in")
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == KEY:
            start, end = value.start_mark.index, content_end(text, value)
            new = render_scalar(name, bool(root.flow_style))
            if start == end and text[start - 1 : start] == ":":  # `current-context:` (null)
                new = " " + new
            return Edit(start, end, new)
    if root.flow_style or not root.value:
        raise KubeconfigError(pf.path, "sets no current-context and is not a block mapping")
    first_key = root.value[0][0]
    column = first_key.start_mark.column
    end = content_end(text, root)
    brk = file_break(text)
    return Edit(end, end, f"{brk}{' ' * column}{KEY}: {render_scalar(name, False)}")


def use(
    name: str,
    explicit: Sequence[str] | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Switched:
    """Make ``name`` kubectl's current context, as ``kubectl config use-context`` does.

    Raises KubeconfigError (no such context, a file that cannot be read) or InjectError (the
    file cannot be written); nothing is written then."""
    paths = kubeconfig_files.resolve(explicit, environ)
    existing = _existing(paths)
    parsed = [parse(f) for f in existing]
    if name not in {c.name for c in merge.merge_contexts(parsed)}:
        where = ", ".join(display(p.path) for p in paths)
        raise KubeconfigError(where, f"no context exists with the name {name!r}")
    file = destination(paths)
    if not file.exists:
        raise KubeconfigError(file.path, "does not exist; kubewarm does not create kubeconfigs")
    pf = parsed[existing.index(file)]
    if pf.current_context == name and current(explicit, environ) == name:
        return Switched(name, "", f"{name} is already the current context")
    after = apply_edits(pf.text, [_edit(pf, name)])
    again = parse(file, after)
    if (
        again.current_context != name
        or again.contexts != pf.contexts
        or len(again.users) != len(pf.users)
    ):
        raise InjectError(f"kubeconfig {display(file.path)}: cannot set current-context safely")
    write_all([(file, pf.text, after)], keep=backups_to_keep())
    return Switched(name, file.target, f"Switched to context {name} ({display(file.path)})")


__all__ = ["KEY", "InjectError", "Switched", "current", "destination", "use"]
