"""A plain-text view of a rendered record, for a terminal (``ncen-node`` CLI, logs).

Flags are written out in the reader's language: an unknown code is followed by
"[unknown code]", free text by its language and "not translated", a label that fell back
to another language by that language's tag. Right-to-left output starts each line with a
right-to-left mark and isolates embedded values, so bidi-aware terminals lay it out right.
"""

from __future__ import annotations

from typing import Final

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
    Value,
)

INDENT: Final = "  "
_RLM, _FSI, _PDI = "\u200f", "\u2068", "\u2069"


def render_text(rendered: RenderedRecord) -> str:
    """The record as indented lines of ``label: value``, one field per line."""
    writer = _TextWriter(rendered)
    header = writer.label(rendered.type_label) + " " + writer.isolate(rendered.id)
    if rendered.newer_catalog:
        header += (
            f" [{writer.term('newer_catalog')}: {writer.term('catalog_version')} {rendered.catalog_version}]"
        )
    lines = [header]
    for field in rendered.fields:
        writer.field(field, 0, lines)
    prefix = _RLM if rendered.dir == "rtl" else ""
    return "\n".join(prefix + line for line in lines) + "\n"


class _TextWriter:
    def __init__(self, rendered: RenderedRecord) -> None:
        self.rendered = rendered
        self.rtl = rendered.dir == "rtl"

    def term(self, name: str) -> str:
        return self.rendered.terms[name].text

    def isolate(self, text: str) -> str:
        """Text from elsewhere (codes, identifiers, free text) kept in its own direction."""
        return f"{_FSI}{text}{_PDI}" if self.rtl else text

    def label(self, label: ResolvedLabel) -> str:
        if label.fallback and label.lang is not None:
            return f"{label.text} [{label.lang}]"
        return label.text

    def field(self, field: RenderedField, depth: int, lines: list[str]) -> None:
        indent = INDENT * depth
        name = self.label(field.label)
        if field.unknown:
            name += f" [{self.term('unknown_field')}]"
        if any(isinstance(v, GroupValue) for v in field.values):
            for index, value in enumerate(field.values, start=1):
                lines.append(f"{indent}{name}" + (f" {index}" if field.repeated else ""))
                if isinstance(value, GroupValue):
                    for sub in value.fields:
                        self.field(sub, depth + 1, lines)
                else:
                    lines.append(f"{indent}{INDENT}{self.value(value)}")
            return
        shown = "; ".join(self.value(v, invalid=not field.unknown) for v in field.values)
        lines.append(f"{indent}{name}: {shown}")

    def value(self, value: Value, *, invalid: bool = True) -> str:
        """One value; a raw value is flagged invalid unless its whole field is unknown."""
        if isinstance(value, CodeValue):
            return self.code(value)
        if isinstance(value, AmountValue):
            return f"{self.isolate(value.value)} {self.code(value.unit)}"
        if isinstance(value, TextValue):
            about = f"{self.label(value.lang_name)}, {self.term('untranslated')}"
            text = f"{_FSI}{value.text}{_PDI}" if self.rtl or value.dir == "rtl" else value.text
            return f"{text} [{about}]"
        if isinstance(value, PlainValue):
            return self.isolate(value.value)
        if isinstance(value, RefValue):
            return f"{self.label(value.type_label)} {self.isolate(value.id)}"
        if isinstance(value, PhotoValue):
            return f"{self.term('photo')} {self.isolate(value.media_type)} " + self.isolate(
                f"sha256:{value.sha256[:16]}…"
            )
        if isinstance(value, RawValue):
            flag = f" [{self.term('invalid_value')}]" if invalid else ""
            return self.isolate(value.display) + flag
        return self.isolate(repr(value))

    def code(self, value: CodeValue) -> str:
        if value.unknown:
            return f"{self.isolate(value.code)} [{self.term('unknown_code')}]"
        if value.label.lang is None:
            return self.isolate(value.code)
        return self.label(value.label)
