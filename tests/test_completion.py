"""``kubewarm completion``: the bash script completes subcommands, options, and the
kubeconfig's contexts and users, run by the real bash; zsh and fish scripts are generated from
the same parser (neither shell is on the test machines: their text is checked)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.fixtures_core import BIN, EXEC_API
from tests.kubeconfig_helpers import run_cli

ARN = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"


@pytest.fixture
def completion_env(kw_env, tmp_path) -> dict:
    config = tmp_path / "kubeconfig"
    users = [{"name": n, "user": {"exec": {"apiVersion": EXEC_API, "command": "aws"}}}
             for n in (ARN, "dev-user")]  # fmt: skip
    contexts = [{"name": ARN, "context": {"cluster": "c", "user": ARN}},
                {"name": "dev", "context": {"cluster": "c", "user": "dev-user"}}]  # fmt: skip
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "users": users, "contexts": contexts,
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}]}))  # fmt: skip
    path = f"{BIN}{os.pathsep}{kw_env.get('PATH', '')}"
    return {**kw_env, "KUBECONFIG": str(config), "PATH": path}


def _complete(env: dict, script: str, *words: str) -> list[str]:
    """COMPREPLY of the script's function for ``kubewarm WORDS...`` (the last one being
    completed), in a real, non-interactive bash without bash-completion loaded."""
    bash = shutil.which("bash")
    assert bash, "bash"
    driver = (
        'source /dev/stdin\nCOMP_WORDS=(kubewarm "$@"); COMP_CWORD=$#\n'
        "_kubewarm\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", driver, "bash", *words],
        input=script, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


@pytest.mark.real
def test_bash_completes_commands_options_contexts_and_users(completion_env):
    generated = run_cli("completion", "bash", env=completion_env)
    assert generated.returncode == 0, generated.stderr
    script = generated.stdout
    assert _complete(completion_env, script, "st") == ["status", "store", "stats"]
    assert "doctor" in _complete(completion_env, script, "")
    assert "tray" in _complete(completion_env, script, "")  # the tray's own command too
    assert _complete(completion_env, script, "pin", "") == [ARN, "dev"]
    assert _complete(completion_env, script, "status", "--context", "d") == ["dev"]
    assert _complete(completion_env, script, "clear", "--user", "") == [ARN, "dev-user"]
    assert _complete(completion_env, script, "status", "--w") == ["--wide"]
    assert _complete(completion_env, script, "doctor", "-o", "") == ["text", "json"]
    assert _complete(completion_env, script, "completion", "") == ["bash", "zsh", "fish"]


def test_hidden_names_command(completion_env):
    contexts = run_cli("__complete", "contexts", env=completion_env)
    assert contexts.stdout.splitlines() == [ARN, "dev"]
    users = run_cli("__complete", "users", env=completion_env)
    assert users.stdout.splitlines() == [ARN, "dev-user"]
    assert "__complete" not in run_cli("--help", env=completion_env).stdout
    broken = {**completion_env, "KUBECONFIG": str(completion_env["HOME"]) + "/none"}
    assert run_cli("__complete", "contexts", env=broken).stdout == ""


def test_zsh_and_fish_scripts(completion_env):
    zsh = run_cli("completion", "zsh", env=completion_env).stdout
    assert zsh.startswith("#compdef kubewarm") and "compdef _kubewarm kubewarm" in zsh
    assert "'doctor:check the whole chain" in zsh
    assert "kubewarm __complete contexts 2>/dev/null" in zsh and "stats) opts=(" in zsh
    fish = run_cli("completion", "fish", env=completion_env).stdout.splitlines()
    assert "complete -c kubewarm -n __fish_use_subcommand -a stats -d" in "\n".join(fish)
    assert (
        "complete -c kubewarm -n '__fish_seen_subcommand_from status' -l context -x"
        " -a '(kubewarm __complete contexts 2>/dev/null)'"
    ) in fish
    assert (
        "complete -c kubewarm -n '__fish_seen_subcommand_from doctor' -l output -x -a 'text json'"
        in fish
    )
