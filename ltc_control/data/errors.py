"""Typed errors of the data tools: each names the bag, topic, joint or sample at fault."""

from ltc_control.errors import LtcControlError


class DataError(LtcControlError, ValueError):
    """Base class: recorded data cannot be turned into (or from) trajectories."""


class BagNotFoundError(DataError, FileNotFoundError):
    """The bag directory (or file) does not exist."""


class BagFormatError(DataError):
    """Not a readable rosbag2, or a message has the wrong type or size."""


class MissingTopicError(DataError):
    """A topic the conversion needs is not in the bag."""


class JointNameError(DataError):
    """A joint the robot needs is missing from a JointState message (matched by name)."""


class NonFiniteDataError(DataError):
    """A message or trajectory holds NaN or infinity."""
