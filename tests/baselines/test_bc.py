import json

import gymnasium
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("minari")

import portia_envs  # noqa: E402, F401  (registers the ids)
from baselines import bc  # noqa: E402
from baselines.bc import (  # noqa: E402
    BCConfig,
    BCConfigError,
    BCModelError,
    BCPolicy,
    bc_loss,
    features,
    train,
)
from baselines.features import ObservationError  # noqa: E402
from portia_envs.datasets import DatasetError, collect  # noqa: E402
from portia_envs.harness.agents import build_agent  # noqa: E402
from wrappers.time_pause import TimePause  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")
# Small enough to train in a second on one core.
TINY = {"hidden_sizes": (32, 32), "epochs": 3, "batch_size": 64, "validation_fraction": 0.25}


@pytest.fixture(scope="module")
def policy(smoke_dataset):
    return train(BCConfig(dataset=str(smoke_dataset), **TINY))


@pytest.fixture
def arm_env():
    env = TimePause(gymnasium.make("Portia/Arm-v0", suite="smoke-v0", split="train"))
    yield env
    env.close()


def observation_of(env, seed=0):
    observation, _ = env.reset(seed=seed)
    return observation


def test_bc_loss_is_the_mean_squared_error_worked_by_hand():
    predicted = torch.tensor([[0.0, 0.5], [1.0, -1.0]])
    target = torch.tensor([[1.0, 0.5], [1.0, 0.0]])
    # Squared errors 1, 0, 0, 1: their mean is 0.5.
    assert bc_loss(predicted, target).item() == pytest.approx(0.5)
    assert bc_loss(target, target).item() == 0.0


def test_bc_loss_gradient_points_at_the_target():
    predicted = torch.tensor([[0.0, 0.5]], requires_grad=True)
    bc_loss(predicted, torch.tensor([[1.0, 0.5]])).backward()
    # d/dp mean((p - t)^2) = 2 (p - t) / n with n = 2.
    assert predicted.grad.tolist() == [[-1.0, 0.0]]


def test_bc_loss_refuses_shapes_that_differ():
    with pytest.raises(ValueError, match=r"same shape, got \(2, 7\) and \(2, 5\)"):
        bc_loss(torch.zeros(2, 7), torch.zeros(2, 5))


def test_features_are_observation_goals_their_difference_and_task(arm_env):
    observation = observation_of(arm_env)
    x = features(observation)
    assert x.shape == (55 + 3 + 3 + 3 + 6,) and x.dtype == np.float32
    goal, achieved = observation["desired_goal"], observation["achieved_goal"]
    np.testing.assert_allclose(x[55:58], goal, rtol=1e-6)
    np.testing.assert_allclose(x[58:61], achieved, rtol=1e-6)
    np.testing.assert_allclose(x[61:64], goal - achieved, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(x[64:], observation["task"])


def test_features_change_with_the_goal_and_the_task(arm_env):
    observation = observation_of(arm_env)
    moved = {**observation, "desired_goal": observation["desired_goal"] + 0.1}
    other_task = {**observation, "task": np.roll(observation["task"], 1)}
    x = features(observation)
    assert not np.array_equal(features(moved), x)
    assert not np.array_equal(features(other_task), x)
    np.testing.assert_array_equal(features(moved)[:55], x[:55])


def test_features_take_a_batch(arm_env):
    observations = [observation_of(arm_env, seed) for seed in range(3)]
    batch = {key: np.stack([o[key] for o in observations]) for key in observations[0]}
    np.testing.assert_array_equal(features(batch), np.stack([features(o) for o in observations]))


@pytest.mark.parametrize(
    ("observation", "message"),
    [
        (np.zeros(55), "a Dict observation is needed"),
        (
            {"observation": np.zeros(55), "desired_goal": np.zeros(3)},
            "a Dict observation is needed",
        ),
        (
            {"observation": np.zeros((2, 55)), "desired_goal": np.zeros(3), "achieved_goal": 0},
            "same leading axes",
        ),
    ],
)
def test_features_refuse_observations_without_goals(observation, message):
    with pytest.raises(ObservationError, match=message):
        features(observation)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hidden_sizes", (), "hidden_sizes must be a tuple of integers >= 1"),
        ("hidden_sizes", (64, 0), "hidden_sizes must be a tuple of integers >= 1"),
        ("learning_rate", 0.0, "learning_rate must be a finite number > 0"),
        ("batch_size", 0, "batch_size must be an integer >= 1"),
        ("epochs", 2.5, "epochs must be an integer >= 1"),
        ("weight_decay", -1.0, "weight_decay must be a finite number >= 0"),
        ("validation_fraction", 1.0, r"validation_fraction must be a finite number in \[0, 1\)"),
        ("seed", None, "seed must be an integer"),
    ],
)
def test_config_refuses_values_out_of_range(field, value, message):
    with pytest.raises(BCConfigError, match=message):
        BCConfig(dataset="data", **{field: value})


def test_training_on_a_tiny_dataset_reduces_the_loss(smoke_dataset):
    reports = []
    policy = train(
        BCConfig(dataset=str(smoke_dataset), **TINY),
        on_progress=lambda done, total, metrics: reports.append((done, total, dict(metrics))),
    )
    assert [done for done, _, _ in reports] == [0, 1, 2, 3]
    assert all(total == 3 for _, total, _ in reports)
    assert [entry["epoch"] for entry in policy.history] == [0, 1, 2, 3]
    first, last = policy.history[0], policy.history[-1]
    assert last["train_loss"] < 0.5 * first["train_loss"]
    assert np.isfinite(last["validation_loss"])
    # 4 episodes of 150 steps, one held out.
    assert policy.data["episodes"] == 4 and policy.data["validation_episodes"] == 1
    assert policy.data["steps"] == 600


def test_training_is_repeatable_with_a_seed(smoke_dataset, policy):
    again = train(BCConfig(dataset=str(smoke_dataset), **TINY))
    for name, tensor in policy.network.state_dict().items():
        torch.testing.assert_close(again.network.state_dict()[name], tensor, rtol=0, atol=0)


def test_training_without_validation_reports_nan(smoke_dataset):
    config = BCConfig(
        dataset=str(smoke_dataset), **{**TINY, "epochs": 1, "validation_fraction": 0.0}
    )
    policy = train(config)
    assert policy.data["validation_episodes"] == 0
    assert np.isnan(policy.history[-1]["validation_loss"])


def test_training_refuses_a_missing_dataset(tmp_path):
    with pytest.raises(DatasetError, match="no dataset at"):
        train(BCConfig(dataset=str(tmp_path / "nowhere")))


def test_actions_are_bounded_and_predict_matches_act(policy, arm_env):
    observations = [observation_of(arm_env, seed) for seed in range(4)]
    actions = np.stack([policy.act(o) for o in observations])
    assert actions.shape == (4, 7) and actions.dtype == np.float32
    assert np.all(np.abs(actions) <= 1.0)
    batch = {key: np.stack([o[key] for o in observations]) for key in observations[0]}
    predicted, state = policy.predict(batch, deterministic=True)
    assert state is None
    np.testing.assert_allclose(predicted, actions, rtol=1e-6, atol=1e-7)
    single, _ = policy.predict(observations[0])
    np.testing.assert_array_equal(single, actions[0])


def test_save_and_load_give_identical_actions(policy, arm_env, tmp_path):
    path = tmp_path / "bc.pt"
    policy.save(path)
    loaded = BCPolicy.load(path, env=arm_env)
    for seed in range(3):
        observation = observation_of(arm_env, seed)
        np.testing.assert_array_equal(loaded.act(observation), policy.act(observation))
    assert loaded.config == policy.config and loaded.history == policy.history
    assert loaded.data == policy.data
    assert path.stat().st_size < 100_000  # 32x32 hidden units


def test_a_saved_model_holds_only_tensors_and_plain_values(policy, tmp_path):
    path = tmp_path / "bc.pt"
    policy.save(path)
    saved = torch.load(path, weights_only=True)
    assert (saved["format"], saved["kind"]) == ("portia-checkpoint", "bc")
    content = saved["content"]
    assert content["config"]["hidden_sizes"] == [32, 32]
    json.dumps({key: value for key, value in content.items() if key != "state_dict"})


def test_load_refuses_a_missing_file_another_file_and_a_tampered_model(policy, tmp_path):
    with pytest.raises(BCModelError, match="no BC model at"):
        BCPolicy.load(tmp_path / "missing.pt")
    (tmp_path / "notes.pt").write_text("not a model")
    with pytest.raises(BCModelError, match="is not a BC model: torch does not read it"):
        BCPolicy.load(tmp_path / "notes.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(BCModelError, match="is not a BC model: it is no Portia checkpoint"):
        BCPolicy.load(tmp_path / "other.pt")
    policy.save(tmp_path / "bc.pt")
    saved = torch.load(tmp_path / "bc.pt", weights_only=True)
    saved["content"]["state_dict"].pop("mlp.0.weight")
    torch.save(saved, tmp_path / "tampered.pt")
    with pytest.raises(BCModelError, match="is a damaged BC model"):
        BCPolicy.load(tmp_path / "tampered.pt")
    torch.save({**saved, "version": 99}, tmp_path / "future.pt")
    with pytest.raises(BCModelError, match="checkpoint version 99; this Portia reads version 1"):
        BCPolicy.load(tmp_path / "future.pt")


def test_load_refuses_an_env_of_another_body(policy, tmp_path):
    policy.save(tmp_path / "bc.pt")
    with gymnasium.make("Portia/Arm4Reach-v0") as env:
        with pytest.raises(BCModelError, match="acts with 7 numbers"):
            BCPolicy.load(tmp_path / "bc.pt", env=env)
    with gymnasium.make("Portia/SpiderPrey-v0") as env:
        with pytest.raises(BCModelError, match="acts with 7 numbers"):
            BCPolicy.load(tmp_path / "bc.pt", env=env)


def test_make_agent_reads_the_model_path_from_the_environment(policy, arm_env, tmp_path):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(bc.MODEL_VARIABLE, raising=False)
        with pytest.raises(BCModelError, match="set PORTIA_BC_MODEL to the path of a BC model"):
            build_agent("baselines.bc:make_agent", arm_env)
        patch.setenv(bc.MODEL_VARIABLE, str(tmp_path / "missing.pt"))
        with pytest.raises(BCModelError, match="no BC model at"):
            build_agent("baselines.bc:make_agent", arm_env)
        policy.save(tmp_path / "bc.pt")
        patch.setenv(bc.MODEL_VARIABLE, str(tmp_path / "bc.pt"))
        agent = build_agent("baselines.bc:make_agent", arm_env)
    observation = observation_of(arm_env)
    np.testing.assert_array_equal(agent.act(observation), policy.act(observation))


def test_a_file_agent_may_load_a_model(policy, arm_env, tmp_path):
    policy.save(tmp_path / "bc.pt")
    agent_file = tmp_path / "my_agent.py"
    agent_file.write_text(
        "from baselines.bc import BCPolicy\n\n\n"
        "def make_agent(env):\n"
        f"    return BCPolicy.load({str(tmp_path / 'bc.pt')!r}, env=env)\n"
    )
    agent = build_agent(str(agent_file), arm_env)
    assert isinstance(agent, BCPolicy)


@pytest.mark.parametrize("name", sorted(bc.STUDENTS))
def test_shipped_students_are_small_and_act_through_the_harness(name, arm_env):
    path = bc.student_path(name)
    assert path.is_file() and path.stat().st_size < 400_000
    agent = build_agent(f"baselines.bc:{name}", arm_env)
    agent.reset()
    action = agent.act(observation_of(arm_env))
    assert arm_env.action_space.contains(action)
    suite, teacher = {
        "smoke_student": ("smoke-v0", "make_teacher"),
        "arm_reach_student": ("arm-reach-v0", "make_teacher"),
        "arm_gen_dagger_student": ("arm-gen-v0", "teacher"),
    }[name]
    assert agent.data["suite"] == suite and agent.data["split"] == "train"
    assert agent.data["agent"] == teacher


def test_portia_bench_scores_the_smoke_student(tmp_path):
    from typer.testing import CliRunner

    from portia_envs.cli import app

    out = tmp_path / "bench"
    result = CliRunner().invoke(
        app,
        [
            *("bench", "--agent", "baselines.bc:smoke_student", "--suite", "smoke-v0"),
            *("--episodes", "1", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert len(results["episodes"]) == 3
    assert all(record["status"] == "ok" for record in results["episodes"])
    assert results["agent"]["name"] == "smoke_student"
    # It beats the random agent on the same episodes (a short form of the slow test
    # below, on the shipped student): about 88 against -3. Random runs in-process, as
    # what is compared is its score, not its isolation.
    random = bench_random(results["run"]["episodes"], results["run"]["seeds"], tmp_path / "random")
    assert [r["task_id"] for r in random["episodes"]] == [r["task_id"] for r in results["episodes"]]
    student, chance = (r["scores"]["splits"]["train"]["iqm"]["value"] for r in (results, random))
    assert student > chance + 50, (student, chance)


def bench_random(episodes, seeds, out_dir):
    """Bench the random agent on smoke-v0's paused track, in the harness's own process."""
    from portia_envs.harness.agents import resolve_spec
    from portia_envs.harness.episode import RunConfig
    from portia_envs.harness.runner import bench
    from portia_envs.suites import get_suite

    suite = get_suite("smoke-v0")
    config = RunConfig(
        suite=suite.name,
        suite_hash=suite.hash,
        track="paused",
        agent=resolve_spec("random"),
        budget_ms=None,
        clock=None,
        timeout_s=600.0,
        isolation="in-process",
    )
    return bench(config, agent_spec="random", episodes=episodes, seeds=seeds, out_dir=out_dir)


@pytest.mark.slow  # a training run and two benches: run with -m slow
def test_a_short_training_run_beats_the_random_agent_on_smoke(tmp_path):
    from portia_envs.harness.agents import resolve_spec
    from portia_envs.harness.episode import RunConfig
    from portia_envs.harness.runner import bench
    from portia_envs.suites import get_suite

    collect("scripted", "smoke-v0", "train", 20, tmp_path / "data")
    policy = train(BCConfig(dataset=str(tmp_path / "data"), epochs=30))
    policy.save(tmp_path / "bc.pt")
    (tmp_path / "student.py").write_text(
        "from baselines.bc import BCPolicy\n\n\n"
        "def make_agent(env):\n"
        f"    return BCPolicy.load({str(tmp_path / 'bc.pt')!r}, env=env)\n"
    )
    suite = get_suite("smoke-v0")
    scores = {}
    for name, spec in {"student": str(tmp_path / "student.py"), "random": "random"}.items():
        config = RunConfig(
            suite=suite.name,
            suite_hash=suite.hash,
            track="paused",
            agent=resolve_spec(spec),
            budget_ms=None,
            clock=None,
            timeout_s=600.0,
        )
        results = bench(
            config, agent_spec=spec, episodes=5, seeds=[0], out_dir=tmp_path / f"bench-{name}"
        )
        scores[name] = results["scores"]["splits"]["train"]["iqm"]
    # The student's whole interval lies above the random agent's, and the margin between
    # the two IQMs is wider than the student's interval (about 43 against -3, CI 39-45).
    student, random = scores["student"], scores["random"]
    assert student["low"] > random["high"], scores
    assert student["value"] - random["value"] > student["high"] - student["low"], scores


def test_the_embodiment_descriptor_tells_two_bodies_apart():
    from portia_envs.harness.episode import suite_agent_env

    env = suite_agent_env("arm-bodies-v0")  # the first body behind the shared layout
    observation, _ = env.reset(seed=0)
    plain = features(observation)
    described = features(observation, embodiment=True)
    descriptor = np.asarray(observation["embodiment"], dtype=np.float32).reshape(-1)
    np.testing.assert_array_equal(described, np.concatenate([plain, descriptor]))
    batch = {key: np.stack([value, value]) for key, value in observation.items()}
    np.testing.assert_array_equal(features(batch, embodiment=True), np.stack([described] * 2))
    without = {key: value for key, value in observation.items() if key != "embodiment"}
    with pytest.raises(ObservationError, match="need the observation's 'embodiment' key"):
        features(without, embodiment=True)
    env.close()


def test_a_student_with_the_descriptor_reads_it_at_act_time(tmp_path):
    from portia_envs.harness.episode import suite_agent_env

    data = tmp_path / "bodies"
    collect("scripted", "arm-bodies-v0", "train", 2, data)
    policy = train(BCConfig(dataset=str(data), embodiment_descriptor=True, **TINY))
    env = suite_agent_env("arm-bodies-v0")
    observation, _ = env.reset(seed=0)
    size = features(observation, embodiment=True).shape[-1]
    assert policy.feature_size == size > features(observation).shape[-1]
    policy.save(tmp_path / "m.pt")
    loaded = BCPolicy.load(tmp_path / "m.pt", env=env)
    assert loaded.config.embodiment_descriptor
    np.testing.assert_array_equal(loaded.act(observation), policy.act(observation))
    env.close()
