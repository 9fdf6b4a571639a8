"""``portia export``: exported policies act as the originals, on observations and in episodes."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from baselines.bc import student_path
from baselines.dt import DTConfig
from baselines.dt import train as train_dt
from baselines.export import ExportError, export_policy, load_original, verify_export
from baselines.ppo import PPOConfig
from baselines.ppo import train as train_ppo
from portia_envs.cli import app
from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.episode import RunConfig, suite_agent_env
from portia_envs.harness.onnx_policy import policy_metadata
from portia_envs.harness.runner import bench
from portia_envs.suites import get_suite

pytestmark = pytest.mark.usefixtures("one_thread")
SUITE = "smoke-v0"
# The contract's bound on the difference between an export's actions and the original's.
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def models(tmp_path_factory, smoke_dataset):
    """A BC student (shipped), a tiny PPO, a tiny DT and short SB3 PPO and SAC runs, as files.

    SAC squashes its Gaussian with tanh and unscales it to the action space's bounds, so
    its export tests that path of ``SB3Core``.
    """
    folder = tmp_path_factory.mktemp("models")
    ppo = train_ppo(
        PPOConfig(total_steps=512, num_envs=2, num_steps=128, epochs=1, minibatches=4, threads=1)
    ).save(folder / "ppo.pt")
    dt = train_dt(
        DTConfig(
            dataset=str(smoke_dataset),
            steps=30,
            context=5,
            embed_dim=16,
            n_layers=1,
            n_heads=2,
            dropout=0.0,
            batch_size=16,
            warmup_steps=5,
            log_every=10,
        )
    ).save(folder / "dt.pt")
    from stable_baselines3 import PPO

    sb3 = PPO(
        "MultiInputPolicy", suite_agent_env(SUITE), n_steps=64, batch_size=64, n_epochs=1, seed=0
    )
    sb3.learn(64)
    sb3.save(folder / "sb3.zip")
    from stable_baselines3 import SAC

    sac = SAC(
        "MultiInputPolicy",
        suite_agent_env(SUITE),
        learning_starts=10,
        buffer_size=1000,
        seed=0,
        policy_kwargs={"net_arch": [32, 32]},
    )
    sac.learn(30)
    sac.save(folder / "sac.zip")
    return {
        "bc": student_path("smoke_student"),
        "ppo": ppo,
        "dt": dt,
        "sb3": folder / "sb3.zip",
        "sac": folder / "sac.zip",
    }


def exported(models, kind, fmt, folder):
    env = suite_agent_env(SUITE)
    original = load_original(models[kind], lambda _: env)
    metadata = policy_metadata(env.observation_space, env.action_space, suite=SUITE)
    out = folder / f"{kind}.{'onnx' if fmt == 'onnx' else 'ts'}"
    export_policy(original, env, fmt, out, metadata)
    return original, env, out


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("kind", ["bc", "ppo", "dt", "sb3", "sac"])
def test_exported_actions_equal_the_originals_on_1000_observations(models, kind, fmt, tmp_path):
    original, env, out = exported(models, kind, fmt, tmp_path)
    assert verify_export(original, out, fmt, env, observations=1000) <= TOLERANCE


def test_the_dt_export_carries_its_context_as_recurrent_state(models, tmp_path):
    import onnx

    _, _, out = exported(models, "dt", "onnx", tmp_path)
    inputs = [value.name for value in onnx.load(str(out)).graph.input]
    assert {"state_in.states", "state_in.returns", "state_in.actions", "state_in.step"} <= set(
        inputs
    )


def bench_once(spec, out_dir, isolation="process"):
    """Bench ``spec`` on the paused track: one episode per task, seed 0, one worker."""
    config = RunConfig(
        suite=SUITE,
        suite_hash=get_suite(SUITE).hash,
        track="paused",
        agent=resolve_spec(spec),
        budget_ms=None,
        clock=None,
        timeout_s=120.0,
        isolation=isolation,
    )
    return bench(config, agent_spec=spec, episodes=1, seeds=[0], workers=1, out_dir=out_dir)


def episodes(results):
    return {
        (e["task_id"], e["seed"], e["episode"]): (e["success"], e["return"])
        for e in results["episodes"]
    }


@pytest.mark.parametrize(
    "kind",
    [
        "bc",
        pytest.param("ppo", marks=pytest.mark.slow),
        pytest.param("sb3", marks=pytest.mark.slow),
    ],
)
def test_benching_the_export_plays_the_same_episodes(models, kind, tmp_path):
    """Paused track, same seeds: the same tasks and outcomes; returns to 5%.

    Returns are not bit-identical: onnxruntime's and torch's matrix products round
    differently (about 1e-7), and 150 periods of contact dynamics carry that along: on
    this machine some episodes' returns differ by up to 0.9%, others by 1e-6.

    Both agents act in the harness's worker (isolation ``in-process``): what is compared
    is their actions, which an agent process would only pass on.
    """
    _, _, out = exported(models, kind, "onnx", tmp_path)
    results = {
        name: bench_once(spec, tmp_path / name, isolation="in-process")
        for name, spec in (("original", str(models[kind])), ("export", str(out)))
    }
    original, export = episodes(results["original"]), episodes(results["export"])
    assert original.keys() == export.keys() and len(original) == 3
    for key, (success, episode_return) in original.items():
        assert export[key][0] == success, key
        assert export[key][1] == pytest.approx(episode_return, rel=0.05, abs=0.1), key
    assert results["export"]["agent"]["name"] == out.name


def test_portia_export_writes_checks_and_reports(models, tmp_path):
    out = tmp_path / "student.onnx"
    result = CliRunner().invoke(
        app, ["export", str(models["bc"]), "--out", str(out), "--verify", "200"]
    )
    assert result.exit_code == 0, result.output
    assert "largest |action difference|" in result.output and out.is_file()
    import onnx

    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props["portia.suite"] == SUITE
    assert json.loads(props["portia.observation_keys"]) == [
        "achieved_goal",
        "desired_goal",
        "observation",
        "task",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "tflite"], "tflite"),
        (["--suite", "smoke-v9"], "smoke-v9"),
    ],
)
def test_portia_export_refuses_bad_options_in_one_line(models, tmp_path, args, message):
    result = CliRunner().invoke(
        app, ["export", str(models["bc"]), "--out", str(tmp_path / "x.onnx"), *args]
    )
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_an_sb3_model_needs_its_suite_and_an_onnx_file_is_not_re_exported(models, tmp_path):
    result = CliRunner().invoke(app, ["export", str(models["sb3"]), "--out", str(tmp_path / "x")])
    assert result.exit_code == 3 and "--suite" in result.output
    _, env, out = exported(models, "bc", "onnx", tmp_path)
    with pytest.raises(ExportError, match="already onnx"):
        load_original(out, lambda _: env)


def test_exported_policies_act_in_the_action_space(models, tmp_path):
    original, env, out = exported(models, "ppo", "onnx", tmp_path)
    from portia_envs.harness.model_agents import build_model_agent

    agent = build_model_agent(out, "onnx", env)
    observation, _ = env.reset(seed=3)
    action = agent.act(observation)
    assert action.dtype == np.float32 and env.action_space.contains(action)


def test_a_dt_checkpoint_and_its_recurrent_export_are_scored_end_to_end(models, tmp_path):
    """The export in an agent process of its own, as a leaderboard's worker runs it.

    The checkpoint acts in the harness's worker: test_dt.py benches a DT checkpoint in an
    agent process.
    """
    _, _, out = exported(models, "dt", "onnx", tmp_path)
    runs = (("checkpoint", str(models["dt"]), "in-process"), ("export", str(out), "process"))
    for name, spec, isolation in runs:
        results = bench_once(spec, tmp_path / name, isolation)
        assert results["isolation"] == isolation, name
        assert [e["status"] for e in results["episodes"]] == ["ok"] * 3, name
        assert results["agent"]["name"] == Path(spec).name
