"""The two-host link itself: its addresses exist only inside its namespaces, a cut takes the
carrier away and a restore brings it back, and nothing is left behind, even after an error."""

from __future__ import annotations

import subprocess

import pytest
from netns_link import NetnsLink, unavailable_reason


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


def carrier(link: NetnsLink) -> bool:
    """The robot's end of the pair sees the edge's end (no NO-CARRIER)."""
    shown = ip("-n", link.robot.namespace, "link", "show", "dev", link.robot.interface)
    return "NO-CARRIER" not in shown and "LOWER_UP" in shown


def test_without_root_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert unavailable_reason() == "network namespaces need root (not root here)"


def test_link_is_private_cuttable_and_cleaned_up(namespaces: None) -> None:
    with pytest.raises(RuntimeError, match="inside"), NetnsLink() as link:
        names = (link.robot.namespace, link.edge.namespace)
        assert set(names) <= set(ip("netns", "list").split())
        assert link.robot.address not in ip("-o", "addr")  # not on this host's stack
        assert link.robot.address in ip("-n", link.robot.namespace, "-o", "addr")
        assert carrier(link)
        link.cut()
        assert not carrier(link)
        link.restore()
        assert carrier(link)
        raise RuntimeError("an error inside the with block")
    assert not set(names) & set(ip("netns", "list").split())
