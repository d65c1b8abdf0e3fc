"""Departments (部门) that lead or carry out the plan's tasks."""

import re

from sqlalchemy import orm

from ..extensions import db

_BRACKETS = str.maketrans({"（": "(", "）": ")", "\u3000": None, " ": None, "\xa0": None})


def normalize_department_name(name):
    """Return ``name`` with half-width brackets and no white space, the form names are compared in."""
    return re.sub(r"\s+", "", name.translate(_BRACKETS))


class Department(db.Model):
    """A department (部门) of the office, e.g. 发改局."""

    __tablename__ = "departments"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    #: The name as the arrangement writes it, e.g. ``工委(管委会)办公室``.
    name = db.Column(db.String(100), nullable=False, unique=True)
    #: Shown where space is short; defaults to the name.
    short_name = db.Column(db.String(50), nullable=False)
    #: The department head's name, for the forms' 审核人 and escalated reminders.
    head_name = db.Column(db.String(50))
    #: Where escalated reminders reach the department head (5 days overdue by default).
    head_email = db.Column(db.String(200))

    aliases = orm.relationship(
        "DepartmentAlias",
        back_populates="department",
        cascade="all, delete-orphan",
        order_by="DepartmentAlias.alias",
    )

    def __repr__(self):
        return f"<Department {self.name}>"

    @property
    def alias_names(self):
        """Return the aliases as a list of strings."""
        return [a.alias for a in self.aliases]

    @classmethod
    def lookup(cls, name):
        """Return the department called ``name`` (by name or alias, brackets of either width), or None."""
        key = normalize_department_name(name)
        if not key or "\x00" in key:
            return None
        department = cls.query.filter_by(name=key).one_or_none()
        if department is None:
            alias = DepartmentAlias.query.filter_by(alias=key).one_or_none()
            department = alias.department if alias else None
        return department


class DepartmentAlias(db.Model):
    """Another name a department goes by (e.g. 发展改革局 for 发改局)."""

    __tablename__ = "department_aliases"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    department_id = db.Column(
        db.Integer, db.ForeignKey("departments.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Stored normalised (see :func:`normalize_department_name`), unique across all departments.
    alias = db.Column(db.String(100), nullable=False, unique=True)

    department = orm.relationship("Department", back_populates="aliases")
