"""Forms of the plan pages."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange


class TaskForm(FlaskForm):
    """Correct a task's departments (chosen per department in the template), flags and deadline."""

    is_all_departments = BooleanField("各部门均负责落实（含未列名部门）")
    is_and_related = BooleanField("名单未尽（“等相关部门”）")
    deadline = StringField("完成时限", validators=[Length(max=100, message="完成时限不能超过100个字")])
    submit = SubmitField("保存")


class ImportForm(FlaskForm):
    """Upload an arrangement (工作安排导入); the parser names what it cannot read (a .doc, say)."""

    file = FileField(
        "工作安排文件",
        validators=[
            FileRequired(message="请选择要导入的文件"),
        ],
    )
    submit = SubmitField("上传并预览")


class PreviewForm(FlaskForm):
    """Confirm a previewed import; the departments of each task come as plain form fields."""

    title = StringField(
        "标题",
        validators=[
            DataRequired(message="请填写标题"),
            Length(max=200, message="标题不超过%(max)d字（现有%(length)d字）。"),
        ],
    )
    year = IntegerField(
        "年度",
        validators=[
            DataRequired(message="请填写年度"),
            NumberRange(min=2000, max=2100, message="年度应在2000至2100之间"),
        ],
    )
    confirm_withdrawal = BooleanField("确认撤销文件中已没有的任务（已填报的内容保留）")
    confirm_replace = BooleanField("确认更新：以本文件更新该年度现有的工作安排")
    submit = SubmitField("确认导入")
