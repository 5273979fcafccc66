"""The package installed two ways, once per test session, each used from outside the checkout:

- `colcon_install`: `colcon build` (colcon from PyPI, against the venv's ROS 2 wheels, as a ROS
  distribution would provide them) into a temporary workspace; commands run after sourcing
  install/setup.sh with nothing else set but the distribution's bin/ on PATH (what sourcing
  /opt/ros/<distro>/setup.bash gives), as `ros2 run` / `ros2 launch` start them.
- `pip_install`: a wheel of the package (`pip wheel`, no build isolation) installed with pip
  into a fresh venv (no --system-site-packages). The fresh venv reuses the project venv's
  dependencies (rclpy and the other ROS 2 wheels, numpy, pinocchio, MuJoCo, ...) through a .pth
  line instead of downloading them again, and the project venv's lib/ (the ROS wheels'
  libraries and the package's generated message libraries, see README "pip install") on
  LD_LIBRARY_PATH, which is what the ROS wheels' bootstrapper would set in that venv.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from ltc_control.resources import PACKAGE, share_dir

ROOT = share_dir()  # the checkout under test
VENV = Path(sys.prefix)


@dataclass
class Install:
    """An installed copy of the package: how to run its executables and where its data is."""

    kind: str
    share: Path  # where the install keeps config/, launch/, models/
    python_dir: Path  # the installed ltc_control package
    env: dict[str, str]
    bin_dir: Path  # the installed executables (policy_node, ..., ltc-control)
    python: str  # the interpreter that runs the package
    source: str = ""  # shell line run before each command (colcon: source the install)
    build_log: str = field(default="", repr=False)

    def shell(self, line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run a shell line in the install's environment (colcon: after sourcing it)."""
        return subprocess.run(
            self.command_line(line),
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def command_line(self, line: str) -> list[str]:
        return ["bash", "-c", f"{self.source}{line}"]

    def command(self, executable: str, *args: str) -> list[str]:
        """The argv that starts an installed executable, as ros2 run / ros2 launch would."""
        return self.command_line("exec " + shlex.join([str(self.bin_dir / executable), *args]))


def _base_env() -> dict[str, str]:
    return {
        "HOME": os.environ.get("HOME", "/root"),
        "ROS_DOMAIN_ID": os.environ["ROS_DOMAIN_ID"],
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
    }


def build_colcon_install(ws: Path) -> Install:
    """colcon build the checkout in workspace `ws` (an empty folder)."""
    (ws / "src").mkdir()
    (ws / "src" / PACKAGE).symlink_to(ROOT)
    env = {
        **os.environ,
        "AMENT_PREFIX_PATH": str(VENV),
        "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        [
            str(VENV / "bin" / "colcon"),
            "build",
            "--event-handlers",
            "console_direct+",  # the compilers' output (warnings) in the log below
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
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    prefix = ws / "install" / PACKAGE
    return Install(
        kind="colcon",
        share=prefix / "share" / PACKAGE,
        python_dir=prefix
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
        / PACKAGE,
        # the "distribution" (the venv's ROS 2 wheels) first on PATH: its python3 runs the
        # executables' `#!/usr/bin/env python3`, as /opt/ros/<distro>/setup.bash arranges
        env={**_base_env(), "PATH": f"{VENV / 'bin'}:/usr/bin:/bin"},
        bin_dir=prefix / "lib" / PACKAGE,
        python="python3",
        source=f". {ws / 'install' / 'setup.sh'} && ",
        build_log=log,
    )


def build_pip_install(tmp: Path) -> Install:
    """A wheel of the checkout, pip-installed into a fresh venv in `tmp` (an empty folder)."""
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    build = subprocess.run(
        [
            *pip,
            "wheel",
            "-v",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp / "wheels"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = (tmp / "wheels").glob("ltc_control-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # After the install: the project venv's packages come after the fresh venv's own (so the
    # installed ltc_control wins), cmeel's .pth adds pinocchio's prefix; no editable checkout.
    reused = Path(sysconfig.get_paths()["purelib"])
    (purelib / "zz_reuse_project_venv.pth").write_text(f"{reused}\nimport cmeel_pth\n")
    libraries = [str(VENV / "lib"), *(str(p) for p in sorted(reused.glob("ros_*.libs")))]
    return Install(
        kind="pip",
        share=purelib / PACKAGE / "share",
        python_dir=purelib / PACKAGE,
        env={
            **_base_env(),
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "LD_LIBRARY_PATH": os.pathsep.join(libraries),
        },
        bin_dir=venv / "bin",
        python=str(python),
        build_log=build.stdout + build.stderr,
    )
