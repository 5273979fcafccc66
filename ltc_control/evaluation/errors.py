"""Errors of the closed-loop evaluation (typed, with the setting or sample at fault)."""

from __future__ import annotations

from ltc_control.errors import ConfigError, LtcControlError


class EvaluationConfigError(ConfigError):
    """An evaluation config is out of range; the message names the setting."""


class EvaluationError(LtcControlError, RuntimeError):
    """A closed-loop evaluation could not run as specified (e.g. the policy refused a sample)."""
