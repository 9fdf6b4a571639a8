"""Every command answers a user's mistake with a message and an exit code, never a traceback."""

import json

from typer.testing import CliRunner

from portia_envs.cli import app

runner = CliRunner()
# A closed port on this machine: the client's requests are refused at once.
NOBODY = "http://127.0.0.1:9"


def bad_inputs(tmp):
    """(command line, a word the message must hold) for a set of bad inputs of every command."""
    not_json = tmp / "not.json"
    not_json.write_text("{this is not json")
    wrong_shape = tmp / "wrong.json"
    wrong_shape.write_text(json.dumps({"suite": "smoke-v0"}))
    a_file = tmp / "a_file"
    a_file.write_text("x")
    fake_model = tmp / "model.onnx"
    fake_model.write_bytes(b"not an onnx file")
    fake_checkpoint = tmp / "model.pt"
    fake_checkpoint.write_bytes(b"not a checkpoint")
    missing = str(tmp / "missing.json")
    out = str(tmp / "out")
    return [
        (["envs", "--bogus"], "No such option"),
        (["suites", "extra"], "unexpected extra argument"),
        (["tasks", "smok-v0"], "smoke-v0"),
        (["play", "Portia/ArmRech-v0", "--out", str(tmp / "a.gif")], "did you mean"),
        (["play", "Portia/ArmReach-v0", "--out", str(tmp / "a.txt")], ".gif"),
        (["play", "Portia/ArmReach-v0", "--agent", "nope", "--out", str(tmp / "a.gif")], "nope"),
        (["play", "Portia/ArmReach-v0", "--episodes", "0"], "--episodes"),
        (["bench", "--agent", "scripted", "--suite", "smok-v0", "--out", out], "smoke-v0"),
        (["bench", "--agent", "nobody.py", "--suite", "smoke-v0", "--out", out], "does not exist"),
        (["bench", "--agent", str(fake_model), "--suite", "smoke-v0", "--out", out], "onnx"),
        (["bench", "--agent", "scripted", "--suite", "smoke-v0", "--out", str(a_file)], "a_file"),
        (
            ["bench", "--agent", "scripted", "--suite", "smoke-v0", "--out", out, "--seeds", "-"],
            "seeds",
        ),
        (["tasks", "detour-v1"], "detour-v0"),
        (["bench", "--agent", "planner", "--suite", "smoke-v0", "--out", out], "a Detour env"),
        (["bench", "--agent", "scripted", "--suite", "detour-v0", "--out", out], "DetourEnv"),
        (["validate", missing], "missing.json"),
        (["validate", str(not_json)], "not.json"),
        (["validate", str(wrong_shape)], "wrong.json"),
        (["report", str(not_json)], "not.json"),
        (["collect", "--agent", "scripted", "--suite", "nope", "--out", out], "nope"),
        (["collect", "--agent", "scriptd", "--suite", "smoke-v0", "--out", out], "scripted"),
        (
            ["export", str(tmp / "missing.pt"), "--format", "onnx", "--out", str(tmp / "p.onnx")],
            "missing.pt",
        ),
        (
            ["export", str(fake_checkpoint), "--format", "onnx", "--out", str(tmp / "p.onnx")],
            "model.pt",
        ),
        (["export", str(fake_checkpoint), "--format", "tflite", "--out", str(tmp / "p")], "tflite"),
        (["train", "xgboost"], "xgboost"),
        (["train", "bc", "--out", str(tmp / "bc.pt")], "--dataset"),
        (
            ["train", "bc", "--dataset", str(tmp / "no_data"), "--out", str(tmp / "bc.pt")],
            "no_data",
        ),
        (["train", "ppo", "--num-envs", "0", "--out", str(tmp / "p.pt")], "num_envs"),
        (["train", "ppo", "--gamma", "two", "--out", str(tmp / "p.pt")], "gamma"),
        (["leaderboard", "serve", "--port", "-5"], "port"),
        (["leaderboard", "serve", "--database-url", "nosuchdb://x"], "nosuchdb"),
        (["leaderboard", "token", "revoke", "abc", "--data-dir", str(tmp / "lb")], "abc"),
        (["submit", missing, "--method", "m", "--server", NOBODY, "--token", "t"], "missing.json"),
        (
            ["submit", str(wrong_shape), "--method", "m", "--server", NOBODY, "--token", "t"],
            "wrong.json",
        ),
        (["status", "3", "--server", NOBODY], "127.0.0.1:9"),
        (["status", "0", "--server", NOBODY], "greater than or equal to 1"),
    ]


def test_every_command_answers_bad_input_in_one_message_without_a_traceback(tmp_path):
    failures = []
    for arguments, word in bad_inputs(tmp_path):
        result = runner.invoke(app, arguments)
        unexpected = result.exception is not None and not isinstance(result.exception, SystemExit)
        if (
            unexpected
            or result.exit_code == 0
            or "Traceback" in result.output
            or word not in result.output
        ):
            failures.append(
                (arguments, result.exit_code, repr(result.exception), result.output[-600:])
            )
    assert failures == []


def test_the_list_covers_every_command(tmp_path):
    import typer.main

    commands = set(typer.main.get_command(app).commands)
    covered = {arguments[0] for arguments, _ in bad_inputs(tmp_path)}
    assert commands <= covered, commands - covered
