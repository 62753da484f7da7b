"""``kubewarm doctor``: a thin adaptor over ``diagnostics.doctor``: one line per problem with
its fix; exit 0 when all is well, 1 otherwise."""

from __future__ import annotations

from kubewarm.engine.cli.output import add_output_option, print_json
from kubewarm.engine.cli.text import plural
from kubewarm.engine.diagnostics import doctor


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the whole chain (kubeconfig, wrapping, plugins, launcher, store, tray)",
        description=(
            "Checks, in the order kubectl goes through them: the kubeconfig files (readable,"
            " writable only by you), which exec users are wrapped, each plugin installed, the"
            " launcher's Python, the credential store, the tray and its login item. Prints"
            " one line per problem with its fix."
        ),
        epilog="exit status: 0 when no check found a problem, 1 otherwise.",
    )
    parser.add_argument(
        "--kubeconfig",
        action="append",
        metavar="PATH",
        help="kubeconfig file to check (repeatable); default: $KUBECONFIG, else ~/.kube/config",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also list what passed and what is unknown"
    )
    add_output_option(parser)
    parser.set_defaults(func=run_doctor)


def run_doctor(ns) -> int:
    findings = doctor.diagnose(ns.kubeconfig)
    problems = [f for f in findings if f.problem]
    if ns.output == "json":
        print_json(
            {
                "ok": not problems,
                "checks": [
                    {
                        "check": f.check,
                        "status": f.status,
                        "message": f.message,
                        "fix": f.fix or None,
                    }
                    for f in findings
                ],
            }
        )
        return 1 if problems else 0
    for f in findings if ns.verbose else problems:
        print(f"{f.status.upper():7s}  {f.line()}")
    if problems:
        print(f"{plural(len(problems), 'problem')} found ({len(findings)} checks).")
        return 1
    print(f"All is well ({plural(len(findings), 'check')}; -v lists them).")
    return 0
