"""restore puts back only the command that was wrapped: a restore comment edited to name another
program is refused for that user, said in one line, and nothing of it reaches the file (it used
to restore the attacker's binary while the summary named the old plugin)."""

from __future__ import annotations

from pathlib import Path

from tests.tray_helpers import kubewarm, posix_only

pytestmark = posix_only

CONFIG = """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:9"}
users:
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/aws
      args: [eks, get-token]
contexts:
- name: eks
  context: {cluster: c, user: eks}
current-context: eks
"""


def test_tampered_restore_comment_is_refused(kw_env):
    path = Path(kw_env["HOME"]) / ".kube" / "config"
    path.parent.mkdir(parents=True)
    path.write_text(CONFIG)
    kubewarm("inject", env=kw_env)
    wrapped = path.read_text()
    assert '"command": "./bin/aws"' in wrapped  # the comment records the command as written
    path.write_text(wrapped.replace('"command": "./bin/aws"', '"command": "/tmp/evil"'))
    result = kubewarm("restore", env=kw_env, check=False)
    text = path.read_text()
    assert "/tmp/evil" not in text.split("# kubewarm restore")[0]  # never made the command
    assert "command: /tmp/evil" not in text
    said = result.stdout + result.stderr
    assert "/tmp/evil" in said and "not the wrapped plugin" in said


def test_untouched_restore_comment_restores_byte_for_byte(kw_env):
    path = Path(kw_env["HOME"]) / ".kube" / "config"
    path.parent.mkdir(parents=True)
    path.write_text(CONFIG)
    kubewarm("inject", env=kw_env)
    kubewarm("restore", env=kw_env)
    assert path.read_text() == CONFIG
