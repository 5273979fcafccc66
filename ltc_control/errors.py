"""Exception hierarchy shared by every core: one base class, so callers can catch all of ours."""


class LtcControlError(Exception):
    """Base class of every error ltc_control raises on purpose."""


class ConfigError(LtcControlError, ValueError):
    """A configuration file or parameter is missing, malformed or out of range."""
