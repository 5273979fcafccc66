"""Exception hierarchy shared by every core: one base class, so callers can catch all of ours."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LtcControlError(Exception):
    """Base class of every error ltc_control raises on purpose."""


class ConfigError(LtcControlError, ValueError):
    """A configuration file or parameter is missing, malformed or out of range."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" with the known name closest to `name`, or "" if none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
