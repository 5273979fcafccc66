"""Errors of the training code (typed, with the key or file at fault)."""

from __future__ import annotations

from ltc_control.errors import ConfigError, LtcControlError


class TrainingConfigError(ConfigError):
    """A training config is malformed; the message names the key."""


class TrainingDataError(LtcControlError, ValueError):
    """Training data is missing, empty or inconsistent (names the source)."""
