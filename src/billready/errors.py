"""Exceptions billready raises for problems the user can fix.

Every error the package raises on purpose derives from :class:`BillreadyError`, so a command
line or app can catch that one class and show its message without a traceback.
"""

from __future__ import annotations


class BillreadyError(Exception):
    """Base class of every error billready raises for the user to act on."""


class InputError(BillreadyError):
    """An export file billready cannot land, located as precisely as known.

    ``file`` is the export file (or directory) name, ``row`` the 1-based data row (the header row
    excluded; for JSON the 1-based record), ``field`` the column. ``str()`` reads like
    ``Contracts.csv, row 3, field endDate: '2026-13-01' is not a date (...)``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.field = field

    def __str__(self) -> str:
        location = [
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"field {self.field}" if self.field is not None else None,
            )
            if part
        ]
        return f"{', '.join(location)}: {self.message}" if location else self.message


class WarehouseError(BillreadyError):
    """The DuckDB warehouse cannot be used: missing, locked by another process, or unreadable."""


class BuildError(BillreadyError):
    """dbt could not build the project, or a model, data test or unit test failed."""


class QueryError(BillreadyError):
    """A query or semantic request cannot be compiled or run."""


class UsageError(BillreadyError):
    """A command was called with arguments it cannot use."""


class ApiError(BillreadyError):
    """The Autotask REST API could not be reached, refused a request, or sent a response billready
    cannot use (not JSON, no ``id``, a field whose type changed). Messages never hold secrets.

    ``status`` is the HTTP status of the response that failed, when there was one.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiAuthError(ApiError):
    """The Autotask REST API refused the credentials (HTTP 401 or 403)."""


class RefreshBusyError(BillreadyError):
    """Another refresh of the same warehouse holds the refresh lock."""


class FilterError(BillreadyError):
    """A report filter value billready cannot use (not a number, not a date, an empty range)."""


class NotInViewError(BillreadyError):
    """A drill-through target that does not exist, or that the viewer's scope does not include."""


class AccessDenied(BillreadyError):
    """The viewer may not see this report: not signed in, or not mapped to any company."""
