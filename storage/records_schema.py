"""Tables of the three record databases: cases, persons and business entities.

Each database stands on its own (its own file, its own migrations) and holds one record
type: a main table with the record as canonical msgpack (``protocol.encode``) beside a
few columns extracted from it for searching, and a key table with one row per identifier
(container, IMO, flight, vehicle, document and registration numbers) and per link to a
record of another database, so that an exact search is an indexed lookup.

Columns holding several codes (``countries``, ``offence_types``, ``commodities``) are
space-separated with a space at each end (``" ES PA "``), so that a code is matched
whole. Codes are few per record and a search by them reads the table; identifiers go to
the key table instead, whose every row costs an index entry at each write.

``origin`` is the node that owns a record: our own node id for local records, the
sender's for received ones. ``source_system`` + ``source_id`` identify an imported row in
the national system it came from; an import is idempotent by them. Times are epoch
milliseconds; a deleted record keeps its row with ``deleted_at`` set.
"""

from __future__ import annotations

import sqlalchemy as sa

ID_LENGTH = 128
SOURCE_SYSTEM_LENGTH = 100
SOURCE_ID_LENGTH = 200
KEY_VALUE_LENGTH = 200


def _record_table(metadata: sa.MetaData, name: str, *extra: sa.Column[object]) -> sa.Table:
    """The main table of one database: the columns every record type shares, then extra."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("source_system", sa.String(SOURCE_SYSTEM_LENGTH), nullable=True),
        sa.Column("source_id", sa.String(SOURCE_ID_LENGTH), nullable=True),
        sa.Column("catalog_version", sa.Integer, nullable=False),
        sa.Column("record", sa.LargeBinary, nullable=False),
        # Case-folded, accent-free words of the record's names and free text.
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        *extra,
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("deleted_at", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("source_system", "source_id", name=f"uq_{name}_source"),
    )


def _key_table(metadata: sa.MetaData, name: str, parent: sa.Table) -> sa.Table:
    """(record, kind, value) rows: one per identifier or link a record carries.

    A rowid table: rows are appended, and only its two indexes take each row where its
    (random) record id or value sorts, which is half the cost of a table keyed by them."""
    table = sa.Table(
        name,
        metadata,
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(ID_LENGTH),
                  sa.ForeignKey(f"{parent.name}.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(KEY_VALUE_LENGTH), nullable=False),
        sa.UniqueConstraint("record_id", "kind", "value", name=f"uq_{name}"),
    )
    sa.Index(f"ix_{name}_lookup", table.c.value, table.c.kind)
    return table


def _codes(name: str, length: int = 500) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=False, server_default="")


cases_metadata = sa.MetaData()
cases = _record_table(
    cases_metadata,
    "cases",
    sa.Column("date", sa.String(10), nullable=True, index=True),
    # Where the case happened (place.country).
    sa.Column("country", sa.String(2), nullable=True, index=True),
    # Every country of the case: place and route.
    _codes("countries"),
    _codes("offence_types"),
    # Commodity categories, each with its parents: " drugs drugs.cocaine ".
    _codes("commodities", 1000),
)
case_keys = _key_table(cases_metadata, "case_keys", cases)

persons_metadata = sa.MetaData()
persons = _record_table(
    persons_metadata,
    "persons",
    # Folded "family given" name.
    sa.Column("name", sa.String(500), nullable=False, index=True),
    sa.Column("date_of_birth", sa.String(10), nullable=True, index=True),
    # Nationalities.
    _codes("countries"),
)
person_keys = _key_table(persons_metadata, "person_keys", persons)

entities_metadata = sa.MetaData()
entities = _record_table(
    entities_metadata,
    "entities",
    # Folded name.
    sa.Column("name", sa.String(300), nullable=False, index=True),
    sa.Column("registration_number", sa.String(50), nullable=True, index=True),
    # Registration country.
    sa.Column("country", sa.String(2), nullable=True, index=True),
    # Registration and address countries.
    _codes("countries"),
)
entity_keys = _key_table(entities_metadata, "entity_keys", entities)

#: record type -> (database name, which is also its migrations folder, main table, key table)
DATABASES: dict[str, tuple[str, sa.Table, sa.Table]] = {
    "case": ("cases", cases, case_keys),
    "person": ("persons", persons, person_keys),
    "entity": ("entities", entities, entity_keys),
}
