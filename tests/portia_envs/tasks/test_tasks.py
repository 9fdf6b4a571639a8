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
from portia_envs.tasks.pick_place import PickPlaceTask
from portia_envs.tasks.push import MIN_PUSH_DISTANCE_M, PushTask
from portia_envs.tasks.reach import ReachTask


def test_families_in_one_hot_order():
    assert ARM_TASK_NAMES == ("reach", "push", "pick_place")
    assert arm_task_index("pick_place") == 2


def test_unknown_family_error_suggests_a_name():
    with pytest.raises(
        UnknownTaskError, match=r"unknown task 'pick-place'.*did you mean 'pick_place'"
    ):
        arm_task_index("pick-place")


def test_score_by_hand():
    # Grip at the origin, block 3-4-0 away (5 cm), goal 0.12 m above the block.
    grip = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    block = np.array([[0.03, 0.04, 0.0], [0.03, 0.04, FELL_Z_M - 0.01]])
    goal = np.array([0.03, 0.04, 0.12])
    push = PushTask().score(grip, block, goal, radius_m=0.05)
    np.testing.assert_allclose(push.reward_distance, [-0.12, -(0.12 - FELL_Z_M + 0.01)])
    np.testing.assert_allclose(push.reward_approach, [-0.5 * 0.05, -0.5 * np.hypot(0.05, 0.11)])
    np.testing.assert_array_equal(push.is_success, [False, False])
    np.testing.assert_array_equal(push.terminated, [False, True])
    np.testing.assert_array_equal(push.reward, push.reward_distance + push.reward_approach)

    reach = ReachTask().score(grip, block, np.array([0.0, 0.03, 0.04]), radius_m=0.06)
    np.testing.assert_allclose(reach.reward_distance, [-0.05, -0.05])
    np.testing.assert_array_equal(reach.reward_approach, [0.0, 0.0])
    np.testing.assert_array_equal(reach.is_success, [True, True])
    np.testing.assert_array_equal(reach.terminated, [False, False])


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
    grips = np.zeros_like(blocks)
    scores = PushTask().score(grips, blocks, np.zeros(3), radius_m=0.05)
    np.testing.assert_array_equal(scores.terminated, [False, True, True, True, True, False])
    assert not ReachTask().score(grips, blocks, np.zeros(3), radius_m=0.05).terminated.any()


def test_goal_distance_broadcasts_and_checks_the_last_axis():
    a = np.zeros((2, 4, 3))
    b = np.array([0.0, 0.3, 0.4])
    np.testing.assert_allclose(goal_distance(a, b), np.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="last axis of size 3"):
        goal_distance(np.zeros(2), np.zeros(2))


def inside(value, interval):
    return interval[0] <= value <= interval[1]


@pytest.mark.parametrize("seed", range(20))
def test_samples_stay_in_their_documented_ranges(seed):
    rng = np.random.default_rng(seed)
    reach = ReachTask().sample(rng)
    for value, key in zip(reach.goal, ("goal_x", "goal_y", "goal_z"), strict=True):
        assert inside(value, ReachTask.default_ranges[key])
    push = PushTask().sample(rng)
    ranges = PushTask.default_ranges
    assert inside(push.block_pos[0], ranges["block_x"]) and inside(
        push.block_pos[1], ranges["block_y"]
    )
    assert inside(push.block_yaw, ranges["block_yaw"])
    assert np.hypot(*(push.goal[:2] - push.block_pos[:2])) >= MIN_PUSH_DISTANCE_M
    assert push.goal[2] == push.block_pos[2]
    pick = PickPlaceTask().sample(rng)
    assert inside(pick.goal[2], PickPlaceTask.default_ranges["goal_z"])


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
    with pytest.raises(ValueError, match="leave no room for a goal 0.1 m from a block"):
        PushTask().sample(np.random.default_rng(0), impossible)


def test_same_generator_state_gives_the_same_instance_and_instruction():
    for task in ARM_TASKS:
        a = task.sample(np.random.default_rng(3))
        b = task.sample(np.random.default_rng(3))
        np.testing.assert_array_equal(a.goal, b.goal)
        assert task.instruction(a.goal) == task.instruction(b.goal)


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
    assert PushTask().instruction(np.array(goal)).endswith(place)
