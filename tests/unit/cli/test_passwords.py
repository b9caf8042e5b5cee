"""The passwords `nubo up` makes for the admin and demo users."""

from __future__ import annotations

from unittest import mock

from nubo.cli import main


def test_a_made_password_never_starts_like_an_option() -> None:
    # the first token drawn starts with "-": it is drawn again
    with mock.patch.object(main.secrets, "token_urlsafe", side_effect=["-abc", "xyz"]):
        assert main.new_password() == "xyz"
    made = {main.new_password() for _ in range(500)}
    assert len(made) == 500 and not any(p.startswith("-") for p in made)
    assert all(len(p) == 16 for p in made)
