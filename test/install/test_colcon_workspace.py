"""Install path 1: a ROS 2 workspace. `colcon build` the package (against the venv's ROS wheels,
as a ROS distribution would provide them), source the install, and use it from a clean
environment: the rosidl messages cross DDS, the executables and data files are installed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ltc_control.resources import share_dir

pytestmark = [pytest.mark.slow, pytest.mark.ros]
ROOT = share_dir()
VENV = Path(sys.prefix)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("ws")
    (ws / "src").mkdir()
    (ws / "src" / "ltc_control").symlink_to(ROOT)
    env = {
        **os.environ,
        "AMENT_PREFIX_PATH": str(VENV),
        "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        [
            str(VENV / "bin" / "colcon"),
            "build",
            "--cmake-args",
            f"-DCMAKE_PROJECT_INCLUDE={ROOT / 'cmake' / 'fixup_wheel_paths.cmake'}",
            "-DBUILD_TESTING=OFF",
        ],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return ws


def run_sourced(ws: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run `command` in bash after sourcing the workspace, with nothing else set."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "ROS_DOMAIN_ID": os.environ["ROS_DOMAIN_ID"],
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
    }
    return subprocess.run(
        ["bash", "-c", f". {ws}/install/setup.sh && {command}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ws,  # not the checkout: `python -c` puts the working directory first on sys.path
    )


def test_executables_and_data_are_installed(workspace: Path) -> None:
    prefix = workspace / "install" / "ltc_control"
    executables = {p.name for p in (prefix / "lib" / "ltc_control").iterdir()}
    assert {
        "policy_node",
        "safety_filter_node",
        "sim_node",
        "target_node",
        "composed_nodes",
        "ltc-control",
    } <= executables
    share = prefix / "share" / "ltc_control"
    for relative in (
        "launch/sim.launch.xml",
        "launch/gazebo.launch.xml",
        "launch/robot.launch.xml",
        "config/panda.yaml",
        "config/robots/panda.yaml",
        "package.xml",
    ):
        assert (share / relative).is_file(), relative


def test_installed_package_works_from_a_clean_environment(workspace: Path) -> None:
    script = textwrap.dedent(
        """
        import time, rclpy, ltc_control
        from rclpy.context import Context
        from ltc_control.msg import PolicyState
        from ltc_control.resources import share_dir
        assert "/install/" in ltc_control.__file__, ltc_control.__file__
        assert "/install/" in str(share_dir()), share_dir()
        from ltc_control.safety.assembly import _kernel  # the compiled step, built by CMake
        assert _kernel is not None and "/install/" in _kernel.__file__, _kernel
        ctx = Context(); rclpy.init(context=ctx)
        node = rclpy.create_node("colcon_probe", context=ctx)
        got = []
        node.create_subscription(PolicyState, "probe", got.append, 10)
        pub = node.create_publisher(PolicyState, "probe", 10)
        from rclpy.executors import SingleThreadedExecutor
        ex = SingleThreadedExecutor(context=ctx); ex.add_node(node)
        end = time.monotonic() + 5
        while not got and time.monotonic() < end:
            pub.publish(PolicyState(model_id="colcon", neuron_activity=[0.5]))
            ex.spin_once(timeout_sec=0.05)
        assert got and got[0].model_id == "colcon", "no message"
        print("ok")
        """
    )
    result = run_sourced(workspace, f"{VENV}/bin/python -c '{script}'")
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
    urdf = run_sourced(
        workspace,
        f"{VENV}/bin/python {workspace}/install/ltc_control/lib/ltc_control/ltc-control urdf --robot panda",
    )
    assert urdf.returncode == 0 and "<ros2_control" in urdf.stdout, urdf.stderr[-2000:]
