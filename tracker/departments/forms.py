"""Department forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..auth.operations import is_valid_email


def email_address(form, field):
    """Refuse what is not a plain e-mail address a reminder can be sent to."""
    if field.data and not is_valid_email(field.data.strip()):
        raise ValidationError("请填写有效的邮箱地址")


class NewDepartmentForm(FlaskForm):
    """A department the plan does not name yet: its name and short name."""

    name = StringField(
        "名称",
        validators=[
            DataRequired(message="请填写部门名称"),
            Length(max=100, message="名称不超过%(max)d字（现有%(length)d字）"),
        ],
    )
    short_name = StringField("简称", validators=[Length(max=50, message="简称不能超过50个字")])
    submit = SubmitField("添加部门")


class DepartmentForm(NewDepartmentForm):
    """名称、简称 (as a new department's), 别名、负责人."""

    head_name = StringField("部门负责人", validators=[Length(max=50, message="负责人姓名不能超过50个字")])
    head_email = StringField(
        "负责人邮箱（逾期催办时抄送）",
        validators=[Optional(), Length(max=200, message="邮箱不超过%(max)d个字符"), email_address],
    )
    aliases = TextAreaField(
        "别名（每行一个）", validators=[Length(max=2000, message="别名合计不超过%(max)d字（现有%(length)d字）")]
    )
    submit = SubmitField("保存")


class MergeForm(FlaskForm):
    """Merge this department into another (机构改革)."""

    target = SelectField("合并到", coerce=int, validate_choice=False)
    confirm = BooleanField("确认合并：本部门的任务、报送表、半年总结和账号都转到所选部门，本部门名称成为其别名")
    submit = SubmitField("合并")
