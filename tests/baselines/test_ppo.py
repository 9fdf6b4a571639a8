import dataclasses

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import portia_envs  # noqa: F401  (registers the ids)
from baselines import ppo
from baselines.ppo import (
    MODEL_VARIABLE,
    PPOConfig,
    PPOConfigError,
    PPOModelError,
    PPOPolicy,
    RunningNormalizer,
    clipped_policy_loss,
    clipped_value_loss,
    compute_gae,
    feature_size,
    final_features,
    make_agent,
    observation_features,
    train,
)
from portia_envs.errors import UnknownSuiteError
from portia_envs.results import validate_results
from tests.portia_envs.harness.harness_runs import run
from wrappers.time_pause import TimePause

# Two rollouts of 2 envs x 128 steps, one pass of 4 minibatches: seconds, for the mechanics.
TINY = PPOConfig(total_steps=512, num_envs=2, num_steps=128, epochs=1, minibatches=4, threads=1)


@pytest.fixture(scope="module")
def tiny_policy():
    torch.set_num_threads(1)
    return train(TINY)


@pytest.fixture(scope="module")
def tiny_model(tiny_policy, tmp_path_factory):
    return tiny_policy.save(tmp_path_factory.mktemp("ppo") / "tiny.pt")


def observations(split="train", seed=0, n=4):
    env = gymnasium.make("Portia/Arm-v0", suite="smoke-v0", split=split)
    return [env.reset(seed=seed + i)[0] for i in range(n)]


# --- The maths -------------------------------------------------------------------------


def test_gae_by_hand_truncation_bootstraps_termination_does_not():
    # gamma = lam = 0.5, so advantages carry with gamma * lam = 0.25. Two envs, 3 steps.
    # Env 0: step 0 is truncated (time limit): it bootstraps from its final observation's
    # value, 4 (not from the next episode's first, 1), and nothing carries back over it;
    # step 2 terminates: no bootstrap (its next value 8 is ignored).
    #   delta_2 = 3 - 2 = 1                      A_2 = 1
    #   delta_1 = 2 + 0.5 * 2 - 1 = 2            A_1 = 2 + 0.25 * 1 = 2.25
    #   delta_0 = 1 + 0.5 * 4 - 0.5 = 2.5        A_0 = 2.5 (the episode ended at step 0)
    # Env 1: no episode ends; the last step bootstraps from its next value, 8.
    #   delta_2 = 3 + 0.5 * 8 - 2 = 5            A_2 = 5
    #   delta_1 = 2 + 0.5 * 2 - 1 = 2            A_1 = 2 + 0.25 * 5 = 3.25
    #   delta_0 = 1 + 0.5 * 1 - 0.5 = 1          A_0 = 1 + 0.25 * 3.25 = 1.8125
    # Returns are advantages plus values.
    rewards = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    values = np.array([[0.5, 0.5], [1.0, 1.0], [2.0, 2.0]])
    next_values = np.array([[4.0, 1.0], [2.0, 2.0], [8.0, 8.0]])
    terminated = np.array([[False, False], [False, False], [True, False]])
    truncated = np.array([[True, False], [False, False], [False, False]])
    advantages, returns = compute_gae(
        rewards, values, terminated, truncated, next_values, gamma=0.5, lam=0.5
    )
    np.testing.assert_allclose(advantages, [[2.5, 1.8125], [2.25, 3.25], [1.0, 5.0]])
    np.testing.assert_allclose(returns, [[3.0, 2.3125], [3.25, 4.25], [3.0, 7.0]])


def test_gae_with_lambda_one_is_the_discounted_return_minus_the_value():
    rewards = np.array([[1.0], [1.0], [1.0]])
    values = np.array([[0.3], [0.2], [0.1]])
    next_values = np.array([[0.2], [0.1], [0.0]])  # the next step's, and 0 after the last
    no = np.zeros((3, 1), dtype=bool)
    advantages, returns = compute_gae(rewards, values, no, no, next_values, 0.9, 1.0)
    np.testing.assert_allclose(returns[:, 0], [1 + 0.9 + 0.81, 1 + 0.9, 1.0])
    np.testing.assert_allclose(advantages, returns - values)


def test_gae_rejects_arrays_of_different_shapes():
    with pytest.raises(ValueError, match=r"\(T, N\) arrays of one shape"):
        compute_gae(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 1)),
                    np.zeros((3, 2)), 0.99, 0.95)  # fmt: skip


def test_policy_loss_by_hand_inside_and_outside_the_clip_range():
    # clip 0.2. Ratios (old log-probs 0) and advantages, and each term min(r A, clip(r) A):
    #   r 1.1, A +1: inside the range             1.1
    #   r 1.5, A +1: clipped to 1.2               1.2  (no gradient)
    #   r 0.5, A -1: clipped to 0.8               -0.8 (no gradient)
    #   r 0.5, A +1: the unclipped term is lower  0.5
    # loss = -(1.1 + 1.2 - 0.8 + 0.5) / 4 = -0.5; d loss / d log_prob = -r A / 4 where not
    # clipped: -0.275 and -0.125.
    log_prob = torch.log(torch.tensor([1.1, 1.5, 0.5, 0.5])).requires_grad_()
    advantages = torch.tensor([1.0, 1.0, -1.0, 1.0])
    loss = clipped_policy_loss(log_prob, torch.zeros(4), advantages, clip=0.2)
    assert loss.item() == pytest.approx(-0.5)
    loss.backward()
    np.testing.assert_allclose(log_prob.grad.numpy(), [-0.275, 0.0, 0.0, -0.125], rtol=1e-6)


def test_policy_loss_is_the_plain_surrogate_when_nothing_is_clipped():
    log_prob = torch.tensor([0.05, -0.1])
    old = torch.tensor([0.0, 0.0])
    advantages = torch.tensor([2.0, -1.0])
    expected = -(np.exp(0.05) * 2.0 - np.exp(-0.1)) / 2
    assert clipped_policy_loss(log_prob, old, advantages, 0.2).item() == pytest.approx(expected)


def test_value_loss_by_hand_inside_and_outside_the_clip_range():
    returns = torch.zeros(2)
    old = torch.tensor([2.0, 2.0])
    # Outside (clip 0.5): values 1 and 3 move to 1.5 and 2.5; the larger squared error of
    # each pair: max(1, 2.25) = 2.25 and max(9, 6.25) = 9; 0.5 * mean = 2.8125.
    outside = torch.tensor([1.0, 3.0])
    assert clipped_value_loss(outside, returns, old, 0.5).item() == pytest.approx(2.8125)
    # Unclipped: 0.5 * mean(1, 9) = 2.5.
    assert clipped_value_loss(outside, returns).item() == pytest.approx(2.5)
    # Inside the range the clip changes nothing: 0.5 * mean(1.8^2, 2.3^2) = 2.1325.
    inside = torch.tensor([1.8, 2.3])
    assert clipped_value_loss(inside, returns, old, 0.5).item() == pytest.approx(2.1325)
    assert clipped_value_loss(inside, returns).item() == pytest.approx(2.1325)
    with pytest.raises(ValueError, match="needs old_values"):
        clipped_value_loss(inside, returns, None, 0.5)


# --- Features, normalizer, autoreset -----------------------------------------------------


def test_features_are_the_observation_goals_their_difference_and_the_task():
    observation = observations(n=1)[0]
    features = observation_features(observation)
    goal, achieved = observation["desired_goal"], observation["achieved_goal"]
    expected = np.concatenate(
        [observation["observation"], goal, achieved, goal - achieved, observation["task"]]
    )
    np.testing.assert_allclose(features, expected.astype(np.float32))
    env = gymnasium.make("Portia/Arm-v0", suite="smoke-v0")
    assert features.shape == (feature_size(env.observation_space),) == (70,)
    batch = {key: np.stack([value, value]) for key, value in observation.items()}
    np.testing.assert_array_equal(observation_features(batch), [features, features])


def test_features_name_a_missing_key():
    observation = dict(observations(n=1)[0])
    del observation["task"]
    with pytest.raises(PPOModelError, match="has no task"):
        observation_features(observation)


def test_the_normalizer_keeps_the_moments_of_everything_it_saw():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 4)) for n in (5, 1, 17)]
    normalizer = RunningNormalizer(4)
    for batch in batches:
        normalizer.update(batch)
    seen = np.concatenate(batches)
    np.testing.assert_allclose(normalizer.mean.numpy(), seen.mean(0), rtol=1e-4)
    np.testing.assert_allclose(normalizer.var.numpy(), seen.var(0), rtol=1e-4)
    z = normalizer(torch.as_tensor(seen)).numpy()
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-3)
    assert normalizer(torch.full((1, 4), 1e6)).max().item() == ppo.OBS_CLIP


def test_bootstrap_features_are_the_final_observation_not_the_next_episodes_first():
    envs = SyncVectorEnv(
        [lambda: gymnasium.make("Portia/Arm-v0", suite="smoke-v0", max_episode_steps=2)] * 2,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    envs.reset(seed=0)
    action = np.zeros((2, 7), dtype=np.float32)
    for _ in range(2):
        observation, _, terminated, truncated, info = envs.step(action)
    assert truncated.all() and not terminated.any()
    ended = np.array([True, False])  # pretend only env 0 ended, to see both cases
    features = final_features(observation, info, ended)
    np.testing.assert_array_equal(features[0], observation_features(info["final_obs"][0]))
    assert not np.array_equal(features[0], observation_features(observation)[0])
    np.testing.assert_array_equal(features[1], observation_features(observation)[1])
    envs.close()


# --- Config and training -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("num_envs", 0, "num_envs must be >= 1"),
        ("gamma", 1.5, r"gamma must be in \[0, 1\]"),
        ("clip_coef", 0.0, "clip_coef must be > 0"),
        ("value_clip_coef", -1.0, "value_clip_coef must be > 0 or None"),
        ("hidden_sizes", (), "hidden_sizes must be widths"),
        ("minibatches", 10_000, "cannot make 10000 minibatches"),
        ("split", "test", "unknown split 'test'; accepted: train, heldout"),
        ("env_threads", 0, "env_threads must be >= 1 or None"),
        ("vectorization", "ray", "unknown vectorization 'ray'; accepted: vector_entry_point"),
    ],
)
def test_bad_settings_are_refused(field, value, message):
    with pytest.raises(PPOConfigError, match=message):
        PPOConfig(**{field: value})


def test_an_unknown_suite_is_refused_with_the_known_ones():
    with pytest.raises(UnknownSuiteError, match="smoke-v0"):
        PPOConfig(suite="smoke-v9")


def test_a_tiny_run_records_its_env_steps_and_curve(tiny_policy, tmp_path):
    assert tiny_policy.env_steps == TINY.total_steps == 512
    assert TINY.updates == 2
    curve = tiny_policy.curve
    # 150-step episodes: each env finishes one in its 256 steps, when both envs together
    # have taken 2 x 150 steps.
    assert curve.env_steps == [300, 300]
    assert set(curve.task_ids) <= {"reach-centre", "push-centre"}
    assert all(r < 0 for r in curve.returns)
    png = curve.plot(tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "512 env steps" in ppo.summary(tiny_policy)


def test_training_is_reproducible_from_the_seed():
    config = dataclasses.replace(TINY, total_steps=256, num_steps=128)
    first, second = train(config), train(config)
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert first.curve.returns == second.curve.returns


def test_the_batched_vector_env_trains_exactly_as_gymnasiums_sync_vector_env():
    config = dataclasses.replace(TINY, total_steps=512, num_steps=128)
    assert config.vectorization == "vector_entry_point"
    batched = train(dataclasses.replace(config, env_threads=2))
    sync = train(dataclasses.replace(config, vectorization="sync"))
    for a, b in zip(batched.model.parameters(), sync.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert batched.curve.returns == sync.curve.returns
    assert batched.curve.env_steps == sync.curve.env_steps


def test_checkpoints_hold_the_policy_as_it_was_at_their_env_steps(tmp_path):
    paths = {1: tmp_path / "first.pt", 256: tmp_path / "also-first.pt", 10**6: tmp_path / "no.pt"}
    final = train(TINY, checkpoints=paths)
    # One update of the same run: the first update's step size does not depend on the total.
    one_update = train(dataclasses.replace(TINY, total_steps=256))
    early = PPOPolicy.load(paths[256])
    assert early.env_steps == PPOPolicy.load(paths[1]).env_steps == 256
    assert early.curve == one_update.curve
    assert not paths[10**6].exists()
    for a, b in zip(early.model.parameters(), one_update.model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    pairs = zip(early.model.parameters(), final.model.parameters(), strict=True)
    assert any(not torch.equal(a, b) for a, b in pairs)


def test_a_checkpoint_before_any_step_is_refused(tmp_path):
    with pytest.raises(PPOConfigError, match="checkpoint env steps must be >= 1, got 0"):
        train(TINY, checkpoints={0: tmp_path / "ppo.pt"})


# --- The policy: predict, act, save, load ------------------------------------------------


def test_save_and_load_give_identical_actions(tiny_policy, tiny_model):
    loaded = PPOPolicy.load(tiny_model)
    assert loaded.config == tiny_policy.config
    assert loaded.env_steps == tiny_policy.env_steps
    assert loaded.curve == tiny_policy.curve
    for observation in observations("heldout"):
        np.testing.assert_array_equal(loaded.act(observation), tiny_policy.act(observation))
    batch = {key: np.stack([o[key] for o in observations()]) for key in observations()[0]}
    action, state = loaded.predict(batch, deterministic=True)
    assert state is None and action.shape == (4, 7) and action.dtype == np.float32
    np.testing.assert_array_equal(action, tiny_policy.predict(batch)[0])
    # One observation or a batch: the same action, up to float32 rounding of the matmul.
    np.testing.assert_allclose(action[0], tiny_policy.act(observations()[0]), atol=1e-6)


def test_actions_are_in_the_action_space(tiny_policy):
    env = gymnasium.make("Portia/Arm-v0", suite="smoke-v0")
    for observation in observations():
        assert env.action_space.contains(tiny_policy.act(observation))
        sampled, _ = tiny_policy.predict(observation, deterministic=False)
        assert env.action_space.contains(sampled)


def test_a_model_file_is_loaded_without_running_code(tiny_model, monkeypatch):
    calls = []
    original = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    PPOPolicy.load(tiny_model)
    assert calls == [True]


def test_missing_and_foreign_model_files_are_refused(tmp_path):
    with pytest.raises(PPOModelError, match="no PPO model at .*portia train ppo"):
        PPOPolicy.load(tmp_path / "none.pt")
    torch.save({"format": "something-else/9"}, tmp_path / "other.pt")
    with pytest.raises(PPOModelError, match="is not a PPO model: it is no Portia checkpoint"):
        PPOPolicy.load(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(PPOModelError, match="is not a PPO model: torch does not read it"):
        PPOPolicy.load(tmp_path / "junk.pt")


def test_a_damaged_model_file_is_refused(tiny_model, tmp_path):
    checkpoint = torch.load(tiny_model, weights_only=True)
    del checkpoint["content"]["model"]["critic.0.weight"]
    torch.save(checkpoint, tmp_path / "damaged.pt")
    with pytest.raises(PPOModelError, match="damaged PPO model"):
        PPOPolicy.load(tmp_path / "damaged.pt")


# --- The harness -------------------------------------------------------------------------


def test_make_agent_needs_the_model_variable(monkeypatch):
    monkeypatch.delenv(MODEL_VARIABLE, raising=False)
    env = TimePause(gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task="reach-centre"))
    with pytest.raises(PPOModelError, match=f"set {MODEL_VARIABLE}"):
        make_agent(env)
    monkeypatch.setenv(MODEL_VARIABLE, "/nonexistent/ppo.pt")
    with pytest.raises(PPOModelError, match="no PPO model at /nonexistent/ppo.pt"):
        make_agent(env)


def test_make_agent_gives_an_agent_for_the_suite_and_refuses_another_body(tiny_model, monkeypatch):
    monkeypatch.setenv(MODEL_VARIABLE, str(tiny_model))
    env = TimePause(gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task="reach-centre"))
    agent = make_agent(env)
    agent.reset()
    observation, _ = env.reset(seed=0)
    assert env.action_space.contains(agent.act(observation))
    with pytest.raises(PPOModelError, match="takes 70 features, this env's observations give 66"):
        make_agent(gymnasium.make("Portia/Arm-v0", body="arm4"))


def test_portia_bench_scores_the_ppo_agent(tiny_model, monkeypatch, tmp_path):
    monkeypatch.setenv(MODEL_VARIABLE, str(tiny_model))
    results = run(tmp_path, "baselines.ppo:make_agent", episodes=1)
    assert [r["status"] for r in results["episodes"]] == ["ok"] * 3
    assert results["agent"]["name"] == "make_agent"
    validate_results(results)


# --- Command lines -----------------------------------------------------------------------


def test_portia_train_ppo_trains_saves_and_plots(tmp_path):
    from typer.testing import CliRunner

    from portia_envs.cli import app

    out = tmp_path / "models" / "tiny.pt"
    arguments = ["train", "ppo", "--out", str(out), "--total-steps", "256", "--num-envs", "2"]
    tiny = ["--num-steps", "128", "--epochs", "1", "--minibatches", "2", "--threads", "1"]
    result = CliRunner().invoke(app, [*arguments, *tiny])
    assert result.exit_code == 0, result.output
    assert PPOPolicy.load(out).env_steps == 256
    assert (tmp_path / "models" / "tiny-curve.png").is_file()


def test_portia_train_ppo_reports_bad_values():
    from typer.testing import CliRunner

    from portia_envs.cli import app

    result = CliRunner().invoke(app, ["train", "ppo", "--out", "x.pt", "--num-envs", "0"])
    assert result.exit_code != 0
    assert "num_envs must be >= 1" in result.output


# --- Learning ----------------------------------------------------------------------------


@pytest.mark.slow
def test_ppo_beats_random_on_smoke_v0_by_more_than_the_intervals(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    policy = train(PPOConfig(threads=1))
    model = policy.save(tmp_path / "ppo.pt")
    monkeypatch.setenv(MODEL_VARIABLE, str(model))
    trained = run(tmp_path / "ppo", "baselines.ppo:make_agent", episodes=10)
    random = run(tmp_path / "random", "random", episodes=10)
    ours, theirs = (r["scores"]["splits"]["train"]["iqm"] for r in (trained, random))
    assert ours["low"] > theirs["high"], (ours, theirs)
