"""Translation: the catalog (record types, fields, code lists, labels), validation, rendering.

Pure data and lookup: no I/O besides reading the package's own data files, no clock.
Messages carry codes, never labels; a recipient validates a record against its own catalog
and renders it in its reader's language. See README.md for the record shape.
"""

from translation.catalog import Catalog, FieldDef, FieldType, RecordType, default_catalog, load_catalog
from translation.checks import CheckOutcome, check_identifier, normalise_identifier
from translation.codelists import CodeList, IsoCodeList, Label, OwnCodeList
from translation.errors import CatalogError, RecordInvalid, TranslationError
from translation.languages import (
    DEFAULT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    best_language,
    canonical_tag,
    direction,
    normalise_language,
    parse_accept_language,
)
from translation.render import fallback_chain, render, render_code
from translation.text import render_text
from translation.validate import Problem, ProblemCode, ensure_valid, validate
from translation.values import (
    AmountValue,
    CodeValue,
    GroupValue,
    PhotoValue,
    PlainValue,
    RawValue,
    RefValue,
    RenderedField,
    RenderedRecord,
    ResolvedLabel,
    TextValue,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "SUPPORTED_LANGUAGES",
    "AmountValue",
    "Catalog",
    "CatalogError",
    "CheckOutcome",
    "CodeList",
    "CodeValue",
    "FieldDef",
    "FieldType",
    "GroupValue",
    "IsoCodeList",
    "Label",
    "OwnCodeList",
    "PhotoValue",
    "PlainValue",
    "Problem",
    "ProblemCode",
    "RawValue",
    "RecordInvalid",
    "RecordType",
    "RefValue",
    "RenderedField",
    "RenderedRecord",
    "ResolvedLabel",
    "TextValue",
    "TranslationError",
    "best_language",
    "canonical_tag",
    "check_identifier",
    "default_catalog",
    "direction",
    "ensure_valid",
    "fallback_chain",
    "load_catalog",
    "normalise_identifier",
    "normalise_language",
    "parse_accept_language",
    "render",
    "render_code",
    "render_text",
    "validate",
]
