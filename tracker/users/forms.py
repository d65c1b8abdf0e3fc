"""The account form: who the user is, what role, which department, where mail goes."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ..models import UserRole

ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in UserRole]


class UserForm(FlaskForm):
    """用户名、姓名、角色、所属部门、邮箱."""

    username = StringField(
        "用户名", validators=[DataRequired(message="请填写用户名"), Length(max=64, message="用户名不超过64个字符")]
    )
    display_name = StringField("姓名", validators=[Length(max=100, message="姓名不超过100个字")])
    role = SelectField("角色", choices=ROLE_CHOICES, default=UserRole.DEPARTMENT.value)  # most accounts are
    department = SelectField("所属部门（部门用户）", coerce=int, validators=[Optional()])
    email = StringField("邮箱", validators=[Length(max=200, message="邮箱不超过200个字符")])
    submit = SubmitField("保存")
