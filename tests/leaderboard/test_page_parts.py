"""The parts of the pages: column sorting, the page cache and gzip, a policy's parameters."""

import gzip

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from leaderboard import audit
from leaderboard.cached import accepts_gzip
from leaderboard.columns import COLUMN_KEYS, board_columns, sort_rows
from leaderboard.database import open_database, session_factory
from leaderboard.models import utc_now
from leaderboard.page_cache import PageCache
from leaderboard.schemas import IntervalOut, RowOut
from leaderboard.settings import Settings
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


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def sessions(tmp_path):
    settings = Settings(data_dir=tmp_path)
    engine = open_database(settings)
    yield session_factory(engine)
    engine.dispose()


def log_change(sessions):
    """Commit one audit row, as every change does: the data's version goes up by one."""
    with sessions.begin() as session:
        audit.record(session, "token.created", at=utc_now(), token=None, detail={})


def test_the_cache_renders_once_per_version_and_drops_the_least_recently_used(sessions):
    cache = PageCache(sessions, capacity=2, check_s=0)
    made = []

    def render(text):
        def make():
            made.append(text)
            return text.encode()

        return make

    assert cache.get("a", render("a1")).body == b"a1"
    assert cache.get("a", render("unused")).body == b"a1"
    log_change(sessions)
    assert cache.get("a", render("a2")).body == b"a2"  # the data changed: rendered again
    cache.get("b", render("b2"))
    cache.get("a", render("unused"))  # a is now the most recently used
    cache.get("c", render("c2"))  # drops b
    assert cache.get("a", render("unused")).body == b"a2"
    assert cache.get("b", render("b2 again")).body == b"b2 again"
    assert made == ["a1", "a2", "b2", "c2", "b2 again"]
    page = cache.get("a", render("unused"))
    assert gzip.decompress(page.gzipped) == page.body and page.etag == f'"v{page.version}-2"'
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        PageCache(sessions, capacity=0)


def test_the_version_is_read_again_after_check_s_or_at_once_after_a_local_commit(
    sessions, tmp_path
):
    clock = Clock()
    cache = PageCache(sessions, check_s=0.5, clock=clock)
    first = cache.current()
    # Another process changes the data: seen only once check_s has passed.
    other = open_database(Settings(data_dir=tmp_path))
    log_change(session_factory(other))
    assert cache.trusted() == first and cache.current() == first
    clock.now = 0.6
    assert cache.trusted() is None and cache.current() == first + 1
    # A commit through the cache's own sessions is seen at once.
    log_change(sessions)
    assert cache.trusted() is None and cache.current() == first + 2
    other.dispose()


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("gzip;q=x", False),
    ],
)
def test_gzip_is_sent_only_to_clients_that_accept_it(header, gzip_ok):
    assert accepts_gzip(header) is gzip_ok


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
