"""``kubewarm completion``: the bash, zsh and fish scripts complete subcommands (with their
help), options, option values, and the kubeconfig's contexts and users (an EKS ARN comes out
whole, colons and slash included), each run by the real shell: bash calls the completion
function as bash does on Tab; fish prints what Tab offers (``complete -C``); zsh runs
interactively on a pseudo-terminal, with compinit and the script loaded from its .zshrc, is
sent the line and a Tab, and its listing and command line are read off the screen."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from kubewarm.engine.cli.completion import commands, fish_script, zsh_script
from kubewarm.engine.cli.main import build_parser
from kubewarm.tray.cli import register as register_tray

from tests.fixtures_core import BIN, EXEC_API, kill_pid, require
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


def _helps() -> dict[str, str]:
    """Every subcommand with the help Tab must show beside it (from the parser itself)."""
    return {
        name: help_ for name, (help_, _) in commands(build_parser(extra=(register_tray,))).items()
    }


def _generated(env: dict, shell: str, tmp_path: Path) -> Path:
    generated = run_cli("completion", shell, env=env)
    assert generated.returncode == 0, generated.stderr
    path = tmp_path / f"kubewarm.{shell}"
    path.write_text(generated.stdout)
    return path


def _fish(env: dict, script: Path, line: str) -> list[tuple[str, str]]:
    """What fish offers on Tab after ``line``: (candidate, description) pairs, as fish sorts
    them."""
    fish = shutil.which("fish")
    require(fish is not None, "fish (tests/install-system-deps.sh)")
    assert fish is not None
    result = subprocess.run(
        [fish, "--no-config", "-c", "source $argv[1]; and complete -C $argv[2]",
         str(script), line],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [(row.partition("\t")[0], row.partition("\t")[2]) for row in result.stdout.splitlines()]


def _values(pairs: list[tuple[str, str]]) -> list[str]:
    return [value for value, _ in pairs]


@pytest.mark.real
def test_fish_completes_commands_options_contexts_and_users(completion_env, tmp_path):
    script = _generated(completion_env, "fish", tmp_path)
    assert dict(_fish(completion_env, script, "kubewarm ")) == _helps()
    assert _fish(completion_env, script, "kubewarm st") == [
        (name, _helps()[name]) for name in ("stats", "status", "store")
    ]
    assert _values(_fish(completion_env, script, "kubewarm pin ")) == [ARN, "dev"]
    assert _values(_fish(completion_env, script, "kubewarm unpin arn:aws:eks:")) == [ARN]
    assert _values(_fish(completion_env, script, "kubewarm status --context ")) == [ARN, "dev"]
    assert _values(_fish(completion_env, script, "kubewarm status --context d")) == ["dev"]
    assert _values(_fish(completion_env, script, "kubewarm clear --user ")) == [ARN, "dev-user"]
    assert _values(_fish(completion_env, script, "kubewarm status --w")) == ["--wide"]
    # both spellings of an option, and the values of each
    assert {"-o", "--output", "-v", "--verbose"} <= set(
        _values(_fish(completion_env, script, "kubewarm doctor -"))
    )
    assert _values(_fish(completion_env, script, "kubewarm doctor -o ")) == ["json", "text"]
    assert _values(_fish(completion_env, script, "kubewarm doctor --output ")) == ["json", "text"]
    assert _values(_fish(completion_env, script, "kubewarm completion ")) == ["bash", "fish", "zsh"]
    assert _values(_fish(completion_env, script, "kubewarm store ")) == ["auto", "file", "keyring"]


# a help with everything a shell's quoting could get wrong, ending with a backslash
ODD_HELP = 'it\'s \\ one, \\\\ two, "quoted" $HOME `x` (y); a: b ends \\'


@pytest.mark.real
def test_fish_and_zsh_show_a_help_as_written(completion_env, tmp_path):
    table = {"odd": (ODD_HELP, [("-o", "--output")]), "other": ("plain", [])}
    fish = tmp_path / "odd.fish"
    fish.write_text(fish_script(table))
    assert _fish(completion_env, fish, "kubewarm o") == [("odd", ODD_HELP), ("other", "plain")]
    zsh = tmp_path / "odd.zsh"
    zsh.write_text(zsh_script(table))
    listing, _ = _zsh_tab(completion_env, zsh, tmp_path, "kubewarm o")
    assert _described(listing) == {"odd": ODD_HELP, "other": "plain"}


_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00\x07\x08]")


def _zsh_tab(env: dict, script: Path, tmp_path: Path, line: str) -> tuple[list[str], str]:
    """Type ``line`` and Tab into an interactive zsh that loads compinit and ``script`` from
    its .zshrc, as a user's would: returns the listing zsh prints under the line (one string
    a screen line) and the command line after the Tab (where a single match is inserted)."""
    zsh = shutil.which("zsh")
    if sys.platform == "win32":
        pytest.skip("other platform: no pseudo-terminals for zsh (Linux and macOS have them)")
    require(zsh is not None, "zsh (tests/install-system-deps.sh)")
    assert zsh is not None
    import fcntl
    import pty
    import struct
    import termios

    zdotdir = tmp_path / "zdotdir"
    zdotdir.mkdir(exist_ok=True)
    (zdotdir / ".zshrc").write_text(
        "autoload -Uz compinit && compinit -u -D\n"
        f"source {script}\n"
        "PS1='ZLE> '\n"
        # after the Tab, ^X s shows the command line below it
        '_kw_show() { zle -M "BUFFER[$BUFFER]END" }\n'
        "zle -N _kw_show\nbindkey '^Xs' _kw_show\n"
    )
    master, slave = pty.openpty()
    # wide enough that no help is cut, high enough that zsh lists without asking first
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 250, 0, 0))
    process = subprocess.Popen(
        [zsh, "--no-globalrcs", "-i"], stdin=slave, stdout=slave, stderr=slave,
        env={**env, "ZDOTDIR": str(zdotdir), "TERM": "vt100"}, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""

    def read_until(pattern: str, timeout: float = 30) -> re.Match:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, _CONTROL.sub("", seen.decode(errors="replace")), re.S)
            if found:
                return found
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:  # zsh exited
                    break
        raise AssertionError(f"zsh never showed {pattern!r}: {seen!r}")

    try:
        read_until("ZLE> ")
        seen = b""
        os.write(master, (line + "\t\x18s").encode())
        shown = read_until(r"\A(.*?)BUFFER\[(.*?)\]END")
    finally:
        os.close(master)  # hangs the terminal up: zsh exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_pid(process.pid)
    # line one is the command line; the listing follows it, each screen line ending where
    # zsh returns to the line's start to redraw the command line
    rows = shown.group(1).split("\n")[1:]
    listing = [row.split("\r")[0].rstrip() for row in rows]
    return [row for row in listing if row], shown.group(2)


def _described(listing: list[str]) -> dict[str, str]:
    """``name  -- help`` rows of a zsh listing, as a mapping."""
    described = {}
    for row in listing:
        found = re.fullmatch(r"(\S+) +-- (.*)", row)
        assert found, f"not a described candidate: {row!r}"
        described[found.group(1)] = found.group(2)
    return described


def _words(listing: list[str]) -> list[str]:
    """The candidates of a zsh listing without descriptions (laid out in columns)."""
    return [word for row in listing for word in row.split()]


@pytest.mark.real
def test_zsh_completes_commands_options_contexts_and_users(completion_env, tmp_path):
    script = _generated(completion_env, "zsh", tmp_path)

    def tab(line: str) -> tuple[list[str], str]:
        return _zsh_tab(completion_env, script, tmp_path, line)

    listing, _ = tab("kubewarm ")
    assert _described(listing) == _helps()
    listing, buffer = tab("kubewarm st")
    assert _described(listing) == {n: _helps()[n] for n in ("stats", "status", "store")}
    assert buffer == "kubewarm st"
    assert _words(tab("kubewarm pin ")[0]) == [ARN, "dev"]
    # one match: inserted whole, colons and slash as they are, then a space
    assert tab("kubewarm pin a") == ([], f"kubewarm pin {ARN} ")
    assert tab("kubewarm unpin arn:aws:eks:") == ([], f"kubewarm unpin {ARN} ")
    assert _words(tab("kubewarm status --context ")[0]) == [ARN, "dev"]
    assert tab("kubewarm status --context d") == ([], "kubewarm status --context dev ")
    assert _words(tab("kubewarm clear --user ")[0]) == [ARN, "dev-user"]
    assert tab("kubewarm status --w") == ([], "kubewarm status --wide ")
    assert set(_words(tab("kubewarm doctor -")[0])) == {
        "--help", "--kubeconfig", "-v", "--verbose", "-o", "--output"
    }  # fmt: skip
    assert _words(tab("kubewarm doctor -o ")[0]) == ["json", "text"]
    assert _words(tab("kubewarm completion ")[0]) == ["bash", "fish", "zsh"]
