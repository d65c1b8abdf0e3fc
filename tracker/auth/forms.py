"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """用户名和密码."""

    username = StringField("用户名", validators=[DataRequired(message="请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码")])
    remember = BooleanField("记住我")
    submit = SubmitField("登录")
