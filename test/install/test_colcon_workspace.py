"""The installed package (colcon workspace and pip wheel, see conftest.py) from a clean
environment outside the checkout: executables and data are installed, the data is found next to
the installed code, the rosidl messages cross DDS, the compiled step is built without warnings."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from installs import ROOT, Install

pytestmark = [pytest.mark.slow, pytest.mark.ros]
EXECUTABLES = {
    "policy_node",
    "safety_filter_node",
    "sim_node",
    "target_node",
    "composed_nodes",
    "ltc-control",
}


def test_executables_and_data_are_installed(installed: Install) -> None:
    assert {p.name for p in installed.bin_dir.iterdir()} >= EXECUTABLES
    for relative in (
        "launch/sim.launch.xml",
        "launch/gazebo.launch.xml",
        "launch/robot.launch.xml",
        "config/rollouts.yaml",
        "models/panda_cfc19.npz",
        "package.xml",
    ):
        assert (installed.share / relative).is_file(), relative
    for robot in ("panda", "double_pendulum"):
        for kind in ("ros", "robot", "safety", "controllers", "train"):
            assert (installed.share / "config" / robot / f"{kind}.yaml").is_file(), (robot, kind)


def test_installed_package_works_from_a_clean_environment(
    installed: Install, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import time, rclpy, ltc_control
        from pathlib import Path
        from rclpy.context import Context
        from ltc_control.msg import PolicyState
        from ltc_control.resources import share_dir
        from ltc_control.safety import load_safety_config
        from ltc_control.robots import load_robot_description
        installed = Path("{installed.python_dir}")
        assert Path(ltc_control.__file__).parent == installed, ltc_control.__file__
        assert share_dir() == Path("{installed.share}").resolve(), share_dir()
        assert load_safety_config("panda").force_max > 0
        assert load_robot_description("double_pendulum").urdf_path.is_file()
        from ltc_control.safety.assembly import _kernel  # the compiled step
        assert _kernel is not None and Path(_kernel.__file__).parent == installed / "safety"
        ctx = Context(); rclpy.init(context=ctx)
        node = rclpy.create_node("install_probe", context=ctx)
        got = []
        node.create_subscription(PolicyState, "probe_{installed.kind}", got.append, 10)
        pub = node.create_publisher(PolicyState, "probe_{installed.kind}", 10)
        from rclpy.executors import SingleThreadedExecutor
        ex = SingleThreadedExecutor(context=ctx); ex.add_node(node)
        end = time.monotonic() + 5
        while not got and time.monotonic() < end:
            pub.publish(PolicyState(model_id="installed", neuron_activity=[0.5]))
            ex.spin_once(timeout_sec=0.05)
        assert got and got[0].model_id == "installed", "no message"
        print("ok")
        """
    )
    (tmp_path / "probe.py").write_text(script)
    # the working directory is not the checkout: `python` puts it first on sys.path
    result = installed.shell(f"{installed.python} probe.py", cwd=tmp_path)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
    urdf = installed.shell(
        f"exec {installed.bin_dir / 'ltc-control'} urdf --robot panda", cwd=tmp_path
    )
    assert urdf.returncode == 0 and "<ros2_control" in urdf.stdout, urdf.stderr[-2000:]


def test_the_builds_print_no_warnings_about_our_sources(installed: Install) -> None:
    """Compiler warnings (gcc: `<file>:<line>:<col>: warning:`) naming a file of ours; the code
    rosidl generates into the build folder is not ours."""
    ours = re.compile(rf"(^|[\s/])(ltc_control/[\w/]+\.(c|h)|{re.escape(str(ROOT))}/\S+):\d+")
    warnings = [
        line
        for line in installed.build_log.splitlines()
        if "warning:" in line and ours.search(line) and "/build/" not in line.split(":")[0]
    ]
    assert not warnings, "\n".join(warnings[:20])
    assert "_kernel" in installed.build_log  # the log is the compiler's (not an empty one)
