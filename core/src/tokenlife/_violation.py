"""The error a Store contract check raises (its own module: several check modules share it)."""

from __future__ import annotations


class ContractViolation(AssertionError):
    """A store broke the contract; the message says how."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise ContractViolation(message)


__all__ = ("ContractViolation", "expect")
