import dataclasses

import gymnasium
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.envs.arm import ArmEnv
from portia_envs.errors import InvalidParameterError, UnknownSuiteError, UnknownTaskError
from portia_envs.sim.compose import arm_fingerprint
from portia_envs.suites import SUITES, Suite, TaskSpec, get_suite

# Pinned: a change here means results are no longer comparable, so it needs a new version.
PINNED_HASHES = {
    "smoke-v0": "2e1ae483f98ba2c3",
    "arm-reach-v0": "8d80aa904ce698f2",
    "arm-gen-v0": "1529b501dcd160d6",
    "arm-bodies-v0": "448f35bb7dfd160a",
    "detour-v0": "59348bf86a5b43db",
}
# The arm suites; detour-v0's level seeds are tested in tests/portia_envs/detour.
ARM_SUITES = {name: suite for name, suite in SUITES.items() if isinstance(suite, Suite)}


def separating_parameters(a: TaskSpec, b: TaskSpec) -> set[str]:
    """Parameters whose ranges in ``a`` and ``b`` do not intersect (closed intervals)."""
    ra, rb = a.full_ranges(), b.full_ranges()
    return {key for key in ra if ra[key][1] < rb[key][0] or rb[key][1] < ra[key][0]}


def test_suite_hashes_are_pinned():
    assert {name: suite.hash for name, suite in SUITES.items()} == PINNED_HASHES


@pytest.mark.parametrize("suite", ARM_SUITES.values(), ids=lambda s: s.name)
def test_heldout_tasks_are_disjoint_from_train_along_the_named_axes(suite):
    named = {axis.split(":")[0] for axis in suite.heldout_axes}
    named = {key.strip() for axes in named for key in axes.split(",")}
    train_families = {task.family for task in suite.train}
    train_bodies = {task.embodiment for task in suite.train}
    for heldout in suite.heldout:
        if heldout.family not in train_families:
            assert "family" in named
            continue
        if heldout.embodiment not in train_bodies:
            assert "embodiment" in named
            continue
        for train in suite.train:
            if train.family != heldout.family:
                continue
            apart = separating_parameters(heldout, train)
            assert apart, f"{heldout.task_id} overlaps {train.task_id}"
            assert apart & named, f"{heldout.task_id} differs from {train.task_id} off the axes"


def inside(parameters, ranges):
    """Whether every drawn parameter lies in its range (closed)."""
    return all(low <= parameters[key] <= high for key, (low, high) in ranges.items())


@pytest.mark.parametrize("name", sorted(ARM_SUITES))
def test_the_train_split_never_yields_a_heldout_task(name):
    suite = get_suite(name)
    for body in dict.fromkeys(task.embodiment for task in suite.train):
        env = ArmEnv(suite=name, split="train", body=body)
        train_ids = {task.task_id for task in suite.train if task.embodiment == body}
        drawn = set()
        for seed in range(150):
            _, info = env.reset(seed=seed)
            assert info["task_id"] in train_ids
            drawn.add(info["task_id"])
            spec = suite.task(info["task_id"])
            parameters = info["task_parameters"]
            assert inside(parameters, spec.full_ranges())
            for heldout in suite.heldout:
                if heldout.family == spec.family and heldout.embodiment == body:
                    assert not inside(parameters, heldout.full_ranges())
        assert drawn == train_ids
        with pytest.raises(UnknownTaskError, match="the train split"):
            env.reset(options={"task": suite.heldout[0].task_id})


def test_the_heldout_split_draws_only_heldout_tasks():
    env = gymnasium.make("Portia/Arm-v0", suite="arm-reach-v0", split="heldout")
    drawn = {env.reset(seed=seed)[1]["task_id"] for seed in range(40)}
    assert drawn == {task.task_id for task in get_suite("arm-reach-v0").heldout}


def test_same_seed_and_split_give_the_same_tasks_and_instructions():
    def sequence():
        env = gymnasium.make("Portia/Arm-v0", suite="smoke-v0", split="train")
        env.reset(seed=12)
        return [
            (info["task_id"], info["instruction"]) for _, info in (env.reset() for _ in range(10))
        ]

    assert sequence() == sequence()
    assert len(set(sequence())) > 1


def test_a_pinned_task_id_at_make_or_reset():
    env = ArmEnv(suite="arm-reach-v0", split="heldout", task="reach-beyond-left")
    assert {env.reset(seed=s)[1]["task_id"] for s in range(5)} == {"reach-beyond-left"}
    _, info = env.reset(seed=0, options={"task": "reach-between-left"})
    assert info["task_id"] == "reach-between-left"


def test_changing_a_parameter_range_changes_the_hash():
    suite = get_suite("arm-reach-v0")
    first = suite.train[0]
    moved = dataclasses.replace(first, ranges={**first.ranges, "goal_z": (0.06, 0.26)})
    changed = dataclasses.replace(suite, train=(moved, *suite.train[1:]))
    assert changed.hash != suite.hash
    renamed = dataclasses.replace(suite, name="arm-reach-v1")
    assert renamed.hash != suite.hash


def test_unknown_suites_splits_and_tasks_list_the_known_ones():
    with pytest.raises(
        UnknownSuiteError,
        match=(
            r"known suites: arm-bodies-v0, arm-gen-v0, arm-reach-v0, detour-v0, smoke-v0"
            r".*'smoke-v0'"
        ),
    ):
        gymnasium.make("Portia/Arm-v0", suite="smoke-v1")
    with pytest.raises(UnknownSuiteError, match=r"accepted: train, heldout.*'heldout'"):
        ArmEnv(suite="smoke-v0", split="held-out")
    with pytest.raises(UnknownTaskError, match=r"known: reach-right, reach-centre.*'reach-left'"):
        ArmEnv(suite="arm-reach-v0", task="reach-lefft")


def test_bad_task_specs_are_refused():
    with pytest.raises(UnknownTaskError, match="known arm tasks"):
        TaskSpec("x", "lift")
    with pytest.raises(ValueError, match="reach has no parameter 'block_x'"):
        TaskSpec("x", "reach", {"block_x": (0.3, 0.4)})
    spec = TaskSpec("x", "reach", {"goal_y": (0, 1)})
    with pytest.raises(TypeError):
        spec.ranges["goal_y"] = (0, 2)


def test_environment_fingerprint():
    env = ArmEnv(suite="smoke-v0")
    assert env.fingerprint == ArmEnv().fingerprint == arm_fingerprint()
    assert ArmEnv(goal_radius_m=0.03).fingerprint != env.fingerprint
    assert len(env.fingerprint) == 16


def test_the_bodies_suite_holds_out_a_body_on_the_very_same_tasks():
    suite = get_suite("arm-bodies-v0")
    assert suite.bodies == ("arm", "arm4", "arm4_long")
    assert {t.embodiment for t in suite.train} == {"arm", "arm4"}
    assert {t.embodiment for t in suite.heldout} == {"arm4_long"}
    for heldout in suite.heldout:
        same = [t for t in suite.train if t.family == heldout.family]
        assert same and all(t.full_ranges() == heldout.full_ranges() for t in same)


def test_a_suite_of_several_bodies_hashes_every_bodys_model():
    suite = get_suite("arm-bodies-v0")
    assert suite.fingerprint() == {body: arm_fingerprint(body=body) for body in suite.bodies}
    assert len(set(suite.fingerprint().values())) == 3
    assert get_suite("smoke-v0").fingerprint() == arm_fingerprint()
    only_arm = dataclasses.replace(suite, train=suite.train[:1], heldout=suite.train[1:2])
    assert only_arm.fingerprint() == arm_fingerprint()


def test_an_env_draws_the_tasks_of_its_own_body_only():
    env = ArmEnv(suite="arm-bodies-v0", split="train", body="arm4")
    assert env.task_ids == ("arm4-reach", "arm4-push")
    assert {env.reset(seed=seed)[1]["task_id"] for seed in range(20)} == set(env.task_ids)
    with pytest.raises(
        InvalidParameterError, match=r"no train task for body 'arm4_long'.*arm, arm4"
    ):
        ArmEnv(suite="arm-bodies-v0", split="train", body="arm4_long")


def test_a_task_for_a_body_that_cannot_do_it_is_refused():
    with pytest.raises(UnknownTaskError, match=r"body 'arm4' does not do pick_place.*reach, push"):
        TaskSpec("x", "pick_place", embodiment="arm4")
    with pytest.raises(
        InvalidParameterError, match=r"unknown body 'arm5'; accepted: arm, arm4, arm4_long"
    ):
        TaskSpec("x", "reach", embodiment="arm5")
