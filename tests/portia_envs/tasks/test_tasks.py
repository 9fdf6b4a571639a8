import numpy as np
import pytest

from portia_envs.errors import UnknownTaskError
from portia_envs.tasks import ARM_TASK_NAMES, ARM_TASKS, arm_task_index
from portia_envs.tasks.base import (
    FELL_Z_M,
    TABLE_TOP_HALF_Y_M,
    TABLE_TOP_X_M,
    describe_place,
    goal_distance,
)
from portia_envs.tasks.drawer import DrawerTask, goal_opening, handle_goal
from portia_envs.tasks.objects import OBJECT_PARAMS, default_objects
from portia_envs.tasks.observation import OBSERVATION_SIZE, PARTS
from portia_envs.tasks.pick_place import PickPlaceTask
from portia_envs.tasks.push import MIN_PUSH_DISTANCE_M, PushTask
from portia_envs.tasks.reach import ReachTask
from portia_envs.tasks.slide import SlideTask
from portia_envs.tasks.stack import STACK_RADIUS_M, StackTask


def vectors(n=1, **parts):
    """Observation vectors of zeros but for the given parts (arrays of shape (n, size))."""
    v = np.zeros((n, OBSERVATION_SIZE))
    for name, value in parts.items():
        v[:, PARTS[name]] = np.broadcast_to(value, (n, PARTS[name].stop - PARTS[name].start))
    return v


def test_families_in_one_hot_order():
    assert ARM_TASK_NAMES == ("reach", "push", "pick_place", "slide", "stack", "drawer")
    assert arm_task_index("pick_place") == 2


def test_unknown_family_error_suggests_a_name():
    with pytest.raises(
        UnknownTaskError, match=r"unknown task 'pick-place'.*did you mean 'pick_place'"
    ):
        arm_task_index("pick-place")


def test_score_by_hand():
    # Grip at the origin, block 3-4-0 away (5 cm), goal 0.12 m above the block.
    block = np.array([[0.03, 0.04, 0.0], [0.03, 0.04, FELL_Z_M - 0.01]])
    v = vectors(2, block_pos=block)
    goal = np.array([0.03, 0.04, 0.12])
    push = PushTask().score(v, goal, radius_m=0.05)
    np.testing.assert_allclose(push.reward_distance, [-0.12, -(0.12 - FELL_Z_M + 0.01)])
    np.testing.assert_allclose(push.reward_approach, [-0.5 * 0.05, -0.5 * np.hypot(0.05, 0.11)])
    np.testing.assert_array_equal(push.is_success, [False, False])
    np.testing.assert_array_equal(push.terminated, [False, True])
    np.testing.assert_array_equal(push.reward, push.reward_distance + push.reward_approach)

    reach = ReachTask().score(v, np.array([0.0, 0.03, 0.04]), radius_m=0.06)
    np.testing.assert_allclose(reach.reward_distance, [-0.05, -0.05])
    np.testing.assert_array_equal(reach.reward_approach, [0.0, 0.0])
    np.testing.assert_array_equal(reach.is_success, [True, True])
    np.testing.assert_array_equal(reach.terminated, [False, False])


def test_stack_goal_is_on_top_of_the_support_wherever_it_is():
    task = StackTask()
    support = np.array([[0.4, 0.1, 0.025], [0.45, -0.1, 0.025]])
    block = np.array([[0.4, 0.1, 0.025 + 0.025 + 0.02], [0.4, 0.1, 0.07]])
    grip = block + [0.0, 0.0, 0.1]
    v = vectors(
        2, support_pos=support, block_pos=block, grip_pos=grip, support_size=0.025, block_size=0.02
    )
    desired = task.desired_goals(v, np.zeros(3))
    np.testing.assert_allclose(desired, support + [0, 0, 0.045])
    scores = task.score(v, np.zeros(3), task.radius(0.05))
    assert task.radius(0.05) == STACK_RADIUS_M
    np.testing.assert_array_equal(scores.is_success, [True, False])
    held = vectors(1, support_pos=support[0], block_pos=block[0], grip_pos=block[0])
    held[:, PARTS["support_size"]], held[:, PARTS["block_size"]] = 0.025, 0.02
    assert not task.score(held, np.zeros(3), task.radius(0.05)).is_success[0]
    np.testing.assert_array_equal(
        -scores.reward_distance, goal_distance(block, desired)
    )  # bit-equal to relabelling
    knocked = vectors(1, support_pos=[0.4, TABLE_TOP_HALF_Y_M + 0.01, 0.02], block_pos=block[0])
    assert task.score(knocked, np.zeros(3), 0.02).terminated[0]


def test_drawer_scores_the_handle_against_the_opening():
    task = DrawerTask()
    objects = default_objects()
    objects[[OBJECT_PARAMS.index(k) for k in ("cabinet_x", "cabinet_y", "cabinet_z")]] = 0.6, 0, 0
    goal = handle_goal(objects, 0.12)
    assert goal_opening(goal, objects) == pytest.approx(0.12)
    handles = np.array([handle_goal(objects, 0.11), handle_goal(objects, 0.05)])
    scores = task.score(vectors(2, handle_pos=handles), goal, task.radius(0.05))
    np.testing.assert_allclose(scores.reward_distance, [-0.01, -0.07])
    np.testing.assert_array_equal(scores.is_success, [True, False])
    np.testing.assert_allclose(scores.reward_approach, -0.5 * np.linalg.norm(handles, axis=1))
    assert "open the drawer to 12 cm" == task.instruction(goal, objects)
    assert "close the drawer" == task.instruction(handle_goal(objects, 0.01), objects)


def test_the_episode_ends_when_the_block_centre_leaves_the_table_top():
    z = 0.02
    blocks = np.array(
        [
            [TABLE_TOP_X_M[0] + 0.01, 0.0, z],
            [TABLE_TOP_X_M[0] - 0.01, 0.0, z],
            [TABLE_TOP_X_M[1] + 0.01, 0.0, z],
            [0.4, TABLE_TOP_HALF_Y_M + 0.01, z],
            [0.4, -TABLE_TOP_HALF_Y_M - 0.01, z],
            [0.4, TABLE_TOP_HALF_Y_M - 0.01, z],
        ]
    )
    v = vectors(6, block_pos=blocks)
    for task in (PushTask(), PickPlaceTask(), SlideTask(), StackTask()):
        scores = task.score(v, np.zeros(3), radius_m=0.05)
        np.testing.assert_array_equal(scores.terminated, [False, True, True, True, True, False])
    for task in (ReachTask(), DrawerTask()):
        assert not task.score(v, np.zeros(3), radius_m=0.05).terminated.any()


def test_goal_distance_broadcasts_and_checks_the_last_axis():
    a = np.zeros((2, 4, 3))
    b = np.array([0.0, 0.3, 0.4])
    np.testing.assert_allclose(goal_distance(a, b), np.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="last axis of size 3"):
        goal_distance(np.zeros(2), np.zeros(2))


def inside(value, interval):
    return interval[0] <= value <= interval[1]


@pytest.mark.parametrize("task", ARM_TASKS, ids=ARM_TASK_NAMES)
def test_samples_stay_in_their_documented_ranges(task):
    ranges = task.default_ranges
    for seed in range(20):
        sample = task.sample(np.random.default_rng(seed))
        drawn = task.parameters(sample)
        assert set(drawn) == set(ranges)
        for key, interval in ranges.items():
            assert inside(drawn[key], interval) or np.isclose(drawn[key], interval).any(), key
        if "block_x" in ranges:
            assert sample.block_pose[2] == sample.objects[OBJECT_PARAMS.index("block_size")]
        if task.name == "stack":
            size = sample.objects[OBJECT_PARAMS.index("support_size")]
            np.testing.assert_allclose(
                sample.goal, [*sample.support_pose[:2], 2 * size + sample.block_pose[2]]
            )
        if task.name in ("push", "slide"):
            assert np.hypot(*(sample.goal[:2] - sample.block_pose[:2])) >= MIN_PUSH_DISTANCE_M
            assert sample.goal[2] == sample.block_pose[2]


def test_unused_objects_stay_parked_at_their_defaults():
    defaults = default_objects()
    reach = ReachTask().sample(np.random.default_rng(0))
    np.testing.assert_array_equal(reach.objects, defaults)
    push = PushTask().sample(np.random.default_rng(0))
    cabinet = [OBJECT_PARAMS.index(k) for k in ("cabinet_x", "cabinet_y", "cabinet_z")]
    np.testing.assert_array_equal(push.objects[cabinet], defaults[cabinet])
    assert not np.array_equal(push.objects, defaults)


def test_overridden_ranges_are_used_and_checked():
    overrides = {"goal_y": (0.2, 0.25), "goal_z": (0.3, 0.3)}
    for seed in range(10):
        goal = ReachTask().sample(np.random.default_rng(seed), overrides).goal
        assert inside(goal[1], (0.2, 0.25)) and goal[2] == 0.3
    with pytest.raises(
        ValueError, match=r"reach has no parameter 'block_x'; its parameters: goal_x"
    ):
        ReachTask().ranges({"block_x": (0, 1)})
    with pytest.raises(ValueError, match="low <= high"):
        ReachTask().ranges({"goal_x": (0.5, 0.4)})
    impossible = {"block_x": (0.4, 0.4), "block_y": (0, 0), "goal_x": (0.4, 0.4), "goal_y": (0, 0)}
    with pytest.raises(ValueError, match="leave no room for a point 0.1 m from a block"):
        PushTask().sample(np.random.default_rng(0), impossible)
    with pytest.raises(ValueError, match="leave no openings 0.05 m apart"):
        DrawerTask().sample(
            np.random.default_rng(0), {"drawer_start": (0.1, 0.1), "drawer_goal": (0.12, 0.12)}
        )
    with pytest.raises(ValueError, match=r"drawer_goal must lie in \[0, 0.16\]"):
        DrawerTask().sample(np.random.default_rng(0), {"drawer_goal": (0.1, 0.3)})


def test_same_generator_state_gives_the_same_instance_and_instruction():
    for task in ARM_TASKS:
        a = task.sample(np.random.default_rng(3))
        b = task.sample(np.random.default_rng(3))
        np.testing.assert_array_equal(a.goal, b.goal)
        np.testing.assert_array_equal(a.objects, b.objects)
        assert task.instruction(a.goal, a.objects) == task.instruction(b.goal, b.objects)


@pytest.mark.parametrize(
    ("goal", "place"),
    [
        ((0.35, 0.15, 0.0), "on the near left"),
        ((0.5, -0.15, 0.0), "on the far right"),
        ((0.43, 0.0, 0.0), "in the middle"),
        ((0.43, 0.1, 0.0), "on the left"),
        ((0.5, 0.0, 0.0), "at the far centre"),
    ],
)
def test_instructions_describe_where_the_goal_is(goal, place):
    assert describe_place(np.array(goal)) == place
    assert PushTask().instruction(np.array(goal), default_objects()).endswith(place)


def test_instructions_name_the_objects_by_size_and_colour():
    objects = default_objects()
    objects[OBJECT_PARAMS.index("block_size")] = 0.018
    goal = np.array([0.43, 0.1, 0.02])
    assert (
        PushTask().instruction(goal, objects)
        == "push the small red block to the green target on the left"
    )
    objects[OBJECT_PARAMS.index("block_hue")] = 0.66
    objects[OBJECT_PARAMS.index("support_size")] = 0.024
    objects[OBJECT_PARAMS.index("support_hue")] = 0.14
    assert (
        StackTask().instruction(goal, objects)
        == "stack the small blue block on the large yellow block"
    )
    assert SlideTask().instruction(np.array([0.7, -0.1, 0.02]), objects) == (
        "slide the small blue block to the green target far out on the right"
    )
