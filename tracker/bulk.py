"""Inserting many rows in one statement, for the jobs that write hundreds or thousands at a time (the chase).

On PostgreSQL the rows go as one array per column, unpacked by ``unnest``: a handful of parameters
however many rows, so neither SQLAlchemy nor psycopg builds and parses a statement with tens of
thousands of placeholders (which, at city scale, cost more than the insert itself). On SQLite,
SQLAlchemy's own multi-row ``INSERT``. Either way the table's Python-side defaults are filled in, as
the ORM would, and a row that breaks a unique constraint can be passed over (``ON CONFLICT DO NOTHING``).
"""

import json

from sqlalchemy import types
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .extensions import db

#: The PostgreSQL array a column's values travel in, by column type (the first match wins).
ARRAYS = (
    (types.Boolean, "boolean"),
    (types.Integer, "bigint"),
    (types.Date, "date"),
    (types.DateTime, "timestamptz"),
    (types.JSON, "text"),
    (types.Enum, "text"),
    (types.String, "text"),
)


def insert_rows(table, rows, returning=(), skip_conflicts=False):
    """Insert ``rows`` (dicts of column values) into ``table``; return the ``returning`` columns of each row inserted.

    With ``skip_conflicts``, a row that would break a unique constraint is not inserted and not
    returned (another run got there first). Runs in the session's transaction; the caller commits.
    """
    if not rows:
        return []
    rows = _with_defaults(table, rows)
    if db.session.get_bind().dialect.name == "postgresql":
        return _unnest(table, rows, returning, skip_conflicts)
    statement = sqlite_insert(table)
    if skip_conflicts:
        statement = statement.on_conflict_do_nothing()
    if not returning:
        db.session.execute(statement, rows)
        return []
    return [tuple(row) for row in db.session.execute(statement.returning(*(table.c[c] for c in returning)), rows)]


def _with_defaults(table, rows):
    """Return the rows with every column the first one lacks filled from the column's Python-side default."""
    missing = [c for c in table.columns if c.name not in rows[0] and c.default is not None and not c.primary_key]
    if not missing:
        return rows
    defaults = {c.name: c.default.arg(None) if c.default.is_callable else c.default.arg for c in missing}
    return [{**defaults, **row} for row in rows]


def _array_type(column):
    for kind, name in ARRAYS:
        if isinstance(column.type, kind):
            if name == "timestamptz" and not column.type.timezone:
                return "timestamp"
            return name
    raise TypeError(f"no array type for {column.name} ({column.type})")


def _value(column, value):
    if value is None:
        return None
    if isinstance(column.type, types.JSON):
        return json.dumps(value)
    if isinstance(column.type, types.Enum):
        return getattr(value, "value", value)
    return value


def _unnest(table, rows, returning, skip_conflicts):
    columns = [table.c[name] for name in rows[0]]
    params = {f"p{n}": [_value(column, row[column.name]) for row in rows] for n, column in enumerate(columns)}
    json_columns = {n for n, column in enumerate(columns) if isinstance(column.type, types.JSON)}
    selected = ", ".join(f"CAST(s.c{n} AS json)" if n in json_columns else f"s.c{n}" for n in range(len(columns)))
    arrays = ", ".join(f"CAST(:p{n} AS {_array_type(column)}[])" for n, column in enumerate(columns))
    names = ", ".join(f'"{column.name}"' for column in columns)
    aliases = ", ".join(f"c{n}" for n in range(len(columns)))
    sql = f'INSERT INTO "{table.name}" ({names}) SELECT {selected} FROM unnest({arrays}) AS s({aliases})'
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(f'"{name}"' for name in returning)
        return [tuple(row) for row in db.session.execute(db.text(sql), params)]
    db.session.execute(db.text(sql), params)
    return []
