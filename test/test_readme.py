"""The README's code snippets run as written: every ```python and ```bash block, in order, in one
scratch folder that sees the repository's `.venv`, `models/` and `config/` (so `.venv/bin/...`
and `models/...` mean what they mean from the repository root). A block that is not meant to run
here (the whole test suite, a colcon workspace, a board) is marked on the line before it with
`<!-- snippet: not run (why) -->`; the test checks every other block is run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(
    r"(?:<!-- snippet: not run(?P<why>[^>]*)-->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S
)


def snippets() -> list[tuple[str, str, str | None]]:
    """(language, code, why it is not run or None) of every python/bash block, in order."""
    text = (ROOT / "README.md").read_text()
    return [
        (m["lang"], m["code"], m["why"])
        for m in BLOCK.finditer(text)
        if m["lang"] in ("python", "bash")
    ]


def test_a_snippet_not_run_says_why() -> None:
    blocks = snippets()
    assert sum(why is None for *_, why in blocks) >= 6  # the runtime, filter, ONNX, data ones
    for _, code, why in blocks:
        assert why is None or re.fullmatch(r" \(.{10,}\) ", why), (why, code)


def test_readme_snippets_run(tmp_path: Path) -> None:
    for name in (".venv", "models", "config"):
        (tmp_path / name).symlink_to(ROOT / name if name != ".venv" else Path(sys.prefix))
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "MPLBACKEND": "Agg"}
    for index, (lang, code, why) in enumerate(snippets()):
        if why is not None:
            continue
        command = (
            [sys.executable, "-c", code]
            if lang == "python"
            else ["bash", "-euo", "pipefail", "-c", code]
        )
        result = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, (
            f"README block {index} ({lang}):\n{code}\n{result.stderr[-3000:]}"
        )
        assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr
