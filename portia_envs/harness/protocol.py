"""The agent protocol: how the harness and an agent in its own process talk (version 1).

The harness worker holds the env, the clock, the think counter and the records; the agent
runs in a child process and sees only messages. ``docs/protocol.md`` is the full
description, for agents written in any language; in short:

A message is a frame: a 4-byte little-endian unsigned length ``n``, then ``n`` bytes of a
UTF-8 JSON object (the header), then the raw bytes of the buffers the header lists in
``"buffers"`` (their lengths, in order). Every header has a ``"type"``. Arrays travel as
``{"$array": {"buffer": i, "dtype": "<f4", "shape": [7]}}`` (little-endian, C order), or,
from an agent, as plain JSON lists. The harness writes to the agent's standard input and
reads its standard output; the agent's standard error is its log.

Exchanges, harness first: ``hello`` -> ``hello``; ``task`` -> ``ready``; ``reset`` ->
``ready``; ``act`` -> (``imagine`` -> ``future`` | ``error``)* -> ``action``; ``close``. The
agent may answer any request with ``error``, which fails the episode with its message.
"""

from __future__ import annotations

import functools
import json
import math
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from portia_envs.errors import PortiaError

PROTOCOL_VERSION = 1
# Largest header and largest frame accepted, bytes: a message is a few kB, an imagined
# future a few MB; anything far above is a broken or hostile peer.
MAX_HEADER_BYTES = 1 << 20
MAX_FRAME_BYTES = 1 << 28
# The dtypes arrays may have on the wire (numpy's little-endian names).
WIRE_DTYPES = ("<f4", "<f8", "<i4", "<i8", "|i1", "|u1", "|b1")
_LENGTH = struct.Struct("<I")
# Headers a channel remembers how to build (each at most this long): enough for every
# message shape of a run, bounded against a peer that sends endless new ones.
_MAX_PLANS = 64
_PLAN_HEADER_BYTES = 4096


class ProtocolError(PortiaError, ValueError):
    """A message that breaks the agent protocol: bad framing, type, field or array."""


class PeerClosedError(ProtocolError):
    """The other side closed its end (its process exited) before a whole message arrived."""


class ReceiveTimeoutError(ProtocolError, TimeoutError):
    """No whole message arrived before the deadline."""


class SendTimeoutError(ProtocolError, TimeoutError):
    """The other side did not take a whole message before the deadline (it stopped reading)."""


def encode(message: dict[str, Any], *, binary: bool = True) -> bytes:
    """Return a message as one frame: length, JSON header, buffers.

    Args:
        message: A JSON-ready dict with a ``"type"``; numpy arrays may sit anywhere in it.
        binary: Send arrays as raw buffers (True) or as nested JSON lists (False; non-finite
            numbers as the strings ``"inf"``, ``"-inf"``, ``"nan"``).
    """
    if binary:
        signature = _flat_signature(message)
        if signature is not None:
            return _encode_flat(message, signature)
    return _encode(message, binary)


def _encode(message: dict[str, Any], binary: bool) -> bytes:
    """``encode`` for any message."""
    buffers: list[bytes] = []
    header = _pack(message, buffers, binary)
    header["buffers"] = [len(buffer) for buffer in buffers]
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return b"".join((_LENGTH.pack(len(text)), text, *buffers))


def _flat_signature(message: dict[str, Any]) -> tuple[Any, ...] | None:
    """Return what decides a flat message's header, or None for a message that is not flat.

    Flat: each value a JSON scalar, a wire-dtype array, or a dict of wire-dtype arrays (an
    observation, an action). Two flat messages of one signature have the same header, so it
    is made once (``_encode_flat``): the act and action of every decision are flat.
    """
    signature: list[Any] = []
    for key, value in message.items():
        if isinstance(value, np.ndarray):
            if value.dtype.str not in WIRE_DTYPES:
                return None
            signature.append((key, value.dtype.str, value.shape))
        elif isinstance(value, dict):
            inner = []
            for name, item in value.items():
                if not isinstance(item, np.ndarray) or item.dtype.str not in WIRE_DTYPES:
                    return None
                inner.append((name, item.dtype.str, item.shape))
            signature.append((key, tuple(inner)))
        elif (
            value is None
            or isinstance(value, str | int | bool)
            or (isinstance(value, float) and math.isfinite(value))
        ):
            signature.append((key, type(value), value))
        else:
            return None
    return tuple(signature)


@functools.lru_cache(maxsize=256)
def _flat_prefix(signature: tuple[Any, ...]) -> bytes:
    """Return the length and header of every flat message of ``signature``."""
    header: dict[str, Any] = {}
    sizes: list[int] = []

    def reference(dtype: str, shape: tuple[int, ...]) -> dict[str, Any]:
        sizes.append(math.prod(shape) * np.dtype(dtype).itemsize)
        return {"$array": {"buffer": len(sizes) - 1, "dtype": dtype, "shape": list(shape)}}

    for entry in signature:
        if len(entry) == 3 and isinstance(entry[1], type):
            header[entry[0]] = entry[2]
        elif len(entry) == 3:
            header[entry[0]] = reference(entry[1], entry[2])
        else:
            header[entry[0]] = {name: reference(dtype, shape) for name, dtype, shape in entry[1]}
    header["buffers"] = sizes
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return _LENGTH.pack(len(text)) + text


def _encode_flat(message: dict[str, Any], signature: tuple[Any, ...]) -> bytes:
    """``encode`` for a flat message: its cached header, then its arrays' bytes."""
    parts = [_flat_prefix(signature)]
    for value in message.values():
        if isinstance(value, np.ndarray):
            parts.append(value.tobytes())
        elif isinstance(value, dict):
            parts.extend(item.tobytes() for item in value.values())
    return b"".join(parts)


def decode_header(data: bytes) -> dict[str, Any]:
    """Parse a frame's header bytes, checking it is a JSON object with a type and buffers.

    Raises:
        ProtocolError: Naming what is wrong.
    """
    try:
        header = json.loads(data)
    except ValueError as error:
        raise ProtocolError(f"a message header is not valid JSON: {error}") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ProtocolError(f"a message header must be a JSON object with a 'type', got {data!r}")
    lengths = header.setdefault("buffers", [])
    if not isinstance(lengths, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in lengths
    ):
        raise ProtocolError(f"'buffers' must list byte lengths (integers >= 0), got {lengths!r}")
    return header


def unpack(header: dict[str, Any], buffers: list[bytes]) -> dict[str, Any]:
    """Return the message with every ``$array`` reference replaced by its numpy array.

    Raises:
        ProtocolError: If a reference names a missing buffer, a dtype not in
            ``WIRE_DTYPES``, or a shape that does not fit its buffer.
    """
    message = {key: value for key, value in header.items() if key != "buffers"}
    return _unpack(message, buffers)


def as_array(value: Any, what: str) -> np.ndarray:
    """Return a received array, or a plain JSON list of numbers, as a numpy array.

    Raises:
        ProtocolError: If ``value`` is neither, or ragged.
    """
    if isinstance(value, np.ndarray):
        return value
    try:
        array = np.array(_from_json_numbers(value))
    except (TypeError, ValueError):
        raise ProtocolError(f"{what} must be an array or a list of numbers") from None
    if array.dtype.kind not in "biuf":
        raise ProtocolError(f"{what} must be numeric, got {array.dtype} values")
    return array


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """Describe a ``Box``, ``Discrete``, ``MultiBinary`` or ``Dict`` space for the wire.

    ``space_from_json`` rebuilds it.

    Raises:
        ProtocolError: For any other kind of space.
    """
    if isinstance(space, spaces.Box):
        return {
            "type": "box",
            "shape": list(space.shape),
            "dtype": np.dtype(space.dtype).newbyteorder("<").str,
            "low": space.low,
            "high": space.high,
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "multi_binary", "shape": list(space.shape)}
    if isinstance(space, spaces.Dict):
        return {
            "type": "dict",
            "spaces": {key: space_to_json(sub) for key, sub in space.spaces.items()},
        }
    raise ProtocolError(
        f"the agent protocol carries Box, Discrete, MultiBinary and Dict spaces, not "
        f"{type(space).__name__}"
    )


def space_from_json(description: dict[str, Any]) -> spaces.Space:
    """Rebuild a space described by ``space_to_json`` (after ``unpack``)."""
    kind = description.get("type")
    if kind == "box":
        dtype = np.dtype(description["dtype"])
        low = as_array(description["low"], "low").astype(dtype)
        high = as_array(description["high"], "high").astype(dtype)
        return spaces.Box(low, high, dtype=dtype)
    if kind == "discrete":
        return spaces.Discrete(description["n"], start=description.get("start", 0))
    if kind == "multi_binary":
        shape = tuple(description["shape"])
        return spaces.MultiBinary(shape[0] if len(shape) == 1 else shape)
    if kind == "dict":
        return spaces.Dict(
            {key: space_from_json(sub) for key, sub in description["spaces"].items()}
        )
    raise ProtocolError(f"unknown space type {kind!r}; accepted: box, discrete, multi_binary, dict")


class Channel:
    """One end of the protocol over a pair of file descriptors (pipes).

    Args:
        read_fd: Where messages come from.
        write_fd: Where messages go.
        binary: Send arrays as buffers (True) or JSON lists (False); what the peer asked.
    """

    def __init__(self, read_fd: int, write_fd: int, *, binary: bool = True) -> None:
        self.read_fd, self.write_fd, self.binary = read_fd, write_fd, binary
        self._pending = bytearray()
        # Headers seen before, each with how to build its message from fresh buffers: the
        # messages of every decision repeat the same header.
        self._plans: dict[bytes, tuple[list[int], Callable[[list[bytearray]], Any]]] = {}

    def send(self, message: dict[str, Any], deadline: float | None = None) -> None:
        """Write one message, waiting until ``deadline`` (``time.monotonic``) for room.

        A deadline bounds the wait only where ``write_fd`` is non-blocking
        (``os.set_blocking(fd, False)``); on a blocking one a write waits for the reader.

        Raises:
            SendTimeoutError: If the other side had not taken the message by the deadline.
            PeerClosedError: If the other side has closed its end.
        """
        view = memoryview(encode(message, binary=self.binary))
        while view:
            try:
                view = view[os.write(self.write_fd, view) :]
            except BlockingIOError:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                _, ready, _ = select.select([], [self.write_fd], [], left)
                if not ready:
                    raise SendTimeoutError(
                        f"the other side did not take {message['type']!r} before the deadline"
                    ) from None
            except OSError as error:  # BrokenPipeError: the reader is gone
                raise PeerClosedError(f"cannot send {message['type']!r}: {error}") from None

    def receive(self, deadline: float | None = None) -> dict[str, Any]:
        """Read one message, waiting until ``deadline`` (``time.monotonic``; None: forever).

        Raises:
            ReceiveTimeoutError: If the deadline passed first.
            PeerClosedError: If the other side closed its end first.
            ProtocolError: If what arrived is not a valid message.
        """
        (length,) = _LENGTH.unpack(self._read(_LENGTH.size, deadline))
        if length > MAX_HEADER_BYTES:
            raise ProtocolError(
                f"a message header of {length} bytes is over the {MAX_HEADER_BYTES} accepted "
                f"(is something else writing to the protocol's stream, such as a print?)"
            )
        raw = bytes(self._read(length, deadline))
        plan = self._plans.get(raw)
        if plan is None:
            header = decode_header(raw)
            if sum(header["buffers"]) > MAX_FRAME_BYTES:
                raise ProtocolError(
                    f"a message of {sum(header['buffers'])} bytes of buffers is over the "
                    f"{MAX_FRAME_BYTES} accepted"
                )
            buffers = [self._read(n, deadline) for n in header["buffers"]]
            message = unpack(header, buffers)
            if len(raw) <= _PLAN_HEADER_BYTES and len(self._plans) < _MAX_PLANS:
                self._plans[raw] = (header["buffers"], _compile(message, header))
            return message
        lengths, build = plan
        return build([self._read(n, deadline) for n in lengths])

    def _read(self, size: int, deadline: float | None) -> bytearray:
        """Return exactly ``size`` bytes from the stream."""
        while len(self._pending) < size:
            if deadline is not None:
                left = deadline - time.monotonic()
                ready, _, _ = select.select([self.read_fd], [], [], max(0.0, left))
                if not ready:
                    raise ReceiveTimeoutError("no answer before the deadline")
            chunk = os.read(self.read_fd, max(size - len(self._pending), 1 << 16))
            if not chunk:
                raise PeerClosedError("the other side closed the stream")
            self._pending += chunk
        data, self._pending = self._pending[:size], self._pending[size:]
        return data


def _compile(message: Any, header: Any) -> Callable[[list[bytearray]], Any]:
    """Return a function that builds, from fresh buffers, a message shaped as ``message``.

    ``header`` is the message's header as parsed (array references unresolved); the
    references were checked when ``message`` was built from it.
    """
    if isinstance(header, dict) and set(header) == {"$array"}:
        index, dtype = header["$array"]["buffer"], np.dtype(header["$array"]["dtype"])
        shape = tuple(header["$array"]["shape"])
        return lambda buffers: np.frombuffer(buffers[index], dtype=dtype).reshape(shape)
    if isinstance(header, dict):
        parts = [
            (key, _compile(message[key], value))
            for key, value in header.items()
            if key != "buffers"
        ]
        return lambda buffers: {key: build(buffers) for key, build in parts}
    if isinstance(header, list):
        items = [_compile(item, raw) for item, raw in zip(message, header, strict=True)]
        return lambda buffers: [build(buffers) for build in items]
    return lambda buffers: message


def _pack(value: Any, buffers: list[bytes], binary: bool) -> Any:
    """Return ``value`` with arrays replaced by references (binary) or lists."""
    if isinstance(value, dict):
        return {str(key): _pack(item, buffers, binary) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_pack(item, buffers, binary) for item in value]
    if isinstance(value, np.ndarray):
        if not binary:
            return _to_json_numbers(value.tolist())
        array = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        if array.dtype.str not in WIRE_DTYPES:
            array = array.astype("<f8")
        buffers.append(array.tobytes())
        reference = {"buffer": len(buffers) - 1, "dtype": array.dtype.str}
        return {"$array": {**reference, "shape": list(array.shape)}}
    if isinstance(value, np.generic):
        return _to_json_numbers(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return _to_json_numbers(value)
    return value


def _unpack(value: Any, buffers: list[bytes]) -> Any:
    """Return ``value`` with ``$array`` references resolved."""
    if isinstance(value, list):
        return [_unpack(item, buffers) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"$array"}:
        return _array(value["$array"], buffers)
    return {key: _unpack(item, buffers) for key, item in value.items()}


def _array(reference: Any, buffers: list[bytes]) -> np.ndarray:
    """Return the array a ``$array`` reference describes."""
    if not isinstance(reference, dict) or set(reference) != {"buffer", "dtype", "shape"}:
        raise ProtocolError(
            f"an array reference needs exactly buffer, dtype and shape, got {reference!r}"
        )
    index, dtype, shape = reference["buffer"], reference["dtype"], reference["shape"]
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise ProtocolError(f"array buffer {index!r} is not one of the {len(buffers)} sent")
    if dtype not in WIRE_DTYPES:
        raise ProtocolError(f"array dtype {dtype!r} is not accepted; accepted: {WIRE_DTYPES}")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ProtocolError(f"array shape must be a list of sizes >= 0, got {shape!r}")
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    if len(buffers[index]) != expected:
        raise ProtocolError(
            f"array buffer {index} has {len(buffers[index])} bytes; dtype {dtype} and shape "
            f"{shape} need {expected}"
        )
    return np.frombuffer(buffers[index], dtype=dtype).reshape(shape)


def _to_json_numbers(value: Any) -> Any:
    """Replace non-finite floats in nested lists by ``"inf"``, ``"-inf"``, ``"nan"``."""
    if isinstance(value, list):
        return [_to_json_numbers(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _from_json_numbers(value: Any) -> Any:
    """Undo ``_to_json_numbers``."""
    if isinstance(value, list):
        return [_from_json_numbers(item) for item in value]
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return value
