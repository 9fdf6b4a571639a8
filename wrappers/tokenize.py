"""Gato-style tokens for continuous observations and actions.

Reed et al., 2022, "A Generalist Agent" (Gato), section 2.1: a continuous value ``x`` is
mu-law companded, ``F(x) = sgn(x) log(|x| mu + 1) / log(M mu + 1)`` with ``mu = 100`` and
``M = 256``, clipped to ``[-1, 1]`` and discretized into 1024 uniform bins; actions, already
in ``[-1, 1]``, are discretized uniformly without companding. Gato then shifts the tokens
by 32000 (``GATO_OFFSET``), past its text vocabulary; the ready-made tokenizers here use
offset 0, as Portia has no text tokens.

Error bound (``Tokenizer.error_bound``). Bin ``k`` of width ``w = 2 / bins`` decodes to its
centre ``c``, so the companded value moves by at most ``w / 2 = 1 / bins``. Without
companding that is the error: ``|decode(encode(x)) - x| <= 1 / bins`` for ``|x| <= 1``.
With companding (``Tokenizer`` calls ``M`` ``m``) the inverse is
``G(y) = sgn(y) ((M mu + 1)^|y| - 1) / mu``. On one side of 0, ``u = |x| + 1 / mu`` equals
``(M mu + 1)^|y| / mu``, so decoding multiplies ``u`` by a factor in ``[1 / r, r]`` with
``r = (M mu + 1)^(1 / bins)``, and as ``r - 1 >= 1 - 1 / r``,

    |decode(encode(x)) - x| <= (|x| + 1 / mu) (r - 1)    for |x| <= M.

Equality holds at the edge of each bin nearer 0 (bins are half-open, so for negative values
the bound is approached rather than reached). For the defaults that is about 1% of ``|x|``,
and ``(r - 1) / mu``, about 1e-4, near 0. With an even number of bins 0 is a bin edge, so no
bin straddles the sign change. With an odd number the middle bin straddles it and decodes to
exactly 0; its values have ``|x| <= G(1 / bins) = (r - 1) / mu``, within the same bound, so
the bound holds for any ``bins >= 2``.

Out-of-range values (``|x| > M`` with companding, ``|x| > 1`` without) clip to the end bins
and decode to the outermost bin centre; their bound adds the excess, ``|x| - M`` (or
``|x| - 1``). The bounds are exact arithmetic: floating point adds a few ulps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wrappers.errors import WrapperInputError

# Gato's shift of continuous-value tokens past its 32000-token text vocabulary.
GATO_OFFSET = 32000
_INT64_MAX = int(np.iinfo(np.int64).max)


def _as_float_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise WrapperInputError(f"{name} must be real numbers, got {values!r}") from error


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


@dataclass(frozen=True)
class Tokenizer:
    """Maps real values to integer tokens in ``[offset, offset + bins)`` and back.

    With ``companding`` (observations) a value is mu-law companded over ``[-m, m]`` before
    uniform binning; without it (actions) ``[-1, 1]`` is binned uniformly and ``mu`` and
    ``m`` are unused. Values outside the range clip to the end bins.

    Args:
        bins: Number of tokens (>= 2); Gato uses 1024.
        mu: Mu-law compression strength (> 0); Gato uses 100.
        m: Largest magnitude with its own tokens when companding (> 0); Gato uses 256.
        companding: Whether to mu-law compand before binning.
        offset: The first token (>= 0), e.g. ``GATO_OFFSET`` to follow a text vocabulary.
    """

    bins: int = 1024
    mu: float = 100.0
    m: float = 256.0
    companding: bool = True
    offset: int = 0

    def __post_init__(self) -> None:
        if not _is_int(self.bins) or self.bins < 2:
            raise WrapperInputError(f"bins must be an integer >= 2, got {self.bins!r}")
        for name in ("mu", "m"):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value) or value <= 0:
                raise WrapperInputError(f"{name} must be a finite number > 0, got {value!r}")
        if not math.isfinite(self._log_range):
            raise WrapperInputError(
                f"mu * m must be finite, got mu={self.mu!r}, m={self.m!r}; use smaller values"
            )
        if not isinstance(self.companding, bool):
            raise WrapperInputError(f"companding must be True or False, got {self.companding!r}")
        if not _is_int(self.offset) or self.offset < 0:
            raise WrapperInputError(f"offset must be an integer >= 0, got {self.offset!r}")
        if self.offset + self.bins - 1 > _INT64_MAX:
            raise WrapperInputError(
                f"offset + bins - 1 must fit in int64 (<= {_INT64_MAX}), "
                f"got offset={self.offset}, bins={self.bins}"
            )

    @property
    def limit(self) -> float:
        """The largest magnitude with its own tokens: ``m`` when companding, else 1."""
        return float(self.m) if self.companding else 1.0

    @property
    def max_error(self) -> float:
        """The largest value ``error_bound`` takes on ``[-limit, limit]`` (at its ends).

        ``1 / bins`` without companding, reached at ``x = ±1``; ``(m + 1 / mu) (r - 1)`` with
        it, which the true worst case approaches within a factor ``r = (m mu + 1)^(1 / bins)``.
        """
        return float(self.error_bound(self.limit))

    def encode(self, values: ArrayLike) -> NDArray[np.int64]:
        """Tokenize real values, element-wise.

        Args:
            values: Real numbers, any shape; out-of-range ones (and ±inf) clip to the end bins.

        Returns:
            Tokens in ``[offset, offset + bins)``, the same shape as ``values``.

        Raises:
            WrapperInputError: If ``values`` is not numeric or contains NaN.
        """
        x = _as_float_array(values, "values")
        if np.isnan(x).any():
            first = tuple(int(i) for i in np.argwhere(np.isnan(x))[0])
            raise WrapperInputError(
                f"cannot tokenize NaN: {int(np.isnan(x).sum())} of {x.size} values are NaN "
                f"(first at index {first}); replace or mask them before encoding"
            )
        # Clipping x first spares log1p an overflow; clipping y again absorbs its rounding.
        x = np.clip(x, -self.limit, self.limit)
        y = np.sign(x) * np.log1p(np.abs(x) * self.mu) / self._log_range if self.companding else x
        # Bins are half-open, [edge_k, edge_k+1); y = 1 joins the last bin.
        index = np.floor((np.clip(y, -1.0, 1.0) + 1.0) * (self.bins / 2)).astype(np.int64)
        return np.clip(index, 0, self.bins - 1) + np.int64(self.offset)

    def decode(self, tokens: ArrayLike) -> NDArray[np.float64]:
        """Map tokens back to the values at their bin centres, element-wise.

        Args:
            tokens: Integer tokens in ``[offset, offset + bins)``, any shape.

        Returns:
            The decoded values, the same shape as ``tokens``; within ``error_bound`` of any
            value that encodes to each token.

        Raises:
            WrapperInputError: If ``tokens`` are not integers or fall outside the range.
        """
        array = np.asarray(tokens)
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise WrapperInputError(
                f"tokens must be integers, got an array of dtype {array.dtype}; "
                "pass the output of encode"
            )
        index = array.astype(np.int64) - np.int64(self.offset)
        outside = (index < 0) | (index >= self.bins)
        if outside.any():
            raise WrapperInputError(
                f"tokens must lie in [{self.offset}, {self.offset + self.bins}) for this "
                f"tokenizer, got {int(array[outside].flat[0])} "
                f"({int(outside.sum())} of {array.size} outside)"
            )
        centre = (2.0 * index + 1.0) / self.bins - 1.0
        if not self.companding:
            return centre
        return np.sign(centre) * np.expm1(np.abs(centre) * self._log_range) / self.mu

    def error_bound(self, values: ArrayLike) -> NDArray[np.float64]:
        """The largest ``|decode(encode(x)) - x|`` can be, for each value (module docstring).

        Args:
            values: Real numbers, any shape.

        Returns:
            ``1 / bins`` without companding, ``(|x| + 1 / mu) ((m mu + 1)^(1 / bins) - 1)``
            with it, for ``|x| <= limit``; beyond the range, the bound at the limit plus the
            excess ``|x| - limit``. Same shape as ``values``; NaN where a value is NaN.

        Raises:
            WrapperInputError: If ``values`` is not numeric.
        """
        magnitude = np.abs(_as_float_array(values, "values"))
        inside = np.minimum(magnitude, self.limit)
        if self.companding:
            bound = (inside + 1.0 / self.mu) * math.expm1(self._log_range / self.bins)
        else:
            bound = np.full_like(inside, 1.0 / self.bins)
        return bound + (magnitude - inside)

    @property
    def _log_range(self) -> float:
        return math.log1p(self.m * self.mu)


OBSERVATION_TOKENIZER = Tokenizer()
"""Gato's observation tokenizer: mu-law (mu 100, M 256), 1024 bins, offset 0."""

ACTION_TOKENIZER = Tokenizer(companding=False)
"""Gato's action tokenizer: ``[-1, 1]`` in 1024 uniform bins, offset 0."""


def tokenize_observation(
    observation: Mapping[str, ArrayLike], tokenizer: Tokenizer = OBSERVATION_TOKENIZER
) -> NDArray[np.int64]:
    """Tokenize a Dict observation into one flat sequence, as Gato does.

    Keys are taken in lexicographic order (Gato's order, and Gymnasium's ``Dict`` space's
    for a plain dict), each value flattened in C order.

    Args:
        observation: Arrays (or scalars) by key, e.g. a Portia env's observation.
        tokenizer: The tokenizer to apply.

    Returns:
        The tokens, shape ``(total number of values,)``.

    Raises:
        WrapperInputError: If ``observation`` is not a mapping or a value is not numeric or
            contains NaN.
    """
    if not isinstance(observation, Mapping):
        raise WrapperInputError(
            f"observation must be a mapping of arrays by key, got {type(observation).__name__}; "
            "for a single array use tokenizer.encode"
        )
    parts = [tokenizer.encode(observation[key]).ravel() for key in sorted(observation)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)
