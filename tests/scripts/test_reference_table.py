import dataclasses
import importlib.util
from pathlib import Path

import pytest

from portia_envs.suites import get_suite
from portia_envs.suites.reference import ReferenceTable

SCRIPT = Path(__file__).parents[2] / "scripts" / "reference_table.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("reference_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_table(script, suite, *, episodes=3, configs=None):
    families = {task.family for task in suite.train + suite.heldout}
    returns = {t.task_id: {"random": -9.0, "teacher": -1.0} for t in suite.train + suite.heldout}
    details = {
        "episodes": episodes,
        "teacher_config": configs or {f: script.teacher_config(f) for f in families},
    }
    return ReferenceTable(suite.name, suite.hash, returns, details)


def ids(pairs):
    return [spec.task_id for _, spec in pairs]


def test_without_tasks_every_task_is_measured(script):
    suite = get_suite("smoke-v0")
    assert ids(script.tasks_to_measure(suite, None, None, 5)) == [
        t.task_id for t in suite.train + suite.heldout
    ]


def test_named_tasks_update_a_table_made_with_the_current_configs(script):
    suite = get_suite("smoke-v0")
    table = stored_table(script, suite)
    assert ids(script.tasks_to_measure(suite, ["push-centre"], table, 3)) == ["push-centre"]


def test_a_family_whose_config_changed_must_be_measured_whole(script):
    suite = get_suite("smoke-v0")
    old = dataclasses.asdict(dataclasses.replace(script.arm_teacher_config("reach"), samples=8))
    configs = {"reach": old, "push": script.teacher_config("push")}
    table = stored_table(script, suite, configs=configs)
    with pytest.raises(SystemExit, match="teacher config of reach changed.*reach-high-left"):
        script.tasks_to_measure(suite, ["reach-centre", "push-centre"], table, 3)
    pairs = script.tasks_to_measure(suite, ["reach-centre", "reach-high-left"], table, 3)
    assert ids(pairs) == ["reach-centre", "reach-high-left"]


def test_updates_are_refused_without_a_table_with_other_episodes_or_unknown_tasks(script):
    suite = get_suite("smoke-v0")
    with pytest.raises(SystemExit, match="smoke-v0 has none valid"):
        script.tasks_to_measure(suite, ["push-centre"], None, 3)
    with pytest.raises(SystemExit, match="stored table has 3 episodes.*--episodes 3"):
        script.tasks_to_measure(suite, ["push-centre"], stored_table(script, suite), 5)
    with pytest.raises(SystemExit, match=r"smoke-v0 has no task \['push-far'\]"):
        script.tasks_to_measure(suite, ["push-far"], stored_table(script, suite), 3)
