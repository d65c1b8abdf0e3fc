"""Inserting many rows in one statement, for the jobs that write hundreds or thousands at a time (the chase).

On PostgreSQL the rows go as one array per column, unpacked by ``unnest``: a handful of parameters
however many rows, so neither SQLAlchemy nor psycopg builds and parses a statement with tens of
thousands of placeholders (which, at city scale, cost more than the insert itself). On SQLite,
SQLAlchemy's own multi-row ``INSERT``. Either way the table's Python-side defaults are filled in, as
the ORM would, and a row that breaks a unique constraint can be passed over (``ON CONFLICT DO NOTHING``).
"""

from sqlalchemy import types
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .extensions import db

#: The PostgreSQL array a column's values travel in, by column type (the first match wins).
ARRAYS = (
    (types.Boolean, "boolean"),
    (types.Integer, "bigint"),
    (types.Float, "double precision"),
    (types.Numeric, "numeric"),
    (types.DateTime, "timestamptz"),
    (types.Date, "date"),
    (types.Time, "time"),
    (types.Interval, "interval"),
    (types.Uuid, "uuid"),
    (types.LargeBinary, "bytea"),
    (types.JSON, "text"),
    (types.Enum, "text"),
    (types.String, "text"),
)


def insert_rows(table, rows, returning=(), skip_conflicts=False):
    """Insert ``rows`` (dicts of column values) into ``table``; return the ``returning`` columns of each row inserted.

    Every row names the same columns; a column a row leaves out gets its Python-side default, one
    evaluated per row. With ``skip_conflicts``, a row that would break a unique constraint is not
    inserted and not returned (another run got there first). Runs in the session's transaction;
    the caller commits.
    """
    if not rows:
        return []
    names = set(rows[0])
    if any(set(row) != names for row in rows):
        raise ValueError(f"every row inserted into {table.name} must name the same columns")
    returned = [table.c[name] for name in returning]
    rows = _with_defaults(table, rows)
    dialect = db.session.get_bind().dialect
    if dialect.name == "postgresql":
        return _unnest(table, rows, returned, skip_conflicts, dialect)
    statement = sqlite_insert(table)
    if skip_conflicts:
        statement = statement.on_conflict_do_nothing()
    if not returned:
        db.session.execute(statement, rows)
        return []
    return [tuple(row) for row in db.session.execute(statement.returning(*returned), rows)]


def _with_defaults(table, rows):
    """Return the rows with the columns they leave out filled from the columns' Python-side defaults."""
    missing = _defaulted(table, rows[0])
    if not missing:
        return rows
    return [{**{c.name: _default_value(c) for c in missing}, **row} for row in rows]


def _defaulted(table, names):
    """Return the columns left out of ``names`` that have a default; raise TypeError if the database computes it."""
    missing = [c for c in table.columns if c.name not in names and c.default is not None and not c.primary_key]
    for column in missing:
        if not (column.default.is_scalar or column.default.is_callable):
            raise TypeError(f"{table.name}.{column.name}: give its value (its default is computed by the database)")
    return missing


def _default_value(column):
    """Return the column's Python-side default for one row (a callable is called for each row)."""
    return column.default.arg(None) if column.default.is_callable else column.default.arg


def _array_type(column):
    for kind, name in ARRAYS:
        if isinstance(column.type, kind):
            if name == "timestamptz" and not column.type.timezone:
                return "timestamp"
            return name
    raise TypeError(f"no array type for {column.name} ({column.type})")


def _unnest(table, rows, returned, skip_conflicts, dialect):
    """Insert ``rows`` on PostgreSQL as one array per column; return the ``returned`` columns of each row inserted."""
    quote = dialect.identifier_preparer.quote
    columns = [table.c[name] for name in rows[0]]
    params = _arrays(columns, rows, dialect)
    sql = _unnest_insert(table, columns, dialect)
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returned:
        sql += " RETURNING " + ", ".join(quote(column.name) for column in returned)
        return [tuple(row) for row in db.session.execute(db.text(sql), params)]
    db.session.execute(db.text(sql), params)
    return []


def _unchanged(value):
    return value


def _arrays(columns, rows, dialect):
    """Return each column's values as one list (parameters p0, p1, ...), converted as the ORM would send them."""
    params = {}
    for n, column in enumerate(columns):
        # The column type's own conversion (an enum's stored value, JSON text).
        process = column.type.bind_processor(dialect) or _unchanged
        params[f"p{n}"] = [process(row[column.name]) for row in rows]
    return params


def _unnest_insert(table, columns, dialect):
    """Return the ``INSERT`` of the rows unpacked from the arrays :func:`_arrays` makes (JSON travels as text)."""
    quote = dialect.identifier_preparer.quote
    json_columns = {n for n, column in enumerate(columns) if isinstance(column.type, types.JSON)}
    selected = ", ".join(f"CAST(s.c{n} AS json)" if n in json_columns else f"s.c{n}" for n in range(len(columns)))
    arrays = ", ".join(f"CAST(:p{n} AS {_array_type(column)}[])" for n, column in enumerate(columns))
    names = ", ".join(quote(column.name) for column in columns)
    aliases = ", ".join(f"c{n}" for n in range(len(columns)))
    target = dialect.identifier_preparer.format_table(table)
    return f"INSERT INTO {target} ({names}) SELECT {selected} FROM unnest({arrays}) AS s({aliases})"
