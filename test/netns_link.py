"""Two hosts on one machine: two network namespaces joined by a veth pair (shared by the
across-machines test and bench/hosts.py; imported as `netns_link`).

Each namespace has its loopback and one end of the pair, nothing else, with a private 10.x.y.0/30
address that exists only inside them; DDS in each is told to discover only the other end
(ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST: no multicast; ROS_STATIC_PEERS: the peer), the
two-host set-up the README documents. Names are unique per run and the namespaces (with the
pair) are deleted on exit, whatever happened. Needs root and iproute2.

The link is cut and restored as `ip link set dev X down/up` does it (the interface's IFF_UP
flag), through an ioctl on a socket opened inside the namespace: done in microseconds, so the
instant of the cut is known (an `ip` process takes 5-40 ms to start on a loaded machine).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import secrets
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
IFREQ = "16sh22x"  # struct ifreq: name, flags, rest of the union


def unavailable_reason() -> str:
    """Why namespaces cannot be created here ('' when they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (not root here)"
    if shutil.which("ip") is None:
        return "network namespaces need iproute2's `ip` (not installed)"
    probe = f"ltcprobe{secrets.token_hex(4)}"
    created = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if created.returncode:
        return f"cannot create a network namespace: {created.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return ""


@dataclass(frozen=True)
class Host:
    namespace: str
    interface: str
    address: str


class NetnsLink:
    """`with NetnsLink() as link:` two hosts, `link.robot` and `link.edge`, one link between."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        subnet = f"10.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
        self.robot = Host(f"ltc{tag}robot", f"ltc{tag}r", f"{subnet}.1")
        self.edge = Host(f"ltc{tag}edge", f"ltc{tag}e", f"{subnet}.2")
        self._created: list[str] = []

    def __enter__(self) -> NetnsLink:
        try:
            for host in (self.robot, self.edge):
                _ip("netns", "add", host.namespace)
                self._created.append(host.namespace)
            # Both ends are created inside their namespaces: nothing touches the host's own.
            _ip(
                "link", "add", self.robot.interface, "netns", self.robot.namespace, "type",
                "veth", "peer", "name", self.edge.interface, "netns", self.edge.namespace,
            )  # fmt: skip
            for host in (self.robot, self.edge):
                _ip(
                    "-n", host.namespace, "addr", "add", f"{host.address}/30", "dev", host.interface
                )
                _ip("-n", host.namespace, "link", "set", "lo", "up")
                _ip("-n", host.namespace, "link", "set", host.interface, "up")
            for host in (self.robot, self.edge):
                self._wait_operational(host)
            self._control = _socket_in(self.edge.namespace)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if getattr(self, "_control", None) is not None:
            self._control.close()
        for namespace in reversed(self._created):  # deleting a namespace deletes its veth end
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)
        self._created.clear()

    @staticmethod
    def _wait_operational(host: Host, timeout: float = 20.0) -> None:
        """Wait until `host`'s end of the link carries traffic (operstate UP). The kernel
        reports a new veth's carrier up to seconds later, and a DDS participant created before
        that never uses the interface (it reads the interfaces once, at creation)."""
        deadline = time.monotonic() + timeout
        while True:
            state = _ip("-n", host.namespace, "-br", "link", "show", "dev", host.interface)
            if " UP " in f" {state} ":
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host.interface} in {host.namespace} is not up: {state!r}")
            time.sleep(0.05)

    def peer(self, host: Host) -> Host:
        return self.edge if host is self.robot else self.robot

    def environment(self, host: Host, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's) with DDS discovery limited to the peer over the link."""
        return {
            **(os.environ if base is None else base),
            "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
            "ROS_STATIC_PEERS": self.peer(host).address,
        }

    def start(self, host: Host, argv: Sequence[str], **popen: object) -> subprocess.Popen:
        """Run `argv` on `host` (its namespace) with the link's discovery settings."""
        command = ["ip", "netns", "exec", host.namespace, *argv]
        return subprocess.Popen(command, env=self.environment(host), **popen)

    def cut(self) -> float:
        """Take the link down (the edge end); returns time.monotonic() once it is down."""
        return self._set_up(False)

    def restore(self) -> float:
        return self._set_up(True)

    def _set_up(self, up: bool) -> float:
        name = self.edge.interface.encode()
        flags = struct.unpack(
            IFREQ, fcntl.ioctl(self._control, SIOCGIFFLAGS, struct.pack(IFREQ, name, 0))
        )[1]
        flags = flags | IFF_UP if up else flags & ~IFF_UP
        fcntl.ioctl(self._control, SIOCSIFFLAGS, struct.pack(IFREQ, name, flags))
        return time.monotonic()


def _socket_in(namespace: str) -> socket.socket:
    """A socket of `namespace`'s network stack: a thread joins the namespace (setns affects
    only the calling thread) and opens it; the socket stays in that namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    opened: dict[str, object] = {}

    def open_inside() -> None:
        with open(f"/run/netns/{namespace}") as handle:
            if libc.setns(handle.fileno(), CLONE_NEWNET):
                opened["error"] = OSError(ctypes.get_errno(), f"setns into {namespace}")
                return
        opened["socket"] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    thread = threading.Thread(target=open_inside)
    thread.start()
    thread.join()
    if "error" in opened:
        raise opened["error"]
    return opened["socket"]


def _ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout
