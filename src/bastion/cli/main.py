"""The ``bastion`` command: the Typer app and its command groups.

Exit codes (0 clean, 1 findings at or above ``--fail-on``, 2 usage or input error) are set
in one place, :func:`bastion.cli.output.command`, which every command is wrapped in.

Command groups load lazily: ``bastion --help`` lists every command from the help lines kept in
:data:`COMMAND_GROUPS`, and a group's module (with the libraries it imports) is imported only when
one of its commands runs, so ``bastion scan`` starts as fast as ``bastion-hook``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import click
import typer
from typer.core import TyperGroup

from bastion import __version__
from bastion.cli import scan as scan_cmd
from bastion.cli.output import register_group

__all__ = ["COMMAND_GROUPS", "CommandGroup", "LazyGroup", "app", "main", "register_eager", "run"]

EXIT_USAGE = 2  # what click uses for usage errors too


@dataclass(frozen=True)
class CommandGroup:
    """One module of bastion.cli with a ``register(app)`` function, and what it adds to ``app``.

    ``commands`` and ``groups`` are the top-level names it registers (plain commands, then
    sub-groups, as Typer lists them) with their one-paragraph help; ``extended_by`` names modules
    whose ``register`` adds commands to this module's groups (``serve`` adds ``db migrate``).
    """

    module: str
    commands: tuple[tuple[str, str], ...] = ()
    groups: tuple[tuple[str, str], ...] = ()
    extended_by: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every top-level command name the module registers."""
        return tuple(name for name, _ in (*self.commands, *self.groups))


# Each command group is one module of bastion.cli with a ``register(app)`` function. A plain
# string entry (a module name) is registered eagerly, as before lazy loading.
COMMAND_GROUPS: tuple[CommandGroup | str, ...] = (
    CommandGroup(  # bastion db update|import|status (advisories) and db migrate (store)
        "db",
        groups=(("db", "The advisory database (OSV + CISA KEV) used by the deps scanner."),),
        extended_by=("serve",),
    ),
    CommandGroup(
        "sbom",
        commands=(("sbom", "Write a software bill of materials for PATH (a directory or one lockfile)."),),
    ),
    CommandGroup(
        "dast",
        commands=(
            (
                "dast",
                "Scan a running web application at URL: crawl it (links, forms, robots.txt, sitemap.xml,"
                "\nscripts) within its origin and --scope, apply the passive rules to every response, and "
                "with\n--active send safe probes (XSS, SQL injection, open redirect, path traversal, "
                "sensitive paths,\nTRACE). With --zap, drive a running OWASP ZAP daemon instead and "
                "import its alerts.",
            ),
        ),
    ),
    CommandGroup(
        "watch", groups=(("watch", "Learn normal behaviour from logs and raise explained anomaly alerts."),)
    ),
    CommandGroup(
        "comply",
        groups=(
            (
                "comply",
                "Compliance posture: every finding and process fact mapped to NIST SP 800-53 r5, CIS "
                "Controls v8 and ISO/IEC 27001:2022.",
            ),
        ),
    ),
    CommandGroup(  # bastion serve, upload, user
        "serve",
        commands=(
            ("serve", "Run the platform server: REST API and dashboard over the store."),
            (
                "upload",
                "Upload a Bastion JSON report, a SARIF 2.1.0 log or another tool's report to a Bastion "
                "server.",
            ),
        ),
        groups=(("user", "Manage dashboard users."),),
    ),
    CommandGroup(  # bastion users list|disable|enable|role|invite|invites|revoke
        "users",
        groups=(("users", "List and change dashboard users and roles, and invite people."),),
    ),
    CommandGroup(  # bastion identity detect|explain
        "identity",
        groups=(
            (
                "identity",
                "Detect compromised identities in sign-in logs (Entra ID, CloudTrail, Okta, Google "
                "Workspace, Windows Security JSON or .evtx, auth.log).",
            ),
        ),
    ),
    CommandGroup(  # bastion sigma check|run
        "sigma", groups=(("sigma", "Run the community's Sigma detection rules on logs."),)
    ),
    CommandGroup(  # bastion coverage REPORT: the coverage gate
        "coverage",
        commands=(
            ("coverage", "Gate on a coverage report: Cobertura XML, LCOV, JaCoCo XML or coverage.py JSON."),
        ),
    ),
    CommandGroup(  # bastion fix [PATH]: upgrades as a patch and a pull-request text
        "fix", commands=(("fix", "Upgrade vulnerable dependencies: a patch and a pull-request text."),)
    ),
    CommandGroup(  # bastion ci render|stages: one scan in every pipeline format
        "ci", groups=(("ci", "Pipeline helpers: render one scan in many formats, list stages."),)
    ),
    CommandGroup(  # bastion import FILE [--tool NAME]: another tool's report as Bastion's
        "imports",
        commands=(
            (
                "import",
                "Convert another tool's report into Bastion's report (JSON unless --format says otherwise).",
            ),
        ),
    ),
    CommandGroup(  # bastion rules list|show: every scanner's rules (RuleInfo)
        "rules",
        groups=(("rules", "List the rules every installed scanner can report, or show one rule in full."),),
    ),
    CommandGroup(  # bastion catalog publish|approve|deprecate|retire|recheck|scan: approved templates
        "catalog",
        groups=(
            (
                "catalog",
                "A catalog of pre-approved, compliant templates: gated publish, approval, deprecation, "
                "retirement, scheduled re-checks, and the repositories that use them.",
            ),
        ),
    ),
    CommandGroup(  # bastion phish targets import, campaign create|launch|send|status|stop|report, purge
        "phish",
        groups=(
            ("phish", "Internal phishing exercises: targets, campaigns, sending, tracking and reports."),
        ),
    ),
    CommandGroup(  # bastion respond run|plan|approve|undo|status|kill-switch: actions behind safeguards
        "respond",
        groups=(
            (
                "respond",
                "Respond to alerts automatically, behind allow-lists, limits, approval and timed undo.",
            ),
        ),
    ),
    CommandGroup(  # bastion worker: scan jobs from the task queue (Dramatiq over Redis)
        "worker",
        commands=(
            ("worker", "Run scan workers on the task queue: one job per repository (fetch, scan, store)."),
        ),
    ),
    CommandGroup(  # bastion org add|list|schedule|scan|jobs: one scan job per repository
        "org", groups=(("org", "Scan every repository of the organisation, one job per repository."),)
    ),
    CommandGroup(  # bastion drill list|run|ack|contain|resolve|tune|report: war games scored on time
        "drill",
        groups=(("drill", "War games: replayed attacks scored on time to detect, acknowledge and contain."),),
    ),
    CommandGroup(  # bastion ready [answer]: readiness for a cyberattack, from evidence
        "ready",
        groups=(
            (
                "ready",
                "Are we ready to respond to a cyberattack? The answer from evidence, the three weakest "
                "points, a roadmap and the trend.",
            ),
        ),
    ),
)


class _Placeholder(click.Command):
    """What ``bastion --help`` lists for a command whose module is not imported yet."""


_loaded: dict[str, typer.Typer] = {}
"""Module name -> a Typer holding what its ``register`` added (each module registers once)."""


def _registered(module: str, names: Sequence[str]) -> typer.Typer:
    holder = _loaded.get(module)
    if holder is None:
        holder = typer.Typer()

        @holder.callback()
        def _group() -> None:
            """Holds one module's commands."""

        register_group(holder, module, names)
        _loaded[module] = holder
    return holder


class LazyGroup(TyperGroup):
    """A Typer group that imports a command's module only when the command is resolved to run.

    ``get_command`` (used to list and describe commands) answers a placeholder carrying the help
    line of :data:`COMMAND_GROUPS`; ``resolve_command`` (used to run one) imports the module and
    answers the real command.
    """

    lazy_groups: ClassVar[Sequence[CommandGroup | str]] = ()

    def _specs(self) -> Mapping[str, tuple[CommandGroup, str]]:
        specs: dict[str, tuple[CommandGroup, str]] = {}
        for group in self.lazy_groups:
            if isinstance(group, CommandGroup):
                for name, text in (*group.commands, *group.groups):
                    specs[name] = (group, text)
        return specs

    def _lazy_order(self) -> list[str]:
        groups = [g for g in self.lazy_groups if isinstance(g, CommandGroup)]
        plain = [name for g in groups for name, _ in g.commands]
        return plain + [name for g in groups for name, _ in g.groups]

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager commands first, then the lazy ones in Typer's order (commands, then groups)."""
        eager = super().list_commands(ctx)
        return eager + [name for name in self._lazy_order() if name not in self.commands]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command if loaded, else a placeholder with its help line (nothing imported)."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        spec = self._specs().get(cmd_name)
        if spec is None:
            return None
        return _Placeholder(cmd_name, help=spec[1])

    def load(self, cmd_name: str) -> click.Command | None:
        """Import the module of ``cmd_name``, add its commands to this group, return the command."""
        spec = self._specs().get(cmd_name)
        if spec is None:
            return self.commands.get(cmd_name)
        group = spec[0]
        for module in group.extended_by:
            _registered(module, self._names_of(module))
        holder = typer.main.get_group(_registered(group.module, group.names()))
        for name in group.names():
            command = holder.commands.get(name)
            if command is not None:
                self.add_command(command, name)
        return self.commands.get(cmd_name)

    def _names_of(self, module: str) -> tuple[str, ...]:
        for group in self.lazy_groups:
            if isinstance(group, CommandGroup) and group.module == module:
                return group.names()
        return (module,)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Load the named command's module before Click resolves it."""
        if args and args[0] not in self.commands and args[0] in self._specs():
            self.load(args[0])
        return super().resolve_command(ctx, args)


class _BastionGroup(LazyGroup):
    lazy_groups = COMMAND_GROUPS


app = typer.Typer(
    name="bastion",
    cls=_BastionGroup,
    help=(
        "Bastion: one DevSecOps platform that validates every build.\n\n"
        "Example: bastion scan . --format sarif -o bastion.sarif"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bastion {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Bastion: one DevSecOps platform that validates every build."""


def register_eager(target: typer.Typer, groups: Sequence[CommandGroup | str]) -> None:
    """Register the plain module names of ``groups`` now (the lazy entries load when run); a group
    whose packages a light install lacks says so when run."""
    for group in groups:
        if isinstance(group, str):
            register_group(target, group)


scan_cmd.register(app)
register_eager(app, COMMAND_GROUPS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code instead of exiting."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="bastion", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
