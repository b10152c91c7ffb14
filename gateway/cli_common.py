"""What every ``mrg`` command group shares: the one-line error exit and who the CLI acts as."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    """One readable line on stderr, then the exit code (2: the input was wrong)."""
    typer.echo(f"mrg: {message}", err=True)
    raise typer.Exit(code)


def actor() -> str:
    """The audit log's actor for commands run on the store directly: the OS user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user database entry in some containers
        return "cli"
