"""Imports run one way: the contracts in .importlinter (import-linter) hold for the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(CONTRACTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 kept, 0 broken" in result.stdout, result.stdout


def test_a_broken_direction_is_reported(tmp_path: Path) -> None:
    """The check can fail: the control loops import the runtime, so forbidding it breaks."""
    config = tmp_path / "contracts.ini"
    config.write_text(
        "[importlinter]\nroot_package = ltc_control\n\n"
        "[importlinter:contract:probe]\nname = probe\ntype = forbidden\n"
        "source_modules = ltc_control.control\nforbidden_modules = ltc_control.runtime\n"
    )
    result = lint_imports(config)
    assert result.returncode != 0 and "1 broken" in result.stdout, result.stdout
