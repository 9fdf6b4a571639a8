import dataclasses

import gymnasium
import numpy as np
import pytest
import torch

import portia_envs  # noqa: F401  (registers the ids)
from baselines.dt import (
    MODEL_VARIABLE,
    DecisionTransformer,
    DTConfig,
    DTError,
    DTPolicy,
    Trajectories,
    action_loss,
    attention_mask,
    causal_mask,
    encode_state,
    estimate_reward,
    learning_rate_factor,
    load_trajectories,
    make_agent,
    returns_to_go,
    sample_batch,
    train,
)
from portia_envs.datasets import collect
from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.episode import RunConfig
from portia_envs.harness.runner import bench
from portia_envs.suites import get_suite

# A model small enough to train in seconds on one thread.
pytestmark = pytest.mark.usefixtures("one_thread")
TINY = {
    "context": 5,
    "embed_dim": 16,
    "n_layers": 1,
    "n_heads": 2,
    "dropout": 0.0,
    "batch_size": 16,
    "warmup_steps": 10,
    "log_every": 10,
}


@pytest.fixture(scope="module")
def trained(smoke_dataset):
    """A tiny model trained on it, with its logged losses."""
    losses = []
    policy = train(
        DTConfig(dataset=str(smoke_dataset), steps=60, **TINY),
        on_progress=lambda step, total, metrics: losses.append((step, metrics["train_loss"])),
    )
    return policy, losses


@pytest.fixture(scope="module")
def model_path(trained, tmp_path_factory):
    return trained[0].save(tmp_path_factory.mktemp("dt-model") / "dt.pt")


def tiny_model(state_dim=4, action_dim=2, max_timestep=10, seed=0):
    torch.manual_seed(seed)
    model = DecisionTransformer(
        state_dim=state_dim,
        action_dim=action_dim,
        max_timestep=max_timestep,
        embed_dim=16,
        n_layers=2,
        n_heads=2,
        dropout=0.0,
        return_scale=10.0,
    )
    return model.eval()


def random_inputs(batch=2, context=4, state_dim=4, action_dim=2, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, context, generator=generator),
        torch.randn(batch, context, state_dim, generator=generator),
        torch.rand(batch, context, action_dim, generator=generator) * 2 - 1,
        torch.arange(context).repeat(batch, 1) + 3,
    )


def reach_env():
    return gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task="reach-centre")


# --- The maths ---------------------------------------------------------------------------


def test_returns_to_go_sums_the_rewards_from_each_step_to_the_end():
    # R_3 = 0.5, R_2 = 3 + 0.5, R_1 = -2 + 3.5, R_0 = 1 + 1.5
    np.testing.assert_allclose(returns_to_go([1.0, -2.0, 3.0, 0.5]), [2.5, 1.5, 3.5, 0.5])
    assert returns_to_go(np.array([-1.0])).tolist() == [-1.0]
    assert returns_to_go(np.zeros(0)).shape == (0,)


def test_returns_to_go_refuses_a_batch_or_nan():
    with pytest.raises(DTError, match=r"rewards must have shape \(T,\), got \(2, 2\)"):
        returns_to_go(np.zeros((2, 2)))
    with pytest.raises(DTError, match="rewards must be finite"):
        returns_to_go([0.0, float("nan")])


def test_causal_mask_lets_no_token_attend_to_a_later_one():
    mask = causal_mask(4)
    assert mask.shape == (4, 4) and mask.dtype == torch.bool
    expected = [
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [1, 1, 1, 0],
        [1, 1, 1, 1],
    ]
    assert mask.int().tolist() == expected


def test_attention_mask_hides_padding_and_the_future():
    # One window of two steps, the first padding: tokens R0 s0 a0 (padding) R1 s1 a1.
    mask = attention_mask(torch.tensor([[False, True]]))
    assert mask.shape == (1, 1, 6, 6)
    expected = [
        [1, 0, 0, 0, 0, 0],  # padding attends to itself only, so no row is empty
        [0, 1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0, 0],  # R1
        [0, 0, 0, 1, 1, 0],  # s1 sees R1 and itself, not a1
        [0, 0, 0, 1, 1, 1],  # a1
    ]
    assert mask[0, 0].int().tolist() == expected


def test_action_loss_is_the_mean_squared_error_over_real_steps():
    predicted = torch.tensor([[[0.0, 0.0], [1.0, 1.0]]])
    target = torch.tensor([[[5.0, 5.0], [0.0, 2.0]]])
    valid = torch.tensor([[False, True]])
    # Only the second step counts: ((1 - 0)^2 + (1 - 2)^2) / 2 = 1.
    assert action_loss(predicted, target, valid).item() == pytest.approx(1.0)


def test_learning_rate_warms_up_then_decays_to_zero():
    assert learning_rate_factor(0, 4, 10) == pytest.approx(0.25)
    assert learning_rate_factor(3, 4, 10) == pytest.approx(1.0)
    assert learning_rate_factor(4, 4, 10) == pytest.approx(1.0)
    assert learning_rate_factor(7, 4, 10) == pytest.approx(0.5)
    assert learning_rate_factor(10, 4, 10) == pytest.approx(0.0)


def test_estimate_reward_is_the_envs_distance_term():
    env = reach_env()
    env.reset(seed=3)
    observation, reward, *_, info = env.step(env.action_space.sample())
    assert estimate_reward(observation) == pytest.approx(info["reward_distance"], abs=1e-12)
    assert estimate_reward(observation) == pytest.approx(reward, abs=1e-12)  # reach: all of it
    env.close()


# --- The model ---------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["returns_to_go", "states", "actions"])
def test_a_later_token_does_not_change_an_earlier_prediction(part):
    model = tiny_model()
    inputs = random_inputs()
    index = {"returns_to_go": 0, "states": 1, "actions": 2}[part]
    with torch.no_grad():
        before = model(*inputs)
        for step in range(4):
            changed = [tensor.clone() for tensor in inputs]
            changed[index][:, step] += 1.0
            after = model(*changed)
            # Step t's action is predicted from s_t's token: R_t and s_t are seen, a_t is not.
            first_changed = step + 1 if part == "actions" else step
            torch.testing.assert_close(after[:, :first_changed], before[:, :first_changed])
            if first_changed < 4:
                assert not torch.allclose(after[:, first_changed:], before[:, first_changed:])


def test_padding_on_the_left_changes_no_prediction_of_a_real_step():
    model = tiny_model()
    returns, states, actions, timesteps = random_inputs(batch=1, context=2)
    with torch.no_grad():
        short = model(returns, states, actions, timesteps)
        # Two steps of garbage before the same two steps, masked as padding.
        garbage = random_inputs(batch=1, context=2, seed=7)
        padded = model(
            torch.cat((garbage[0] * 100, returns), dim=1),
            torch.cat((garbage[1] * 100, states), dim=1),
            torch.cat((garbage[2], actions), dim=1),
            torch.cat((torch.tensor([[0, 9]]), timesteps), dim=1),
            torch.tensor([[False, False, True, True]]),
        )
    torch.testing.assert_close(padded[:, 2:], short)
    assert torch.isfinite(padded).all()


def test_predicted_actions_are_in_the_action_range():
    model = tiny_model()
    returns, states, actions, timesteps = random_inputs()
    with torch.no_grad():
        predicted = model(returns * 1e3, states * 1e3, actions, timesteps * 100)
    assert predicted.shape == (2, 4, 2)
    assert predicted.abs().max() <= 1.0


# --- The data ----------------------------------------------------------------------------


def synthetic_trajectories():
    """Two episodes of 3 and 2 steps; state = [episode, step], action = 10 * state."""
    states = np.zeros((2, 3, 2), np.float32)
    for episode, length in enumerate((3, 2)):
        for step in range(length):
            states[episode, step] = (episode, step)
    return Trajectories(
        states=states,
        actions=states * 10,
        returns_to_go=states[..., 1] + 100,
        lengths=np.array([3, 2]),
        returns=np.array([-1.0, -2.0]),
        families=np.array([0, 1]),
        task_slice=slice(2, 2),
    )


def test_sample_batch_takes_left_padded_windows_that_end_at_a_step():
    data = synthetic_trajectories()
    batch = sample_batch(data, 200, 3, np.random.default_rng(0))
    seen = set()
    for i in range(200):
        valid = batch.valid[i].numpy()
        n = int(valid.sum())
        assert valid.tolist() == [False] * (3 - n) + [True] * n  # padding on the left
        episode, last = batch.states[i, -1].int().tolist()
        seen.add((episode, last))
        steps = list(range(last - n + 1, last + 1))
        assert steps[0] == 0 or n == 3  # a window is short only at the episode's start
        assert batch.timesteps[i, 3 - n :].tolist() == steps
        assert batch.states[i, 3 - n :, 1].tolist() == steps
        assert (batch.states[i, 3 - n :, 0] == episode).all()
        torch.testing.assert_close(batch.actions[i], batch.states[i] * 10)
        assert batch.returns_to_go[i, 3 - n :].tolist() == [s + 100.0 for s in steps]
        assert not batch.states[i, : 3 - n].any() and not batch.actions[i, : 3 - n].any()
    assert seen == {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)}  # every step ends some window


def test_load_trajectories_reads_states_actions_and_returns_to_go(smoke_dataset):
    data = load_trajectories(smoke_dataset)
    assert data.states.shape == (4, 150, 67) and data.actions.shape == (4, 150, 7)
    assert data.lengths.tolist() == [150] * 4
    assert data.families.tolist() == [0, 1, 0, 1]  # reach, push: round robin
    assert data.task_slice == slice(61, 67)
    np.testing.assert_allclose(data.returns_to_go[:, 0], data.returns, rtol=1e-6)


def test_encode_state_joins_the_keys_and_names_a_missing_one():
    observation = {
        "observation": np.arange(3.0),
        "achieved_goal": [3.0],
        "desired_goal": [4.0],
        "task": [0.0, 1.0],
    }
    assert encode_state(observation).tolist() == [0, 1, 2, 3, 4, 0, 1]
    with pytest.raises(DTError, match="the observation has no desired_goal, task"):
        encode_state({"observation": [0.0], "achieved_goal": [0.0]})


# --- Training, saving, acting --------------------------------------------------------------


def test_training_lowers_the_loss(trained):
    policy, losses = trained
    assert [step for step, _ in losses] == [10, 20, 30, 40, 50, 60]
    assert losses[-1][1] < 0.5 * losses[0][1]
    assert not policy.model.training


def test_training_is_repeatable_from_its_seed(smoke_dataset):
    config = DTConfig(dataset=str(smoke_dataset), steps=3, **TINY)
    first, second = train(config), train(config)
    expected, actual = first.model.state_dict(), second.model.state_dict()
    for name, value in expected.items():
        torch.testing.assert_close(actual[name], value)


def test_the_normalizer_and_targets_come_from_the_dataset(trained, smoke_dataset):
    policy, _ = trained
    data = load_trajectories(smoke_dataset)
    real = data.states.reshape(-1, 67)
    np.testing.assert_allclose(policy.model.state_mean[:61], real[:, :61].mean(0), atol=1e-4)
    assert policy.model.state_mean[61:].tolist() == [0.0] * 6  # the one-hot is left alone
    assert policy.model.state_std[61:].tolist() == [1.0] * 6
    reach, push = data.returns[data.families == 0], data.returns[data.families == 1]
    assert policy.family_targets[:2] == pytest.approx([reach.max(), push.max()])
    assert policy.family_targets[2:] == [None] * 4
    assert policy.default_target == pytest.approx(data.returns.max())


def play(policy, env, seed, steps, rewards=False):
    observation, _ = env.reset(seed=seed)
    policy.reset()
    actions, returns = [], []
    for _ in range(steps):
        action = policy.act(observation)
        assert env.action_space.contains(action)
        actions.append(action)
        observation, reward, *_ = env.step(action)
        if rewards:
            policy.observe_reward(reward)
        returns.append(reward)
    return np.stack(actions), np.array(returns)


def test_save_and_load_give_the_same_actions(trained, model_path):
    policy, _ = trained
    loaded = DTPolicy.load(model_path)
    assert loaded.config == policy.config and loaded.family_targets == policy.family_targets
    env = reach_env()
    expected, _ = play(policy, env, seed=5, steps=12)
    actual, _ = play(loaded, env, seed=5, steps=12)
    np.testing.assert_array_equal(actual, expected)
    env.close()


def test_load_refuses_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(DTError, match="no Decision Transformer model at .*writes one"):
        DTPolicy.load(tmp_path / "absent.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(DTError, match="is not a Decision Transformer model: torch does not"):
        DTPolicy.load(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(DTError, match="is not a Decision Transformer model: it is no Portia"):
        DTPolicy.load(tmp_path / "other.pt")


def test_the_agent_keeps_the_episodes_last_context_steps(trained):
    policy, _ = trained
    env = reach_env()
    first, _ = play(policy, env, seed=2, steps=8)
    assert len(policy.context_returns) == policy.config.context == 5
    again, _ = play(policy, env, seed=2, steps=8)  # reset forgets the last episode
    np.testing.assert_array_equal(again, first)
    env.close()


def test_return_to_go_starts_at_the_target_and_falls_by_each_reward(trained):
    policy, _ = trained
    env = reach_env()
    _, rewards = play(policy, env, seed=4, steps=3, rewards=True)
    target = policy.family_targets[0]  # reach
    expected = [target, target - rewards[0], target - rewards[0] - rewards[1]]
    np.testing.assert_allclose(policy.context_returns, expected)

    # Without observe_reward the reward is estimated: on reach it is the env's own.
    _, estimated = play(policy, env, seed=4, steps=3)
    np.testing.assert_allclose(policy.context_returns, expected, atol=1e-9)
    np.testing.assert_array_equal(estimated, rewards)

    observation, _ = env.reset(seed=4)
    policy.reset(target_return=-3.0)
    policy.act(observation)
    assert policy.context_returns.tolist() == [-3.0]
    env.close()


def test_observe_reward_before_any_action_is_refused(trained):
    policy, _ = trained
    policy.reset()
    with pytest.raises(DTError, match="call act first"):
        policy.observe_reward(-1.0)


def test_a_fixed_target_return_applies_to_every_episode(trained):
    policy, _ = trained
    fixed = DTPolicy(
        policy.model,
        dataclasses.replace(policy.config, target_return=-7.5),
        policy.family_targets,
        policy.default_target,
    )
    env = reach_env()
    observation, _ = env.reset(seed=0)
    fixed.act(observation)
    assert fixed.context_returns.tolist() == [-7.5]
    env.close()


def test_predict_speaks_sb3_and_resets_at_an_episode_start(trained):
    policy, _ = trained
    env = reach_env()
    observation, _ = env.reset(seed=1)
    policy.reset()
    expected = policy.act(observation)
    policy.act(observation)
    action, state = policy.predict(observation, episode_start=np.array([True]))
    assert state is None
    np.testing.assert_array_equal(action, expected)
    env.close()


def test_act_refuses_an_observation_of_another_body(trained):
    policy, _ = trained
    env = gymnasium.make("Portia/Arm-v0", body="arm4", task="reach")
    observation, _ = env.reset(seed=0)
    policy.reset()
    with pytest.raises(DTError, match=r"state of shape \(63,\); this model takes \(67,\)"):
        policy.act(observation)
    env.close()


def test_make_agent_needs_the_model_variable(monkeypatch, model_path, tmp_path):
    monkeypatch.delenv(MODEL_VARIABLE, raising=False)
    with pytest.raises(DTError, match=f"set {MODEL_VARIABLE} to the path of a Decision Trans"):
        make_agent(None)
    monkeypatch.setenv(MODEL_VARIABLE, str(tmp_path / "missing.pt"))
    with pytest.raises(DTError, match="no Decision Transformer model at .*missing.pt"):
        make_agent(None)
    monkeypatch.setenv(MODEL_VARIABLE, str(model_path))
    assert isinstance(make_agent(None), DTPolicy)


def test_portia_bench_scores_the_model(monkeypatch, model_path, tmp_path):
    monkeypatch.setenv(MODEL_VARIABLE, str(model_path))  # the workers inherit it
    spec = "baselines.dt:make_agent"
    suite = get_suite("smoke-v0")
    config = RunConfig(
        suite=suite.name,
        suite_hash=suite.hash,
        track="paused",
        agent=resolve_spec(spec),
        budget_ms=None,
        clock=None,
        timeout_s=600.0,
    )
    results = bench(config, agent_spec=spec, episodes=1, seeds=[0], out_dir=tmp_path / "run")
    assert [e["status"] for e in results["episodes"]] == ["ok"] * 3
    assert results["agent"]["name"] == "make_agent"
    assert np.isfinite(results["scores"]["splits"]["train"]["iqm"]["value"])


# --- Options and the command line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("context", 0, r"context must be an integer >= 1, got 0"),
        ("steps", 2.5, r"steps must be an integer >= 1, got 2.5"),
        ("n_heads", 3, r"embed_dim \(64\) must be a multiple of n_heads \(3\)"),
        ("dropout", 1.0, r"dropout must be a finite number in \[0, 1\)"),
        ("target_quantile", 1.5, r"target_quantile must be a finite number in \[0, 1\]"),
        ("return_scale", float("nan"), r"return_scale must be a finite number > 0"),
        ("target_return", "best", r"target_return must be a finite number or None"),
    ],
)
def test_config_refuses_values_out_of_range(field, value, message):
    with pytest.raises(DTError, match=message):
        DTConfig(**{field: value})


def test_portia_train_dt_writes_the_model_and_its_curve(smoke_dataset, tmp_path):
    from typer.testing import CliRunner

    from portia_envs.cli import app

    out = tmp_path / "models" / "dt.pt"
    tiny = ["--context", "3", "--embed-dim", "8", "--n-layers", "1", "--batch-size", "4"]
    arguments = ["train", "dt", "--dataset", str(smoke_dataset), "--out", str(out), "--steps", "2"]
    result = CliRunner().invoke(app, [*arguments, "--log-every", "1", *tiny])
    assert result.exit_code == 0, result.output
    assert DTPolicy.load(out).config.context == 3
    assert (tmp_path / "models" / "dt-curve.png").read_bytes().startswith(b"\x89PNG")


# --- A short learning run ------------------------------------------------------------------


def bench_smoke(spec, out_dir, episodes):
    suite = get_suite("smoke-v0")
    config = RunConfig(
        suite=suite.name,
        suite_hash=suite.hash,
        track="paused",
        agent=resolve_spec(spec),
        budget_ms=None,
        clock=None,
        timeout_s=600.0,
    )
    return bench(config, agent_spec=spec, episodes=episodes, seeds=[0], out_dir=out_dir)


@pytest.mark.slow
def test_a_short_run_beats_random_on_smoke_by_more_than_its_ci(monkeypatch, tmp_path):
    data = tmp_path / "scripted"
    collect("scripted", "smoke-v0", "train", 20, data, seed=1)  # other seeds than bench's
    config = DTConfig(dataset=str(data), context=10, embed_dim=64, n_layers=2, n_heads=2, steps=600)
    model = train(config).save(tmp_path / "dt.pt")
    monkeypatch.setenv(MODEL_VARIABLE, str(model))
    dt = bench_smoke("baselines.dt:make_agent", tmp_path / "dt", episodes=10)
    random = bench_smoke("random", tmp_path / "random", episodes=10)
    dt_iqm = dt["scores"]["splits"]["train"]["iqm"]
    random_iqm = random["scores"]["splits"]["train"]["iqm"]
    # The margin over random is larger than the DT's interval, and the intervals are apart.
    assert dt_iqm["value"] - random_iqm["value"] > dt_iqm["high"] - dt_iqm["low"]
    assert dt_iqm["low"] > random_iqm["high"]
