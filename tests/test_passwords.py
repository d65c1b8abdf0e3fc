"""The password rules: length, the user name, the shipped list of common passwords, blanks."""

import pytest

from tracker.auth.errors import UserError
from tracker.auth.passwords import check_password, common_passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "must not be empty"),
        (" " * 12, "must not be empty"),
        ("abc-12345", "at least 10 characters"),
        ("x" * 129, "at most 128 characters"),
        ("wangfang01", "must not be the user name"),
        ("WANGFANG01", "must not be the user name"),
        ("1qaz2wsx3edc", "too common"),
        ("Woaini1314", "too common"),
        ("aaaaaaaaaaaa", "too common"),
        ("abcdefghijkl", "too common"),
        ("9876543210", "too common"),
    ],
)
def test_a_weak_password_is_refused_with_the_rule_it_breaks(password, message):
    with pytest.raises(UserError) as refused:
        check_password(password, "wangfang01")

    assert message in str(refused.value)
    assert refused.value.zh.endswith("。")


@pytest.mark.parametrize("password", ["correct-horse-9", "季度报送 2026 春", "Tj-kfq-公开-7x"])
def test_a_reasonable_password_is_accepted(password):
    assert check_password(password, "wangfang01") == password


def test_the_shipped_list_is_read_and_holds_only_long_entries():
    words = common_passwords()

    assert "1234567890" in words and "qwertyuiop" in words
    assert all(len(word) >= 10 for word in words)
