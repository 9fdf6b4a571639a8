import pytest

from tests.scripts.conftest import load_script
from tests.scripts.test_results_table import results


@pytest.fixture(scope="module")
def bodies():
    return load_script("bodies_table")


def test_dagger_never_clones_more_than_half_the_demonstrations(bodies, monkeypatch):
    monkeypatch.setitem(bodies.table.DEMOS, bodies.SUITE, 40)
    assert bodies.dagger_plan() == (20, 2, 10)
    monkeypatch.setitem(bodies.table.DEMOS, bodies.SUITE, 6)
    assert bodies.dagger_plan() == (3, 2, 10)
    monkeypatch.setitem(bodies.table.DEMOS, bodies.SUITE, 1)
    assert bodies.dagger_plan()[0] == 1


def test_the_page_shows_each_student_with_and_without_the_descriptor(bodies):
    fast = {"compliance": 1.0, "p50_ms": 0.3}
    rows = [
        bodies.table.Row("teacher", "paused", results((100, 99, 101), (98, 97, 99))),
        bodies.table.Row(
            "BC student, without descriptor",
            "realtime",
            results((80, 75, 85), (60, 50, 70), fast),
            env_steps=6000,
            imagined=2_940_000,
        ),
        bodies.table.Row(
            "BC student, with descriptor",
            "realtime",
            results((82, 76, 86), (40, 30, 50), fast),
            env_steps=6000,
            imagined=2_940_000,
        ),
    ]
    seconds = {"arm-bodies-v0: collect": 1200.0, "arm-bodies-v0: bc-plain": 300.0}
    page = bodies.document(rows, seconds, 2, "Demonstrations: 40 teacher episodes.")
    assert page.startswith("# Several bodies, one student: does describing the body help?")
    assert "in 25 min" in page and "`arm4_long`" in page and "Demonstrations: 40" in page
    lines = [line for line in page.splitlines() if line.startswith("| BC") and "p50" in line]
    assert [line.split(" | ")[0] for line in lines] == [
        "| BC student, without descriptor",
        "| BC student, with descriptor",
    ]
    assert lines[1].endswith("| 100% (p50 0.30 ms) | 6,000 | 2,940,000 |")
    assert "| BC student, with descriptor | realtime | 90% | 50% |" in page
    assert "| arm-bodies-v0: collect | 20.0 |" in page
