"""ordered_map: results in job order, one worker built per process and closed, errors in place."""

import functools
import json
import multiprocessing
import os
import sys
from pathlib import Path

import pytest

from portia_envs.errors import InvalidParameterError
from portia_envs.harness.parallel import ordered_map
from tests.portia_envs.harness.isolated_network import needs_isolated_network, run_isolated
from tests.portia_envs.harness.toy_workers import (
    FAILING_JOBS,
    UNEVEN_JOBS,
    Job,
    Squarer,
    ToyError,
    closed,
    never_built,
    ran,
)

ROOT = Path(__file__).parents[3]
SQUARES = [job.number**2 for job in UNEVEN_JOBS]


def squares(tmp_path, jobs, **options):
    return ordered_map(functools.partial(Squarer, str(tmp_path)), jobs, **options)


def test_in_process_one_worker_runs_every_job_in_order_and_is_closed(tmp_path):
    results = list(squares(tmp_path, [Job(job.number) for job in UNEVEN_JOBS]))
    assert [square for square, _, _ in results] == SQUARES
    ((pid, build),) = {(pid, build) for _, pid, build in results}
    assert pid == os.getpid()
    assert closed(tmp_path) == {(pid, build)}


def test_a_pool_keeps_job_order_and_builds_and_closes_one_worker_per_process(tmp_path):
    results = list(squares(tmp_path, UNEVEN_JOBS, workers=2))
    assert [square for square, _, _ in results] == SQUARES
    built = {(pid, build) for _, pid, build in results}
    assert len({pid for pid, _ in built}) == 2  # the first job's process waited for the other
    assert {build for _, build in built} == {1}  # each process built its worker once
    assert closed(tmp_path) == built  # and closed it when the pool shut down
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_job_raises_its_error_after_the_results_before_it(tmp_path, workers):
    yielded = []
    with pytest.raises(ToyError, match="^job -3 is negative$"):
        for square, _, _ in squares(tmp_path, FAILING_JOBS, workers=workers):
            yielded.append(square)
    assert yielded == [1, 4]
    if workers == 1:
        assert ran(tmp_path) == {1, 2, -3}
    assert closed(tmp_path)  # the workers were closed all the same
    assert multiprocessing.active_children() == []


def test_closing_early_cancels_the_jobs_not_started_and_shuts_the_pool(tmp_path):
    jobs = [Job(number, sleep_s=0.2) for number in range(20)]
    results = squares(tmp_path, jobs, workers=2)
    assert next(results)[0] == 0
    results.close()
    assert multiprocessing.active_children() == []
    assert len(ran(tmp_path)) < len(jobs)
    assert 1 <= len(closed(tmp_path)) <= 2


def test_no_jobs_build_nothing():
    for workers in (1, 2):
        assert list(ordered_map(never_built, [], workers=workers)) == []


def test_bad_options_are_refused_when_called_naming_what_is_accepted(monkeypatch):
    with pytest.raises(InvalidParameterError, match="workers must be >= 1, got 0"):
        ordered_map(Squarer, [Job(1)], workers=0)
    with pytest.raises(InvalidParameterError, match="unknown backend 'dask'; accepted: local, ray"):
        ordered_map(Squarer, [Job(1)], backend="dask")
    with pytest.raises(InvalidParameterError, match="for the ray backend only.*backend='ray'"):
        ordered_map(Squarer, [Job(1)], address="auto")
    with pytest.raises(InvalidParameterError, match="make_worker must pickle.*module-level"):
        ordered_map(lambda: abs, [Job(1)], workers=2)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ImportError, match=r'pip install "portia-envs\[scale\]"'):
        ordered_map(Squarer, [Job(1)], backend="ray")


# Run in the isolated namespace: ordered_map on a Ray it starts, then on one with a failure.
ON_RAY = """
import functools, json, sys
from portia_envs.harness.parallel import ordered_map
from tests.portia_envs.harness.toy_workers import FAILING_JOBS, UNEVEN_JOBS, Squarer, ToyError
make = functools.partial(Squarer, sys.argv[1])
report = {"results": list(ordered_map(make, UNEVEN_JOBS, workers=2, backend="ray")), "yielded": []}
try:
    for square, _, _ in ordered_map(make, FAILING_JOBS, workers=2, backend="ray"):
        report["yielded"].append(square)
except ToyError as error:
    report["error"] = [type(error).__name__, str(error)]
print(json.dumps(report))
"""


@pytest.mark.slow  # Ray starts twice, some 10 s each: run with -m slow
@needs_isolated_network
def test_on_ray_results_keep_job_order_and_a_failure_raises_the_original_error(tmp_path):
    script = tmp_path / "on_ray.py"
    script.write_text(ON_RAY)
    log = tmp_path / "log"
    log.mkdir()
    done = run_isolated(
        f"{sys.executable} {script} {log}", env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert [square for square, _, _ in report["results"]] == SQUARES
    built = {(pid, build) for _, pid, build in report["results"]}
    assert len(built) == len({pid for pid, _ in built}) == 2  # one worker per Ray process
    assert report["yielded"] == [1, 4]
    assert report["error"] == ["ToyError", "job -3 is negative"]
