import pytest

from portia_envs.suites import get_suite
from portia_envs.suites.reference import (
    REFERENCE_DIR,
    ReferenceTable,
    StaleReferenceError,
    load_reference,
)


def write_table(directory, suite, returns, suite_hash=None):
    table = ReferenceTable(suite.name, suite_hash or suite.hash, returns, {"episodes": 2})
    (directory / f"{suite.name}.json").write_text(table.to_json())


def full_returns(suite, random=-10.0, teacher=-2.0):
    return {t.task_id: {"random": random, "teacher": teacher} for t in suite.train + suite.heldout}


def test_a_table_round_trips_and_normalizes(tmp_path):
    suite = get_suite("smoke-v0")
    write_table(tmp_path, suite, full_returns(suite))
    table = load_reference(suite, tmp_path)
    assert table.suite_hash == suite.hash and table.details == {"episodes": 2}
    # (R - random) / (teacher - random): -6 is half way from -10 to -2.
    assert table.normalized("reach-centre", -6.0) == 50.0
    assert table.normalized("reach-centre", -10.0) == 0.0
    assert table.normalized("reach-centre", -2.0) == 100.0
    assert table.normalized("reach-centre", 2.0) == 150.0


def test_a_table_made_for_another_suite_hash_is_refused(tmp_path):
    suite = get_suite("smoke-v0")
    write_table(tmp_path, suite, full_returns(suite), suite_hash="0123456789abcdef")
    with pytest.raises(StaleReferenceError, match="hash '0123456789abcdef'.*regenerate"):
        load_reference(suite, tmp_path)


def test_missing_tables_tasks_and_agents_are_refused(tmp_path):
    suite = get_suite("smoke-v0")
    with pytest.raises(StaleReferenceError, match="no reference table for smoke-v0"):
        load_reference(suite, tmp_path)
    returns = full_returns(suite)
    del returns["reach-high-left"]["teacher"]
    write_table(tmp_path, suite, returns)
    with pytest.raises(StaleReferenceError, match="lacks teacher for task reach-high-left"):
        load_reference(suite, tmp_path)


@pytest.mark.parametrize("path", sorted(REFERENCE_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_table_fits_its_suite_and_the_teacher_beats_random(path):
    table = load_reference(get_suite(path.stem))
    assert table.suite == path.stem
    for task_id, returns in table.returns.items():
        assert returns["teacher"] > returns["random"], task_id
        assert table.normalized(task_id, returns["teacher"]) == pytest.approx(100.0)
