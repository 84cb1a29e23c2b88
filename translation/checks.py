"""Checks of identifiers: container numbers, IMO numbers, flight numbers, UN/LOCODEs.

A field of type ``string`` may name one of these checks in the catalog. Records carry
identifiers in one canonical form, so that the same container is the same string in
every record and a search finds it; ``normalise_identifier`` turns what an officer typed
into that form, and validation refuses anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from stdnum import imo, iso6346
from stdnum.exceptions import InvalidChecksum, ValidationError


class CheckOutcome(StrEnum):
    """The result of checking an identifier."""

    VALID = "valid"
    BAD_FORMAT = "bad_format"
    BAD_CHECK_DIGIT = "bad_check_digit"
    NOT_CANONICAL = "not_canonical"


@dataclass(frozen=True, slots=True)
class IdentifierCheck:
    """A named check: what it expects, and how to bring a value into canonical form."""

    name: str
    expected: str
    normalise: Callable[[str], str]
    """The canonical form of a value; raises ValueError when it has none."""


class _BadCheckDigit(ValueError):
    """The value has the right shape but a wrong check digit."""


def _stdnum(validate: Callable[[str], str]) -> Callable[[str], str]:
    def normalise(value: str) -> str:
        try:
            # Containers are often written "CSQU 305438-3"; stdnum keeps the hyphen.
            return validate(re.sub(r"[\s./-]", "", value))
        except InvalidChecksum as exc:
            raise _BadCheckDigit(str(exc)) from exc
        except ValidationError as exc:
            raise ValueError(str(exc)) from exc

    return normalise


_LOCODE = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
# IATA: two-character airline designator (not two digits), ICAO: three letters; then
# one to four digits and an optional operational suffix letter.
_FLIGHT = re.compile(r"(?:[A-Z]{3}|[A-Z][A-Z0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?")


def _locode(value: str) -> str:
    compact = re.sub(r"[\s-]", "", value).upper()
    if not _LOCODE.fullmatch(compact):
        raise ValueError("a UN/LOCODE is a country code and three letters or digits 2-9")
    return compact


def _flight_number(value: str) -> str:
    compact = re.sub(r"\s", "", value).upper()
    if not _FLIGHT.fullmatch(compact):
        raise ValueError("not an IATA or ICAO flight number")
    return compact


CHECKS: Final[dict[str, IdentifierCheck]] = {
    check.name: check
    for check in (
        IdentifierCheck(
            "iso6346",
            'an ISO 6346 container number with a valid check digit, like "CSQU3054383"',
            _stdnum(iso6346.validate),
        ),
        IdentifierCheck(
            "imo",
            'a seven-digit IMO ship number with a valid check digit, like "9074729"',
            _stdnum(imo.validate),
        ),
        IdentifierCheck(
            "unlocode",
            'a UN/LOCODE: country code and three letters or digits 2-9, like "ESALG"',
            _locode,
        ),
        IdentifierCheck(
            "flight_number",
            'an IATA or ICAO flight number, like "IB6830" or "IBE6830"',
            _flight_number,
        ),
    )
}


def check_identifier(check_name: str, value: str) -> CheckOutcome:
    """Whether ``value`` passes the named check and is written in canonical form."""
    try:
        canonical = CHECKS[check_name].normalise(value)
    except _BadCheckDigit:
        return CheckOutcome.BAD_CHECK_DIGIT
    except ValueError:
        return CheckOutcome.BAD_FORMAT
    return CheckOutcome.VALID if canonical == value else CheckOutcome.NOT_CANONICAL


def normalise_identifier(check_name: str, value: str) -> str:
    """The canonical form of ``value`` (``"csqu 305438-3"`` -> ``"CSQU3054383"``).

    Raises ValueError when the value cannot pass the check in any form.
    """
    return CHECKS[check_name].normalise(value)
