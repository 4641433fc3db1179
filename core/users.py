"""What makes a user's e-mail and role valid, shared by user creation and sign-in."""

from __future__ import annotations

import re

from core import errors
from core.roles import Role

MAX_EMAIL_LENGTH = 254
# Deliberately simple (something@domain.tld, no spaces): the address is an identifier here,
# not a mailbox anyone writes to, and RFC 5322's full grammar would admit surprises.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def normalized_email(email: str) -> str:
    """One person, one e-mail, whatever case they type it in."""
    return email.strip().lower()


def email_violations(email: str, field: str = "email") -> list[errors.FieldViolation]:
    if not email:
        return [errors.FieldViolation(field, "EMAIL_REQUIRED", "is required")]
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        return [
            errors.FieldViolation(
                field,
                "EMAIL_INVALID",
                f"must be an e-mail address (name@example.com) of at most "
                f"{MAX_EMAIL_LENGTH} characters",
            )
        ]
    return []


def role_of(name: str) -> Role | None:
    """The role a User.Role enum name (OWNER) stands for; None for ROLE_UNSPECIFIED."""
    try:
        return Role(name.lower())
    except ValueError:
        return None
