"""Training data: rosbag2 recordings <-> Trajectory, a demo recording, and curation."""

from ltc_control.data.bags import BagTopics, read_bag, write_bag
from ltc_control.data.curation import (
    DROP_REASONS,
    Coverage,
    CoverageGrid,
    CurationConfig,
    CurationReport,
    curate,
)
from ltc_control.data.demo import make_demo_bag
from ltc_control.data.errors import (
    BagFormatError,
    BagNotFoundError,
    DataError,
    JointNameError,
    MissingTopicError,
    NonFiniteDataError,
)

__all__ = [
    "DROP_REASONS",
    "BagFormatError",
    "BagNotFoundError",
    "BagTopics",
    "Coverage",
    "CoverageGrid",
    "CurationConfig",
    "CurationReport",
    "DataError",
    "JointNameError",
    "MissingTopicError",
    "NonFiniteDataError",
    "curate",
    "make_demo_bag",
    "read_bag",
    "write_bag",
]
