"""Ray in a network namespace of its own (``unshare --net``), for the tests that start it.

Ray listens on several ports; inside a fresh network namespace only loopback exists, so
nothing it opens can be reached from outside the test.
"""

import shutil
import subprocess

import pytest

UNSHARE = ["unshare", "--net", "sh", "-c"]


def isolated_network_available() -> bool:
    """Whether ``unshare --net`` works here and can bring up loopback inside."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*UNSHARE, "ip link set lo up"], capture_output=True)
    return probe.returncode == 0


needs_isolated_network = pytest.mark.skipif(
    not isolated_network_available(),
    reason="needs `unshare --net` (root, or user namespaces) to keep Ray off the network",
)


def run_isolated(script: str, timeout_s: float = 300.0, **kwargs) -> subprocess.CompletedProcess:
    """Run the shell ``script`` in a network namespace with only loopback up; capture text."""
    return subprocess.run(
        [*UNSHARE, f"ip link set lo up && {script}"],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        **kwargs,
    )
