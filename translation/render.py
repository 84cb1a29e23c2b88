"""Rendering a record in a reader's language.

Labels are looked up along an explicit chain: the reader's language, the node's language,
English, and at last the code itself; every label in the output says which language it is
in and whether it fell back. A code this catalog does not know (from a newer catalog) is
shown as the code and flagged ``unknown``, never dropped. Free text is shown as written,
with its language named in the reader's language and ``untranslated`` set.

Speed: everything that depends only on the catalog and the chain (field labels, code
values, the language names of free text, even whole rendered code fields) is computed
once per chain and shared between renderings; rendering itself allocates little more than
one node per field. The output is immutable, so sharing is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from translation.catalog import Catalog, FieldDef, FieldType
from translation.languages import DEFAULT_LANGUAGE, Direction, direction, reader_language
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

TERMS: Final = (
    "unknown_code",
    "unknown_field",
    "untranslated",
    "newer_catalog",
    "invalid_value",
    "photo",
    "catalog_version",
)
_CACHE_LIMIT: Final = 10_000
"""Most entries a per-field cache of rendered code fields grows to."""

_new = tuple.__new__
"""Builds a node from all its fields in order, skipping the named tuple's ``__new__``
(defaults, keywords): half the cost, on the path run once per field of every record."""


def fallback_chain(lang: str, node_lang: str = DEFAULT_LANGUAGE) -> tuple[str, ...]:
    """The languages labels are looked up in, in order: reader's, node's, English."""
    chain: list[str] = []
    for candidate in (lang, node_lang, DEFAULT_LANGUAGE):
        normalised = reader_language(candidate)
        if normalised is not None and normalised not in chain:
            chain.append(normalised)
    return tuple(chain)


def render(
    record: Mapping[str, Any], lang: str, *, catalog: Catalog, node_lang: str = DEFAULT_LANGUAGE
) -> RenderedRecord:
    """Render a record (valid or received from a newer catalog) in ``lang``."""
    return _renderer(catalog, lang, node_lang).record(record)


def render_code(
    list_id: str, code: str, lang: str, *, catalog: Catalog, node_lang: str = DEFAULT_LANGUAGE
) -> CodeValue:
    """One code of one list, rendered like a field of a record (e.g. a TLP handling code)."""
    return _renderer(catalog, lang, node_lang).code(list_id, code)


def _renderer(catalog: Catalog, lang: str, node_lang: str) -> _Renderer:
    """The renderer of (lang, node_lang) for ``catalog``, built once and kept in its memo."""
    memo = catalog.memo
    renderer = memo.get((_RENDERER, lang, node_lang))
    if renderer is None:
        chain = fallback_chain(lang, node_lang)
        renderer = memo.get((_RENDERER, chain)) or _Renderer(catalog, chain)
        if len(memo) >= 256:  # readers' languages are few; never grow without bound
            memo.clear()
        memo[(_RENDERER, chain)] = memo[(_RENDERER, lang, node_lang)] = renderer
    return renderer


_RENDERER: Final = "render"


class _Renderer:
    """Everything that depends on (catalog, chain) only, computed once and shared."""

    def __init__(self, catalog: Catalog, chain: tuple[str, ...]) -> None:
        self.catalog = catalog
        self.chain = chain
        self.lang = chain[0]
        self.dir: Direction = direction(self.lang)
        self.terms = {name: self._resolve(lambda lg, n=name: catalog.term(n, lg), name) for name in TERMS}
        self._codes: dict[str, dict[str, CodeValue]] = {}
        self._languages: dict[str, tuple[ResolvedLabel, Direction]] = {}
        self._type_labels = {
            name: self._resolve(lambda lg, n=name: catalog.record_type_label(n, lg), name)
            for name in catalog.record_types
        }
        self._record_types = {
            name: _Fields(self, record_type.fields) for name, record_type in catalog.record_types.items()
        }

    def record(self, record: Mapping[str, Any]) -> RenderedRecord:
        record_type = record.get("type")
        fields = record.get("fields")
        group = self._record_types.get(record_type) if type(record_type) is str else None
        if group is None:  # validation refuses unknown record types; show what came
            group = _Fields(self, ())
        rendered = self.fields(group, fields) if type(fields) is dict else ()
        version = record.get("catalog_version")
        version = version if type(version) is int else 0
        type_name = record_type if type(record_type) is str else ""
        type_label = self._type_labels.get(type_name) or ResolvedLabel(type_name, None, True)
        return _new(
            RenderedRecord,
            (
                type_name,
                type_label,
                _string(record.get("id")),
                version,
                self.catalog.version,
                self.lang,
                self.dir,
                self.chain,
                rendered,
                self.terms,
            ),
        )

    def fields(self, group: _Fields, values: dict[Any, Any]) -> tuple[RenderedField, ...]:
        """The rendered fields of one object, in catalog order, unknown ones last.

        The hottest loop of rendering: one pass per field present, one call per value.
        """
        layout, codes_only = group.layouts.get(tuple(values)) or group.layout(values)
        if codes_only:  # e.g. a place given by its country alone: maybe rendered before
            try:
                items: tuple[Any, ...] | None = tuple(values.items())
                whole = group.rendered.get(items)
            except TypeError:  # invalid: something unhashable where a code belongs
                items = whole = None
            if whole is not None:
                return whole
        out: list[RenderedField] = []
        append = out.append
        for name, key, label, one, repeated, cache in layout:
            raw = values[name]
            if cache is not None:  # a code field, maybe rendered before
                kind = type(raw)
                try:
                    cache_key = raw if kind is str else tuple(raw) if kind is list else None
                    hit = cache.get(cache_key)
                except TypeError:  # a list holding unhashable values: invalid, shown below
                    cache_key = hit = None
                if hit is not None:
                    append(hit)
                    continue
            if not repeated:
                values_out: tuple[Value, ...] = (one(raw),)
            elif type(raw) is list:
                values_out = tuple([one(item) for item in raw])
            else:
                values_out = (RawValue(raw),)
            if key is not None:
                field = _new(RenderedField, (name, key, label, values_out, repeated, False))
            else:  # a field this catalog lacks
                field = RenderedField(label.text, None, label, values_out, repeated, True)
            if cache is not None and cache_key is not None and _cacheable(values_out, cache):
                cache[cache_key] = field
            append(field)
        result = tuple(out)
        if (
            codes_only
            and items is not None
            and len(group.rendered) < _CACHE_LIMIT
            and all(_known_codes(f.values) for f in result)
        ):
            group.rendered[items] = result
        return result

    def unknown_plan(self, name: object) -> _Plan:
        """A plan for a field the catalog lacks: its name as label, its value as is."""
        text = name if isinstance(name, str) else repr(name)
        return _Plan(name, None, ResolvedLabel(text, None, True), RawValue, False, None)

    def code(self, list_id: str, code: str) -> CodeValue:
        cache = self._codes.get(list_id)
        if cache is None:
            cache = self._codes[list_id] = {}
        value = cache.get(code)
        if value is None:
            code_list = self.catalog.lists[list_id]
            if code in code_list:
                label = self._resolve(lambda lg: code_list.label(code, lg), code)
                value = cache[code] = CodeValue(list_id, code, label, False)
            else:  # from a newer catalog, or invalid: not cached, the input is untrusted
                value = CodeValue(list_id, code, ResolvedLabel(code, None, True), True)
        return value

    def language(self, tag: str) -> tuple[ResolvedLabel, Direction]:
        """The name of a free text's language in the reader's language, and its direction."""
        info = self._languages.get(tag)
        if info is None:
            primary = reader_language(tag) or tag
            languages = self.catalog.lists["language"]
            name = self._resolve(lambda lg: languages.label(primary, lg), tag)
            info = (name, direction(tag))
            if len(self._languages) < _CACHE_LIMIT:
                self._languages[tag] = info
        return info

    def _resolve(self, lookup: Callable[[str], Any], shown: str) -> ResolvedLabel:
        """The first label along the chain, else ``shown`` (the code) flagged as fallback."""
        for lang in self.chain:
            label = lookup(lang)
            if label is not None:
                text = label if isinstance(label, str) else label.text
                return ResolvedLabel(text, lang, lang != self.lang)
        return ResolvedLabel(shown, None, True)


class _Fields:
    """The plans of a record type or group, and which of them apply to a given input.

    Records come with a handful of shapes (sets of fields present, in some key order):
    the plans for each shape are worked out once, so that rendering visits only the
    fields present, in catalog order, without sorting. A group holding only codes (a
    place given by its country) depends on nothing else, and is kept whole once rendered.
    """

    __slots__ = ("plans", "layouts", "rendered", "_renderer")

    def __init__(self, renderer: _Renderer, field_defs: tuple[FieldDef, ...]) -> None:
        self._renderer = renderer
        self.plans = tuple(_plan(renderer, f) for f in field_defs)
        self.layouts: dict[tuple[Any, ...], tuple[tuple[_Plan, ...], bool]] = {}
        """Keys of an input, in order -> (plans to apply, whether all are code fields)."""
        self.rendered: dict[tuple[Any, ...], tuple[RenderedField, ...]] = {}
        """Items of a codes-only input -> its rendered fields."""

    def layout(self, values: dict[Any, Any]) -> tuple[tuple[_Plan, ...], bool]:
        """The plans for the keys of ``values``: known fields in catalog order, then the rest."""
        known = [plan for plan in self.plans if plan.name in values]
        names = {plan.name for plan in self.plans}
        unknown = [self._renderer.unknown_plan(key) for key in values if key not in names]
        plans = tuple(known + unknown)
        codes_only = bool(plans) and all(plan.cache is not None and not plan.repeated for plan in plans)
        entry = (plans, codes_only)
        if not unknown and len(self.layouts) < _CACHE_LIMIT:
            self.layouts[tuple(values)] = entry
        return entry


class _Plan(NamedTuple):
    """How to render one field of the catalog for one chain."""

    name: str
    key: str | None
    label: ResolvedLabel
    one: Callable[[Any], Value]
    """Renders one value (one item, if the field is repeated)."""
    repeated: bool
    cache: dict[Any, RenderedField] | None
    """For code fields: the rendered field by code (or tuple of codes), shared."""


def _plan(renderer: _Renderer, field_def: FieldDef) -> _Plan:
    catalog = renderer.catalog
    name, key = field_def.name, field_def.key
    label = renderer._resolve(lambda lg: catalog.field_label(key, lg), name)
    cache = {} if field_def.type is FieldType.CODE else None
    one = _value_renderer(renderer, field_def)
    return _Plan(name, key, label, one, field_def.repeated, cache)


def _cacheable(values: tuple[Value, ...], cache: dict[Any, RenderedField]) -> bool:
    """Whether a rendered code field may be kept: only known codes, and room left.

    Unknown codes come from untrusted input and must not fill the cache.
    """
    return len(cache) < _CACHE_LIMIT and _known_codes(values)


def _known_codes(values: tuple[Value, ...]) -> bool:
    return all(type(v) is CodeValue and not v.unknown for v in values)


def _value_renderer(renderer: _Renderer, field_def: FieldDef) -> Callable[[Any], Value]:
    """A function rendering one value of ``field_def`` (one item if repeated)."""
    kind = field_def.type
    if kind is FieldType.CODE:
        list_id = field_def.list or ""
        code = renderer.code

        def render_code_value(raw: Any) -> Value:
            return code(list_id, raw) if type(raw) is str else RawValue(raw)

        return render_code_value
    if kind is FieldType.GROUP:
        group = _Fields(renderer, field_def.fields)
        fields = renderer.fields

        def render_group(raw: Any) -> Value:
            if type(raw) is not dict:
                return RawValue(raw)
            return _new(GroupValue, (fields(group, raw), "group"))

        return render_group
    if kind is FieldType.TEXT:
        language, known_languages = renderer.language, renderer._languages

        def render_text_value(raw: Any) -> Value:
            if type(raw) is not dict:
                return RawValue(raw)
            text, tag = raw.get("text"), raw.get("lang")
            if type(text) is not str or type(tag) is not str:
                return RawValue(raw)
            name, text_dir = known_languages.get(tag) or language(tag)
            return _new(TextValue, (text, tag, name, text_dir, True, "text"))

        return render_text_value
    if kind in (FieldType.QUANTITY, FieldType.MONEY):
        unit_key, list_id = ("unit", "unit") if kind is FieldType.QUANTITY else ("currency", "currency")
        kind_name = kind.value
        code = renderer.code

        def render_amount(raw: Any) -> Value:
            if type(raw) is not dict:
                return RawValue(raw)
            amount, unit = raw.get("value"), raw.get(unit_key)
            if type(amount) is not str or type(unit) is not str:
                return RawValue(raw)
            return _new(AmountValue, (kind_name, amount, code(list_id, unit)))

        return render_amount
    if kind is FieldType.REF:
        type_labels = renderer._type_labels

        def render_ref(raw: Any) -> Value:
            if type(raw) is not dict:
                return RawValue(raw)
            target, ident = raw.get("type"), raw.get("id")
            if type(target) is not str or type(ident) is not str:
                return RawValue(raw)
            label = type_labels.get(target) or ResolvedLabel(target, None, True)
            return _new(RefValue, (target, ident, label, "ref"))

        return render_ref
    if kind is FieldType.PHOTO:

        def render_photo(raw: Any) -> Value:
            if type(raw) is not dict:
                return RawValue(raw)
            digest, media_type = raw.get("sha256"), raw.get("media_type")
            if type(digest) is not str or type(media_type) is not str:
                return RawValue(raw)
            return _new(PhotoValue, (digest, media_type, "photo"))

        return render_photo
    kind_name = kind.value  # date, datetime, string: shown as written

    def render_plain(raw: Any) -> Value:
        return _new(PlainValue, (kind_name, raw)) if type(raw) is str else RawValue(raw)

    return render_plain


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
