"""Errors a user sees. Each names the place (file, line, field) and the fix."""

from __future__ import annotations


class ShequnError(Exception):
    """An error meant for the user: printed without a traceback by the CLI."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class InputError(ShequnError):
    """Bad input: a file, a line or a field that cannot be read as expected."""

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        line: int | None = None,
        field: str = "",
        hint: str = "",
    ) -> None:
        where = path
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        if field:
            where = f"{where} (field {field!r})" if where else f"field {field!r}"
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = path
        self.line = line
        self.field = field


class WorkspaceError(ShequnError):
    """The workspace is missing or its settings are invalid."""
