"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """用户名和密码."""

    username = StringField(
        "用户名", validators=[DataRequired(message="请输入用户名"), Length(max=64, message="用户名不超过64个字符")]
    )
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码")])
    remember = BooleanField("记住我")
    submit = SubmitField("登录")


class ChangePasswordForm(FlaskForm):
    """当前密码、新密码、确认新密码."""

    current = PasswordField("当前密码", validators=[DataRequired(message="请输入当前密码")])
    new = PasswordField("新密码", validators=[DataRequired(message="请输入新密码")])
    confirm = PasswordField(
        "再次输入新密码",
        validators=[DataRequired(message="请再次输入新密码"), EqualTo("new", message="两次输入的新密码不一致")],
    )
    submit = SubmitField("修改密码")
