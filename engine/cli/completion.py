"""``kubewarm completion bash|zsh|fish``: shell completion of subcommands, their options, and
the contexts and users of the kubeconfig (read when completing, through the hidden
``kubewarm __complete contexts|users``, so new contexts complete without regenerating).

    source <(kubewarm completion bash)        # ~/.bashrc
    source <(kubewarm completion zsh)         # ~/.zshrc, after compinit
    kubewarm completion fish > ~/.config/fish/completions/kubewarm.fish
"""

from __future__ import annotations

import argparse
import re
import shlex

from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig.model import KubeconfigError

SHELLS = ("bash", "zsh", "fish")
# options whose value is a name from the kubeconfig, a file, or one of a few words
CONTEXT_OPTIONS = ("--context",)
USER_OPTIONS = ("--user",)
FILE_OPTIONS = ("--kubeconfig", "--command")
CHOICES = {"-o": "text json", "--output": "text json"}
# subcommands whose positional arguments are context names, or fixed words
POSITIONAL_CONTEXTS = ("pin", "unpin")
POSITIONAL_WORDS = {"completion": " ".join(SHELLS), "store": "auto keyring file"}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print shell completion for bash, zsh or fish",
        description=(
            "Prints a completion script: subcommands, options, and the kubeconfig's contexts"
            " and users. bash: `source <(kubewarm completion bash)` in ~/.bashrc; zsh:"
            " `source <(kubewarm completion zsh)` in ~/.zshrc after compinit; fish:"
            " `kubewarm completion fish > ~/.config/fish/completions/kubewarm.fish`."
        ),
    )
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(func=run_completion)
    names = subparsers.add_parser("__complete")  # no help: hidden from the command list
    names.add_argument("kind", choices=("contexts", "users"))
    names.set_defaults(func=run_names)
    subparsers._choices_actions = [  # keep __complete out of `kubewarm --help`
        a for a in subparsers._choices_actions if a.dest != "__complete"
    ]


def run_names(ns) -> int:
    """One context or user name a line (nothing when no kubeconfig can be read)."""
    try:
        contexts = kubeconfig_merge.merge_contexts(
            kubeconfig_merge.load(kubeconfig_files.resolve())
        )
    except KubeconfigError:
        return 0
    if ns.kind == "contexts":
        names = [c.name for c in contexts]
    else:
        names = sorted({c.user_name for c in contexts if c.user_name})
    for name in names:
        if "\n" not in name:
            print(name)
    return 0


# subcommand -> (its help, its options: the option strings of each, such as ("-o", "--output"))
Table = dict[str, tuple[str, list[tuple[str, ...]]]]


def commands(parser: argparse.ArgumentParser) -> Table:
    """The subcommands and their options, from the parser itself (so they never drift)."""
    found: Table = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            if name.startswith("__"):
                continue
            options = [tuple(o for o in a.option_strings if o != "-h") for a in sub._actions]
            found[name] = (helps.get(name, ""), [group for group in options if group])
    return found


def run_completion(ns) -> int:
    parser = getattr(ns, "_parser", None)
    if parser is None:  # pragma: no cover - main always sets it
        # lazy: start-up (main imports this module; the parser is built there)
        from kubewarm.engine.cli.main import build_parser

        parser = build_parser()
    table = commands(parser)
    print({"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[ns.shell](table), end="")
    return 0


def _flat(options: list[tuple[str, ...]]) -> list[str]:
    return [option for group in options for option in group]


def bash_script(table: Table) -> str:
    words = "\n".join(table)
    positional = "|".join(POSITIONAL_CONTEXTS)
    options_case = "".join(
        f'                {name}) _kubewarm_reply "' + "\n".join(_flat(options)) + '" ;;\n'
        for name, (_, options) in table.items()
        if options
    )
    contexts, users, files = (
        "|".join(CONTEXT_OPTIONS),
        "|".join(USER_OPTIONS),
        "|".join(FILE_OPTIONS),
    )
    fixed = "".join(
        f'                {name}) _kubewarm_reply "' + "\n".join(value.split()) + '" ;;\n'
        for name, value in POSITIONAL_WORDS.items()
    )
    return f"""# kubewarm completion for bash: source <(kubewarm completion bash)
_kubewarm_reply() {{
    local IFS=$'\\n'
    COMPREPLY=($(compgen -W "$1" -- "$cur"))
}}
_kubewarm_names() {{
    local IFS=$'\\n'
    COMPREPLY=($(compgen -W "$(kubewarm __complete "$1" 2>/dev/null)" -- "$cur"))
}}
_kubewarm() {{
    local cur prev cword words
    if declare -F _get_comp_words_by_ref >/dev/null; then
        _get_comp_words_by_ref -n : cur prev cword words  # ARNs hold colons
    else
        cur="${{COMP_WORDS[COMP_CWORD]}}"; prev="${{COMP_WORDS[COMP_CWORD-1]}}"
        cword=$COMP_CWORD; words=("${{COMP_WORDS[@]}}")
    fi
    COMPREPLY=()
    if [ "$cword" -eq 1 ]; then
        _kubewarm_reply "{words}"
        return
    fi
    case "$prev" in
        {contexts}) _kubewarm_names contexts ;;
        {users}) _kubewarm_names users ;;
        {files}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -o|--output) _kubewarm_reply "text
json"; return ;;
        *)
            if [[ "$cur" == -* ]]; then
                case "${{words[1]}}" in
{options_case}                esac
            else
                case "${{words[1]}}" in
                {positional}) _kubewarm_names contexts ;;
{fixed}                esac
            fi ;;
    esac
    if declare -F __ltrim_colon_completions >/dev/null; then
        __ltrim_colon_completions "$cur"
    fi
}}
complete -F _kubewarm kubewarm
"""


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_described(name: str, help_: str) -> str:
    """A ``name:help`` element of _describe, which splits at the first colon and takes a
    backslash as an escape in both halves: each colon and backslash escaped."""
    return ":".join(text.replace("\\", "\\\\").replace(":", "\\:") for text in (name, help_))


def zsh_script(table: Table) -> str:
    described = "\n".join(
        "    " + _zsh_quote(_zsh_described(name, help_)) for name, (help_, _) in table.items()
    )
    contexts, users, files = (
        "|".join(CONTEXT_OPTIONS),
        "|".join(USER_OPTIONS),
        "|".join(FILE_OPTIONS),
    )
    positional = "|".join(POSITIONAL_CONTEXTS)
    names = '${(f)"$(kubewarm __complete KIND 2>/dev/null)"}'
    context_names, user_names = names.replace("KIND", "contexts"), names.replace("KIND", "users")
    fixed = "".join(
        f"        {name}) compadd -- {value}; return ;;\n"
        for name, value in POSITIONAL_WORDS.items()
    )
    options = "".join(
        f"        {name}) opts=({' '.join(shlex.quote(o) for o in _flat(opts))}) ;;\n"
        for name, (_, opts) in table.items()
        if opts
    )
    return f"""#compdef kubewarm
# kubewarm completion for zsh: source <(kubewarm completion zsh) (after compinit)
_kubewarm() {{
    local -a commands opts
    commands=(
{described}
    )
    if (( CURRENT == 2 )); then
        _describe 'kubewarm command' commands
        return
    fi
    case ${{words[CURRENT-1]}} in
        {contexts}) compadd -- {context_names}; return ;;
        {users}) compadd -- {user_names}; return ;;
        {files}) _files; return ;;
        -o|--output) compadd -- text json; return ;;
    esac
    if [[ $PREFIX != -* ]]; then
        case ${{words[2]}} in
        {positional}) compadd -- {context_names}; return ;;
{fixed}        esac
    fi
    case ${{words[2]}} in
{options}    esac
    compadd -- $opts
}}
compdef _kubewarm kubewarm
"""


def _fish_quote(text: str) -> str:
    """``text`` as one fish word: bare when plain, else in fish's single quotes, where a
    backslash escapes ``\\`` and ``'`` (POSIX quoting, as shlex.quote does, would lose a
    backslash, or leave the quote open when one ends the text)."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_flags(group: tuple[str, ...]) -> str:
    """``-s o -l output`` for ("-o", "--output"): fish completes both spellings of one option."""
    flags = []
    for option in group:
        if option.startswith("--"):
            flags.append(f"-l {_fish_quote(option[2:])}")
        elif len(option) == 2:
            flags.append(f"-s {_fish_quote(option[1:])}")
        else:  # -long, as find(1) spells options
            flags.append(f"-o {_fish_quote(option[1:])}")
    return " ".join(flags)


def fish_script(table: Table) -> str:
    lines = [
        "# kubewarm completion for fish: kubewarm completion fish > "
        "~/.config/fish/completions/kubewarm.fish",
        "complete -c kubewarm -f",
    ]
    for name, (help_, _) in table.items():
        lines.append(
            "complete -c kubewarm -n __fish_use_subcommand"
            f" -a {_fish_quote(name)} -d {_fish_quote(help_)}"
        )
    names = "'(kubewarm __complete {} 2>/dev/null)'"
    for name, (_, options) in table.items():
        when = _fish_quote(f"__fish_seen_subcommand_from {name}")
        for group in options:
            if any(o in CONTEXT_OPTIONS for o in group):
                extra = " -x -a " + names.format("contexts")
            elif any(o in USER_OPTIONS for o in group):
                extra = " -x -a " + names.format("users")
            elif any(o in FILE_OPTIONS for o in group):
                extra = " -r -F"
            elif choices := next((CHOICES[o] for o in group if o in CHOICES), None):
                extra = f" -x -a {_fish_quote(choices)}"
            else:
                extra = ""
            lines.append(f"complete -c kubewarm -n {when} {_fish_flags(group)}{extra}")
    contexts = _fish_quote("__fish_seen_subcommand_from " + " ".join(POSITIONAL_CONTEXTS))
    lines.append(f"complete -c kubewarm -n {contexts} -a {names.format('contexts')}")
    for name, value in POSITIONAL_WORDS.items():
        when = _fish_quote(f"__fish_seen_subcommand_from {name}")
        lines.append(f"complete -c kubewarm -n {when} -a {_fish_quote(value)}")
    return "\n".join(lines) + "\n"
