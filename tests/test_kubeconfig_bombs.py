"""kubectl refuses YAML alias bombs and absurd nesting; kubewarm refuses them fast too, with its
usual one-line error naming the file, in the CLI and in the tray's warmer (an alias bomb in a
cluster's extensions took over 1 GB and 23 s of CPU; deep nesting died with RecursionError)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubewarm.engine.kubeconfig import merge
from kubewarm.engine.kubeconfig.files import KubeconfigPath
from kubewarm.engine.kubeconfig.model import KubeconfigError

from tests.tray_helpers import KUBEWARM, posix_only

HEAD = """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:9
"""
TAIL = """users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
"""


def _alias_bomb() -> str:
    lines = ["  extensions:", "  - name: bomb", "    extension:", '      a0: &a0 ["lol"]']
    for i in range(1, 12):
        lines.append(f"      a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return HEAD + "\n".join(lines) + "\n" + TAIL


def _deep() -> str:
    return (
        HEAD
        + "  extensions:\n  - name: deep\n    extension: "
        + "[" * 5000
        + "]" * 5000
        + "\n"
        + TAIL
    )


BOMBS = {"alias-bomb": _alias_bomb, "deep-nesting": _deep}


def _children_peak_kb() -> int:
    """The largest resident size any finished child of this process reached (KB on Linux)."""
    if sys.platform == "win32":
        return 0
    import resource  # POSIX only

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_model_refuses_bombs_with_one_line_naming_the_file(tmp_path, kind):
    path = tmp_path / "config"
    path.write_text(BOMBS[kind]())
    started = time.monotonic()
    with pytest.raises(KubeconfigError) as caught:
        merge.merge_contexts(merge.load([KubeconfigPath(str(path), str(path), "--kubeconfig")]))
    assert time.monotonic() - started < 5  # generous: it stops at the first node past a bound
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert any(why in message for why in ("alias", "nested", "nesting depth"))


@posix_only
@pytest.mark.parametrize("kind", sorted(BOMBS))
@pytest.mark.parametrize("command", [["status"], ["inject", "--dry-run"], ["pin", "c"]])
def test_cli_refuses_bombs_fast_in_bounded_memory(kw_env, tmp_path, kind, command):
    path = Path(kw_env["HOME"]) / ".kube" / "config"
    path.parent.mkdir(parents=True)
    path.write_text(BOMBS[kind]())
    before = _children_peak_kb()
    result = subprocess.run(
        [str(KUBEWARM), *command], env=kw_env, capture_output=True, text=True, timeout=60
    )
    peak_kb = _children_peak_kb()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "~/.kube/config" in result.stderr, result.stderr  # the file, as kubewarm names it
    assert any(why in result.stderr for why in ("alias", "nested", "nesting depth"))
    if peak_kb > before:  # this child set the peak: it stayed small (was > 1 GB)
        assert peak_kb < 200_000, f"{peak_kb} KB"
