import dataclasses
import math

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from wrappers import ACTION_TOKENIZER, OBSERVATION_TOKENIZER, Tokenizer
from wrappers.errors import WrapperInputError
from wrappers.tokenize import GATO_OFFSET, tokenize_observation

pytestmark = pytest.mark.filterwarnings("error")

# The bounds are exact arithmetic; float64 rounding adds a few ulps on top.
ROUNDING = 1e-12

tokenizers = st.builds(
    Tokenizer,
    bins=st.integers(2, 4096),
    mu=st.floats(0.1, 1000.0),
    m=st.floats(0.5, 1000.0),
    companding=st.booleans(),
    offset=st.integers(0, 40_000),
)
GATO_LIKE = [OBSERVATION_TOKENIZER, ACTION_TOKENIZER, Tokenizer(bins=7), Tokenizer(bins=3)]


def round_trip_error(tokenizer, x):
    return np.abs(tokenizer.decode(tokenizer.encode(x)) - x)


def within_bound(tokenizer, x):
    return round_trip_error(tokenizer, x) <= tokenizer.error_bound(x) * (1 + ROUNDING)


def in_range_values(tokenizer, unit):
    """Spread unit in [-1, 1] over [-limit, limit], dense near 0 and at the ends."""
    return np.sign(unit) * tokenizer.limit * np.abs(unit) ** 3


@given(
    tokenizer=tokenizers,
    unit=arrays(np.float64, array_shapes(min_dims=0, max_dims=3), elements=st.floats(-1, 1)),
)
def test_round_trip_is_within_the_bound_across_the_range(tokenizer, unit):
    x = in_range_values(tokenizer, unit)
    x = np.concatenate([x.ravel(), [0.0, -0.0, tokenizer.limit, -tokenizer.limit, 5e-324]])
    assert within_bound(tokenizer, x).all()


@given(
    tokenizer=st.sampled_from(GATO_LIKE),
    x=st.floats(-256.0, 256.0, allow_subnormal=True),
)
@example(tokenizer=OBSERVATION_TOKENIZER, x=256.0)
@example(tokenizer=OBSERVATION_TOKENIZER, x=-256.0)
@example(tokenizer=OBSERVATION_TOKENIZER, x=1e-300)
@example(tokenizer=OBSERVATION_TOKENIZER, x=-1e-300)
@example(tokenizer=ACTION_TOKENIZER, x=1.0)
@example(tokenizer=ACTION_TOKENIZER, x=-1.0)
def test_every_scalar_value_round_trips_within_the_bound(tokenizer, x):
    assert within_bound(tokenizer, x)


@given(tokenizer=tokenizers, x=st.floats(-1e12, 1e12))
def test_out_of_range_values_are_within_the_bound_plus_their_excess(tokenizer, x):
    assert within_bound(tokenizer, x)


@given(
    tokenizer=tokenizers,
    x=arrays(np.float64, array_shapes(min_dims=0, max_dims=3), elements=st.floats(allow_nan=False)),
)
def test_tokens_are_int64_in_range_and_keep_the_shape(tokenizer, x):
    tokens = tokenizer.encode(x)
    assert tokens.dtype == np.int64
    assert tokens.shape == x.shape
    assert ((tokens >= tokenizer.offset) & (tokens < tokenizer.offset + tokenizer.bins)).all()
    decoded = tokenizer.decode(tokens)
    assert decoded.dtype == np.float64
    assert decoded.shape == x.shape


@given(tokenizer=tokenizers, x=st.lists(st.floats(allow_nan=False), min_size=1, max_size=50))
def test_encode_is_monotone_non_decreasing(tokenizer, x):
    assert (np.diff(tokenizer.encode(np.sort(x))) >= 0).all()


@given(tokenizer=tokenizers)
def test_decode_is_strictly_increasing_over_all_tokens(tokenizer):
    tokens = np.arange(tokenizer.offset, tokenizer.offset + tokenizer.bins)
    assert (np.diff(tokenizer.decode(tokens)) > 0).all()
    assert (tokenizer.encode(tokenizer.decode(tokens)) == tokens).all()


@given(tokenizer=tokenizers, excess=st.floats(1.0, 1e9))
def test_out_of_range_values_clip_to_the_end_bins(tokenizer, excess):
    limit = tokenizer.limit
    last, first = tokenizer.offset + tokenizer.bins - 1, tokenizer.offset
    tokens = tokenizer.encode([limit * excess, -limit * excess, 1e9, -1e9, math.inf, -math.inf])
    assert tokens.tolist() == [last, first] * 3
    assert tokenizer.encode(1e9) == tokenizer.encode(limit)
    assert tokenizer.encode(-1e9) == tokenizer.encode(-limit)
    outermost_centre = tokenizer.decode(last)
    assert np.allclose(tokenizer.decode([last, first]), [outermost_centre, -outermost_centre])
    assert outermost_centre < limit


@pytest.mark.parametrize("tokenizer", GATO_LIKE, ids=repr)
def test_the_bound_is_reached_at_bin_edges(tokenizer):
    # The edge of each bin nearer 0 is the worst case, exactly (module docstring); one ulp
    # outwards puts each edge in the bin it is the inner edge of.
    edges = np.linspace(-1.0, 1.0, tokenizer.bins + 1)
    if tokenizer.companding:
        edges = np.sign(edges) * np.expm1(np.abs(edges) * math.log1p(tokenizer.m * tokenizer.mu))
        edges /= tokenizer.mu
    edges = np.nextafter(edges, np.copysign(np.inf, edges))
    ratio = round_trip_error(tokenizer, edges) / tokenizer.error_bound(edges)
    assert ratio.max() >= 0.999
    assert ratio.max() <= 1 + ROUNDING


@given(k=st.integers(0, 1024), sign=st.sampled_from([-1.0, 1.0]))
def test_every_default_bin_nearly_reaches_the_bound(k, sign):
    # x at a bin edge: error / bound is 1 in the bin outside the edge, 1 / r ~ 0.99 inside.
    for tokenizer in (OBSERVATION_TOKENIZER, ACTION_TOKENIZER):
        edge = abs(2 * k / 1024 - 1)
        x = sign * (np.expm1(edge * math.log1p(25_600)) / 100 if tokenizer.companding else edge)
        assert round_trip_error(tokenizer, x) >= 0.98 * tokenizer.error_bound(x)


def test_max_error_is_the_bound_at_the_range_ends_and_nearly_reached():
    for tokenizer in (OBSERVATION_TOKENIZER, ACTION_TOKENIZER):
        x = np.linspace(-tokenizer.limit, tokenizer.limit, 400_001)
        worst = round_trip_error(tokenizer, x).max()
        assert tokenizer.max_error == tokenizer.error_bound(tokenizer.limit)
        assert 0.98 * tokenizer.max_error <= worst <= tokenizer.max_error * (1 + ROUNDING)


def test_gato_defaults_and_their_bounds():
    assert OBSERVATION_TOKENIZER == Tokenizer(bins=1024, mu=100.0, m=256.0, offset=0)
    assert ACTION_TOKENIZER == Tokenizer(bins=1024, companding=False)
    r = 25_601 ** (1 / 1024)  # (M mu + 1)^(1 / bins)
    assert OBSERVATION_TOKENIZER.max_error == pytest.approx((256 + 0.01) * (r - 1), rel=1e-12)
    assert OBSERVATION_TOKENIZER.max_error == pytest.approx(2.5503, abs=1e-4)
    assert OBSERVATION_TOKENIZER.error_bound(0.0) == pytest.approx(9.9618e-5, rel=1e-4)
    assert OBSERVATION_TOKENIZER.error_bound(10.0) / 10 == pytest.approx(0.00997, abs=1e-5)
    assert ACTION_TOKENIZER.max_error == 1 / 1024
    # Gato's F: F(M) = 1 is the top edge; 0 is the edge between tokens 511 and 512.
    assert OBSERVATION_TOKENIZER.encode([-256.0, -1e-9, 0.0, 256.0]).tolist() == [0, 511, 512, 1023]
    assert ACTION_TOKENIZER.encode([-1.0, -0.001, 0.0, 0.999]).tolist() == [0, 511, 512, 1023]
    assert ACTION_TOKENIZER.decode([0, 512, 1023]).tolist() == [-1023 / 1024, 1 / 1024, 1023 / 1024]
    assert OBSERVATION_TOKENIZER.decode(512) == pytest.approx(
        math.expm1(math.log(25_601) / 1024) / 100
    )


def test_an_offset_shifts_tokens_and_decodes_the_same():
    shifted = dataclasses.replace(OBSERVATION_TOKENIZER, offset=GATO_OFFSET)
    x = np.array([-300.0, -3.0, 0.0, 0.02, 200.0])
    assert (shifted.encode(x) == OBSERVATION_TOKENIZER.encode(x) + 32_000).all()
    assert (
        shifted.decode(shifted.encode(x))
        == OBSERVATION_TOKENIZER.decode(OBSERVATION_TOKENIZER.encode(x))
    ).all()


def test_odd_bins_decode_the_middle_bin_to_zero():
    for tokenizer in (Tokenizer(bins=7), Tokenizer(bins=7, companding=False)):
        assert tokenizer.encode(0.0) == 3
        assert tokenizer.decode(3) == 0.0


def test_tokenize_observation_flattens_keys_in_lexicographic_order():
    observation = {"b": np.array([[1.0, -2.0]]), "a": 0.5, "c": np.zeros(3)}
    expected = OBSERVATION_TOKENIZER.encode([0.5, 1.0, -2.0, 0.0, 0.0, 0.0])
    assert (tokenize_observation(observation) == expected).all()
    reordered = dict(reversed(list(observation.items())))
    assert (tokenize_observation(reordered) == expected).all()
    assert tokenize_observation({}).shape == (0,)
    assert tokenize_observation({"a": [0.5]}, ACTION_TOKENIZER).tolist() == [768]


def test_tokenize_observation_matches_gymnasium_dict_flattening():
    space = spaces.Dict(
        {
            "observation": spaces.Box(-300.0, 300.0, (5,), np.float64),
            "achieved_goal": spaces.Box(-10.0, 10.0, (3,), np.float64),
            "task": spaces.Box(0.0, 1.0, (2, 2), np.float64),
        },
        seed=0,
    )
    observation = space.sample()
    expected = OBSERVATION_TOKENIZER.encode(spaces.flatten(space, observation))
    assert (tokenize_observation(observation) == expected).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bins": 1}, r"bins must be an integer >= 2, got 1"),
        ({"bins": 8.0}, r"bins must be an integer >= 2, got 8\.0"),
        ({"bins": True}, r"bins must be an integer >= 2, got True"),
        ({"mu": 0.0}, r"mu must be a finite number > 0, got 0\.0"),
        ({"mu": math.nan}, r"mu must be a finite number > 0, got nan"),
        ({"m": -1.0}, r"m must be a finite number > 0, got -1\.0"),
        ({"m": "256"}, r"m must be a finite number > 0, got '256'"),
        ({"mu": 1e200, "m": 1e200}, r"mu \* m must be finite"),
        ({"companding": 1}, r"companding must be True or False, got 1"),
        ({"offset": -1}, r"offset must be an integer >= 0, got -1"),
        ({"offset": 2**63}, r"offset \+ bins - 1 must fit in int64"),
    ],
)
def test_bad_arguments_say_what_is_accepted(kwargs, message):
    with pytest.raises(WrapperInputError, match=message):
        Tokenizer(**kwargs)


def test_nan_and_non_numeric_values_raise():
    with pytest.raises(WrapperInputError, match=r"cannot tokenize NaN: 1 of 4 values .*\(1, 0\)"):
        OBSERVATION_TOKENIZER.encode([[0.0, 1.0], [math.nan, 2.0]])
    with pytest.raises(WrapperInputError, match="values must be real numbers"):
        OBSERVATION_TOKENIZER.encode("fast")
    with pytest.raises(WrapperInputError, match="cannot tokenize NaN"):
        tokenize_observation({"a": [1.0], "b": [math.nan]})
    with pytest.raises(WrapperInputError, match="observation must be a mapping"):
        tokenize_observation(np.zeros(3))


def test_decode_rejects_tokens_outside_the_range_and_non_integers():
    shifted = Tokenizer(bins=16, offset=100)
    with pytest.raises(WrapperInputError, match=r"tokens must lie in \[100, 116\).*got 99"):
        shifted.decode([100, 99])
    with pytest.raises(WrapperInputError, match=r"tokens must lie in \[100, 116\).*got 116"):
        shifted.decode(116)
    with pytest.raises(WrapperInputError, match="tokens must be integers, got .* float64"):
        shifted.decode([100.0])


def test_tokenizers_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        OBSERVATION_TOKENIZER.bins = 256
