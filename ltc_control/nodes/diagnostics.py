"""One /diagnostics status per node: level, message and the counters behind them.

Every node reports its callback compute time and deadline overruns (control period exceeded)
next to its own counters, so a diagnostic aggregator or `ros2 topic echo /diagnostics` shows
at a glance which part of the loop is unhealthy.
"""

from __future__ import annotations

from collections.abc import Mapping

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from ltc_control.nodes.timing import ComputeTimer

OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


def diagnostic_array(
    node: object,
    component: str,
    hardware_id: str,
    level: int,
    message: str,
    timer: ComputeTimer,
    counters: Mapping[str, object],
) -> DiagnosticArray:
    p50, p99 = timer.recent_us.percentiles((50, 99))
    fields = {
        **counters,
        "deadline_overruns": timer.overruns,
        "compute_time_p50_us": round(p50, 1),
        "compute_time_p99_us": round(p99, 1),
    }
    array = DiagnosticArray()
    array.header.stamp = node.get_clock().now().to_msg()
    array.status = [
        DiagnosticStatus(
            level=level,
            name=f"{node.get_name()}: {component}",
            message=message,
            hardware_id=hardware_id,
            values=[KeyValue(key=key, value=str(value)) for key, value in fields.items()],
        )
    ]
    return array
