import itertools

from portia_envs.harness.local import run_local
from portia_envs.harness.runner import iter_jobs
from portia_envs.suites import get_suite
from tests.portia_envs.harness.harness_runs import config


def test_jobs_are_drawn_as_workers_free_up_never_all_at_once():
    drawn = []

    def endless():
        for job in itertools.cycle(iter_jobs(get_suite("smoke-v0"), 1, [0])):
            drawn.append(job)
            yield job

    records = run_local(config(isolation="in-process"), endless(), 2)
    first = [next(records) for _ in range(3)]
    records.close()
    assert all(record["status"] == "ok" for record in first)
    # Two workers in flight, three done, and at most one looked ahead.
    assert len(drawn) <= 2 + 3 + 1


def test_iter_jobs_is_a_generator_of_the_run_in_order():
    suite = get_suite("smoke-v0")
    jobs = iter_jobs(suite, 2, [5, 7])
    assert iter(jobs) is jobs
    first = list(itertools.islice(jobs, 3))
    assert [(j.task_id, j.seed, j.episode) for j in first] == [
        ("reach-centre", 5, 0),
        ("reach-centre", 5, 1),
        ("reach-centre", 7, 0),
    ]
