"""Forms of the plan pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Length


class TaskForm(FlaskForm):
    """Correct a task's departments (chosen per department in the template), flags and deadline."""

    is_all_departments = BooleanField("各部门均负责落实（含未列名部门）")
    is_and_related = BooleanField("名单未尽（“等相关部门”）")
    deadline = StringField("完成时限", validators=[Length(max=100, message="完成时限不能超过100个字")])
    submit = SubmitField("保存")
