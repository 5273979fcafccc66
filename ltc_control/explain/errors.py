"""Typed errors of the explainers."""

from ltc_control.errors import LtcControlError


class ExplainError(LtcControlError, ValueError):
    """A rollout or policy cannot be explained as asked (the message says why)."""
