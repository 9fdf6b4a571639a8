"""The parts of the pages: column sorting, the page cache, a policy's parameter count."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from leaderboard.columns import COLUMN_KEYS, board_columns, sort_rows
from leaderboard.page_cache import PageCache
from leaderboard.schemas import IntervalOut, RowOut
from portia_envs.harness.onnx_policy import parameter_count
from tests.portia_envs.harness.onnx_models import goal_policy


def row(entry_id, *, rank=1, success=0.5, steps=None, method="m"):
    interval = IntervalOut(value=success, low=success, high=success)
    return RowOut(
        rank=rank,
        entry_id=entry_id,
        tier="verified",
        method=method,
        flag=None,
        heldout_success=interval,
        train_success=interval,
        heldout_iqm=interval,
        generalization_gap=interval,
        latency_compliance=None,
        latency_p50_ms=None,
        policy_params=None,
        env_steps=steps,
        episodes=3,
        entry=f"/entries/{entry_id}",
    )


def ids(rows):
    return [r.entry_id for r in rows]


def test_rows_sort_by_a_column_with_missing_values_last_both_ways():
    rows = [row(1, steps=20), row(2), row(3, steps=5), row(4, steps=20), row(5)]
    assert ids(sort_rows(rows, "env_steps", "asc")) == [3, 1, 4, 2, 5]
    # Stable: equal values (1 and 4) keep the ranking's order in either direction.
    assert ids(sort_rows(rows, "env_steps", "desc")) == [1, 4, 3, 2, 5]


def test_rows_sort_by_text_and_by_interval_value():
    rows = [row(1, method="b", success=0.2), row(2, method="a", success=0.9)]
    assert ids(sort_rows(rows, "method", "asc")) == [2, 1]
    assert ids(sort_rows(rows, "heldout_success", "desc")) == [2, 1]


@pytest.mark.parametrize(("key", "order"), [("colour", "asc"), ("rank", "up")])
def test_an_unknown_column_or_order_is_refused_naming_those_accepted(key, order):
    with pytest.raises(ValueError, match="must be one of"):
        sort_rows([row(1)], key, order)


def test_latency_columns_are_on_realtime_boards_only():
    paused = {column.key for column in board_columns("paused")}
    realtime = {column.key for column in board_columns("realtime")}
    assert realtime == set(COLUMN_KEYS)
    assert realtime - paused == {"latency_compliance", "latency_p50_ms"}


def test_the_cache_renders_once_per_version_and_drops_the_least_recently_used():
    cache = PageCache(capacity=2)
    made = []

    def render(text):
        def make():
            made.append(text)
            return text.encode()

        return make

    assert cache.get("a", 1, render("a1")) == b"a1"
    assert cache.get("a", 1, render("unused")) == b"a1"
    assert cache.get("a", 2, render("a2")) == b"a2"  # the data changed: rendered again
    cache.get("b", 2, render("b2"))
    cache.get("a", 2, render("unused"))  # a is now the most recently used
    cache.get("c", 2, render("c2"))  # drops b
    assert cache.get("a", 2, render("unused")) == b"a2"
    assert cache.get("b", 2, render("b2 again")) == b"b2 again"
    assert made == ["a1", "a2", "b2", "c2", "b2 again"]
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        PageCache(capacity=0)


def test_a_policys_parameters_are_its_floating_point_elements():
    assert parameter_count(goal_policy()) == 3 * 7  # W alone
    extra = [
        numpy_helper.from_array(np.zeros((3, 7), np.float32), "W"),
        numpy_helper.from_array(np.zeros(7, np.float64), "bias"),
        numpy_helper.from_array(np.array([1, 7], np.int64), "shape"),  # not a parameter
    ]
    constant = helper.make_node(
        "Constant",
        [],
        ["scale"],
        value=helper.make_tensor("scale", TensorProto.FLOAT16, [2], [1.0, 2.0]),
    )
    model = goal_policy(initializers=extra, domain_nodes=())
    model.graph.node.append(constant)
    assert parameter_count(model) == 21 + 7 + 2
