"""The errors of the translation package."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from translation.validate import Problem


class TranslationError(Exception):
    """Base of every error raised by the translation package."""


class CatalogError(TranslationError):
    """The packaged catalog or one of its code lists is missing or malformed.

    ``problems`` lists every defect found, one line each, naming the file.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("catalog data is malformed:\n  " + "\n  ".join(self.problems))


class RecordInvalid(TranslationError):
    """A record was refused; ``problems`` lists every problem found, never only the first.

    ``reason`` is a stable code for the protocol's rejection answers.
    """

    reason = "record_invalid"
    status_hint = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:5])
        more = len(self.problems) - 5
        suffix = f"; and {more} more" if more > 0 else ""
        super().__init__(f"record refused, {len(self.problems)} problem(s): {shown}{suffix}")
