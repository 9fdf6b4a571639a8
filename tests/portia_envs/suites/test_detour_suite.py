"""detour-v0 is a suite like the others: one registry, one SPLITS, a reference table."""

import ast
from pathlib import Path

import gymnasium
import pytest

import portia_envs
from portia_envs.errors import UnknownSuiteError, UnknownTaskError
from portia_envs.harness.scores import episode_limit
from portia_envs.suites import SPLITS, SUITES, DetourSuite, get_suite
from portia_envs.suites.reference import load_reference

DETOUR_PACKAGE = Path(portia_envs.__file__).parent / "detour"


def test_detour_v0_is_found_by_the_one_lookup_with_its_pinned_hash():
    suite = get_suite("detour-v0")
    assert isinstance(suite, DetourSuite) and SUITES["detour-v0"] is suite
    assert suite.hash == "59348bf86a5b43db"
    assert suite.env_id == "Portia/Detour-v0" and episode_limit(suite.env_id) == 200
    assert [task.task_id for task in suite.train] == ["detour-v0/train"]
    assert [task.task_id for task in suite.heldout] == ["detour-v0/heldout"]
    assert suite.bodies == ("detour",) and {t.family for t in suite.train} == {"detour"}


def test_there_is_one_splits_and_one_suite_registry():
    from portia_envs.suites import detour

    assert not hasattr(detour, "SPLITS")  # it looks its splits up through SplitTasks
    defined = {
        target.id
        for path in DETOUR_PACKAGE.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert not {"SPLITS", "DETOUR_SUITES"} & defined
    assert not (DETOUR_PACKAGE / "suite.py").exists()


def test_each_task_s_env_plays_its_split_s_levels_and_says_its_task_id():
    suite = get_suite("detour-v0")
    for split in SPLITS:
        (task,) = suite.tasks(split)
        env = gymnasium.make(suite.env_id, **suite.env_kwargs(task.task_id, split))
        _, info = env.reset(seed=3)
        first, count = task.levels
        assert info["task_id"] == task.task_id and first <= info["level"] < first + count


def test_bad_splits_tasks_and_suites_are_refused_with_what_is_accepted():
    suite = get_suite("detour-v0")
    with pytest.raises(UnknownSuiteError, match="unknown split 'test'; accepted: train, heldout"):
        suite.tasks("test")
    with pytest.raises(UnknownSuiteError, match="did you mean 'heldout'"):
        suite.levels("heldot")
    with pytest.raises(UnknownTaskError, match="known: detour-v0/train"):
        suite.env_kwargs("detour-v0/heldout", "train")
    with pytest.raises(UnknownSuiteError, match="runs in Portia/Arm-v0.*Detour suites: detour-v0"):
        gymnasium.make("Portia/Detour-v0", suite="smoke-v0")
    with pytest.raises(UnknownSuiteError, match="unknown suite 'detour-v1'.*did you mean"):
        get_suite("detour-v1")


def test_the_reward_floor_is_below_every_step_s_reward():
    suite = get_suite("detour-v0")
    # A fall (-1) while moving two cells of walking distance away from the prey (-0.05 each).
    assert suite.reward_floor("detour") == pytest.approx(-1.1)


def test_the_reference_table_has_the_planner_far_above_random():
    suite = get_suite("detour-v0")
    table = load_reference(suite)
    assert table.details["teacher_config"] == {
        "detour": {"agent": "portia_envs.detour.planner:ImaginingPlanner"}
    }
    for task in suite.train + suite.heldout:
        returns = table.returns[task.task_id]
        assert returns["teacher"] > returns["random"] + 1
        assert table.details["success_rate"][task.task_id]["teacher"] == 1.0
        assert table.normalized(task.task_id, returns["teacher"]) == pytest.approx(100)
