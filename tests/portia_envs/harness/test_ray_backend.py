import json
import subprocess
import sys

import pytest

from tests.portia_envs.harness.harness_runs import comparable
from tests.portia_envs.harness.isolated_network import UNSHARE, needs_isolated_network

BENCH = (
    f"{sys.executable} -c 'from portia_envs.cli import app; app()' bench --agent scripted "
    f"--suite smoke-v0 --episodes 2 --workers 2 --backend ray"
)
RAY = f"{sys.executable} -m ray.scripts.scripts"


@pytest.mark.slow  # half a minute to start Ray: run with -m slow
@needs_isolated_network
def test_the_ray_backend_gives_the_local_backends_results(tmp_path, smoke_results):
    # What listens while Ray runs as the backends start it (ss lists listening sockets).
    probe = tmp_path / "listening.py"
    probe.write_text(
        "import subprocess, ray\n"
        "from portia_envs.harness.parallel import start_ray\n"
        "start_ray(1, None)\n"
        "print(subprocess.run(['ss', '-ltnH'], capture_output=True, text=True).stdout)\n"
        "ray.shutdown()\n"
    )
    script = " && ".join(
        [
            "ip link set lo up",
            f"{BENCH} --out {tmp_path / 'started'}",
            f"{sys.executable} {probe}",
            # A cluster of its own, joined by address (with Ray's token authentication).
            f"{RAY} start --head --node-ip-address 127.0.0.1 --port 6390 --num-cpus 2 "
            f"--include-dashboard false --disable-usage-stats > /dev/null",
            f"RAY_AUTH_MODE=token {BENCH} --address 127.0.0.1:6390 --out {tmp_path / 'joined'}",
        ]
    )
    done = subprocess.run(
        [*UNSHARE, f"{script}; status=$?; {RAY} stop --force > /dev/null 2>&1; exit $status"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    expected = comparable(smoke_results)
    expected["run"]["backend"] = "ray"
    for name in ("started", "joined"):
        results = json.loads((tmp_path / name / "results.json").read_text())
        assert comparable(results) == expected, name
    # While Ray ran, everything listening was on loopback.
    addresses = [line.split()[3] for line in done.stdout.splitlines() if line.startswith("LISTEN")]
    assert addresses and all(a.startswith(("127.", "[::1]", "[::ffff:127.")) for a in addresses)
