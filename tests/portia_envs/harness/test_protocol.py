import json
import os
import shutil
import struct
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.harness.agent_link import ProcessLink
from portia_envs.harness.episode import EpisodeJob, EpisodeRunner
from portia_envs.harness.protocol import (
    MAX_HEADER_BYTES,
    Channel,
    PeerClosedError,
    ProtocolError,
    ReceiveTimeoutError,
    as_array,
    encode,
    space_from_json,
    space_to_json,
    unpack,
)
from tests.portia_envs.harness.harness_runs import config


def frames(*messages, binary=True):
    return b"".join(encode(message, binary=binary) for message in messages)


def channel_reading(data):
    """A channel whose stream holds ``data`` and is then closed."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    os.close(write_fd)
    return Channel(read_fd, os.open(os.devnull, os.O_WRONLY))


def test_a_frame_is_length_json_header_and_raw_buffers_worked_by_hand():
    action = np.array([0.5, -1.0], dtype=np.float32)
    frame = encode({"type": "action", "action": action})
    header = b'{"type":"action","action":{"$array":{"buffer":0,"dtype":"<f4","shape":[2]}},'
    header += b'"buffers":[8]}'
    assert frame == struct.pack("<I", len(header)) + header + action.tobytes()


def test_messages_round_trip_arrays_of_every_wire_dtype_and_nesting():
    message = {
        "type": "future",
        "future": {
            "observation": {"a": np.arange(6, dtype=np.float64).reshape(2, 3)},
            "reward": np.array([[-1.5]], dtype=np.float32),
            "flags": np.array([True, False]),
            "ids": np.array([1, 2], dtype=np.int64),
            "bytes": np.array([7], dtype=np.uint8),
        },
        "note": [1, "two", None],
    }
    received = channel_reading(frames(message, message)).receive()
    assert received["type"] == "future" and received["note"] == [1, "two", None]
    for key in ("reward", "flags", "ids", "bytes"):
        assert received["future"][key].dtype == message["future"][key].dtype
        np.testing.assert_array_equal(received["future"][key], message["future"][key])
    np.testing.assert_array_equal(
        received["future"]["observation"]["a"], message["future"]["observation"]["a"]
    )


def test_json_lists_stand_for_arrays_with_non_finite_numbers_as_strings():
    frame = encode({"type": "x", "low": np.array([-np.inf, 0.0])}, binary=False)
    header = json.loads(frame[4:])
    assert header == {"type": "x", "low": ["-inf", 0.0], "buffers": []}
    np.testing.assert_array_equal(as_array(header["low"], "low"), [-np.inf, 0.0])
    np.testing.assert_array_equal(as_array([[1, 2]], "a"), [[1, 2]])
    with pytest.raises(ProtocolError, match="the action must be numeric"):
        as_array(["left"], "the action")
    with pytest.raises(ProtocolError, match="the action must be an array or a list of numbers"):
        as_array([[1], [2, 3]], "the action")


@pytest.mark.parametrize("env_id", ["Portia/ArmPush-v0", "Portia/Arm4Reach-v0"])
def test_the_spaces_of_portia_envs_survive_the_wire(env_id):
    env = gymnasium.make(env_id)
    for space in (env.observation_space, env.action_space):
        for binary in (True, False):
            message = {"type": "task", "space": space_to_json(space)}
            received = channel_reading(frames(message, binary=binary)).receive()
            assert space_from_json(received["space"]) == space


def test_other_spaces_are_refused_by_name():
    described = space_to_json(spaces.MultiBinary(3))
    assert space_from_json(described) == spaces.MultiBinary(3)
    with pytest.raises(ProtocolError, match="not Tuple"):
        space_to_json(spaces.Tuple([spaces.Discrete(2)]))
    with pytest.raises(ProtocolError, match="unknown space type 'graph'"):
        space_from_json({"type": "graph"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (struct.pack("<I", 3) + b"[1]", "must be a JSON object with a 'type'"),
        (struct.pack("<I", 4) + b"{x:1", "not valid JSON"),
        (struct.pack("<I", MAX_HEADER_BYTES + 1), "is something else writing"),
        (frames({"type": "a"})[:-2], "closed the stream"),
        (
            frames({"type": "a", "v": np.zeros(3, np.float32)})[:-4],
            "closed the stream",
        ),
    ],
)
def test_broken_frames_are_refused_with_what_is_wrong(data, message):
    with pytest.raises(ProtocolError, match=message):
        channel_reading(data).receive()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"buffer": 1, "dtype": "<f4", "shape": [1]}, "array buffer 1 is not one of the 1 sent"),
        ({"buffer": 0, "dtype": ">f4", "shape": [1]}, "dtype '>f4' is not accepted"),
        ({"buffer": 0, "dtype": "<f4", "shape": [2]}, "has 4 bytes; dtype <f4 and shape"),
        ({"buffer": 0, "dtype": "<f4"}, "needs exactly buffer, dtype and shape"),
    ],
)
def test_array_references_that_do_not_fit_their_buffers_are_refused(reference, message):
    with pytest.raises(ProtocolError, match=message):
        unpack({"type": "a", "v": {"$array": reference}}, [b"\0" * 4])


def test_a_receive_waits_no_longer_than_its_deadline_and_a_closed_peer_is_named():
    import time

    read_fd, write_fd = os.pipe()
    channel = Channel(read_fd, write_fd)
    started = time.monotonic()
    with pytest.raises(ReceiveTimeoutError):
        channel.receive(deadline=started + 0.2)
    assert 0.15 < time.monotonic() - started < 2.0
    channel.send({"type": "ping"})
    assert channel.receive(deadline=time.monotonic() + 1)["type"] == "ping"
    os.close(read_fd)
    with pytest.raises(PeerClosedError, match="cannot send 'ping'"):
        channel.send({"type": "ping"})


@pytest.mark.skipif(shutil.which("node") is None, reason="the example agent is JavaScript")
def test_the_documented_node_agent_plays_an_episode(tmp_path):
    text = (Path(__file__).parents[3] / "docs" / "protocol.md").read_text()
    script = tmp_path / "agent.js"
    script.write_text(text.split("```js\n")[1].split("```")[0])
    runner = EpisodeRunner(config("scripted"))
    runner.link = ProcessLink(
        "node agent",
        memory_mb=4096,
        cpu_s=60.0,
        run={"suite": "smoke-v0", "track": "paused", "budget_ms": None},
        command=["node", str(script)],
    )
    try:
        record = runner.run(EpisodeJob("reach-centre", "train", "reach", 0, 0))
        hello = runner.link.start()
    finally:
        runner.close()
    assert record["status"] == "ok", record["error"]
    assert record["length"] == 150 and np.isfinite(record["return"])
    assert hello["agent"] == {"name": "mid", "version": "1"}
