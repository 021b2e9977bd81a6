import pytest
from myproject.env import with_password


@pytest.mark.parametrize(
    ("url", "password", "expected"),
    [
        ("redis://redis:6379/0", "pw", "redis://:pw@redis:6379/0"),
        ("redis://app@redis:6379/1", "p/w@x", "redis://app:p%2Fw%40x@redis:6379/1"),
        ("redis://app@redis/2", "", "redis://app@redis/2"),
    ],
)
def test_with_password_keeps_the_acl_user_and_quotes_the_password(url, password, expected) -> None:
    assert with_password(url, password) == expected
