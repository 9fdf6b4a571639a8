import json
import sys

import gymnasium
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("minari")

from baselines import dagger  # noqa: E402
from baselines.bc import BCPolicy  # noqa: E402
from baselines.dagger import (  # noqa: E402
    ACTED_KEY,
    LABEL_KEY,
    DAggerConfig,
    DAggerConfigError,
    aggregate,
    label_episode,
    mixing_beta,
    rollout_seed,
    train,
)
from portia_envs.datasets import collect, load_dataset  # noqa: E402
from portia_envs.datasets.collect import EpisodeFailedError  # noqa: E402
from portia_envs.harness.agents import build_agent, resolve_spec  # noqa: E402
from portia_envs.harness.episode import EpisodeJob  # noqa: E402
from tests.portia_envs.harness.isolated_network import (  # noqa: E402
    needs_isolated_network,
    run_isolated,
)
from wrappers.time_pause import TimePause  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")
TINY_TEACHER = "tests.baselines.tiny_teacher:make_agent"
# A scripted labeller on smoke-v0 with a small student: a run takes seconds.
CHEAP = {
    "suite": "smoke-v0",
    "teacher": "scripted",
    "episodes": 2,
    "hidden_sizes": (16, 16),
    "epochs": 3,
    "batch_size": 128,
}


class Wobble:
    """A student that plays seeded noise: it leaves the teacher's path at once."""

    def __init__(self, size):
        self.size = size

    def reset(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def act(self, observation):
        return self.rng.uniform(-0.6, 0.6, self.size).astype(np.float32)


def smoke_job(episode=0, seed=5):
    return EpisodeJob("reach-centre", "train", "reach", seed, episode)


def smoke_env(job):
    return TimePause(gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task=job.task_id))


def checksums(path):
    dataset = load_dataset(path)
    return [
        m["sha256"] for m in dataset.storage.get_episode_metadata(range(dataset.total_episodes))
    ]


def test_mixing_beta_schedule_worked_by_hand():
    # From a BC student: beta_start * decay ** i.
    assert [mixing_beta(i, 0.5, 0.5, False) for i in range(4)] == [0.5, 0.25, 0.125, 0.0625]
    # From scratch: the teacher alone first, then the same schedule one iteration later.
    assert [mixing_beta(i, 0.5, 0.5, True) for i in range(4)] == [1.0, 0.5, 0.25, 0.125]
    # beta_decay 1 keeps beta; beta_start 0 is pure DAgger after the first iteration.
    assert mixing_beta(3, 0.8, 1.0, False) == 0.8
    assert mixing_beta(2, 0.0, 0.5, True) == 0.0
    with pytest.raises(DAggerConfigError, match="iteration must be >= 0"):
        mixing_beta(-1, 0.5, 0.5, False)


def test_rollout_seeds_are_far_from_scoring_seeds_and_distinct_per_iteration():
    seeds = {rollout_seed(seed, i) for seed in range(3) for i in range(10)}
    assert len(seeds) == 30 and min(seeds) >= dagger.ROLLOUT_SEED_BASE


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iterations": 0}, "iterations must be an integer >= 1"),
        ({"episodes": 1.5}, "episodes must be an integer >= 1"),
        ({"beta_start": 1.5}, r"beta_start must be a number in \[0, 1\]"),
        ({"beta_decay": -0.1}, r"beta_decay must be a number in \[0, 1\]"),
        ({"backend": "dask"}, "unknown backend 'dask'; accepted: local, ray"),
        ({"address": "auto"}, "names a Ray cluster, for the ray backend only"),
        ({"hidden_sizes": ()}, "hidden_sizes must be a tuple"),
        ({"learning_rate": 0}, "learning_rate must be a finite number > 0"),
    ],
)
def test_config_refuses_values_out_of_range(changes, message):
    with pytest.raises(DAggerConfigError, match=message):
        DAggerConfig(**{**CHEAP, **changes})


def test_labels_are_the_teachers_decisions_from_the_exact_student_states():
    """Cold labels equal a fresh teacher's first act on a copy restored to each state."""
    job = smoke_job()
    env = smoke_env(job)
    teacher = build_agent(resolve_spec(TINY_TEACHER), env)
    episode = label_episode(job, env, teacher, Wobble(7), beta=0.0, warm_start=False, options={})
    labels = episode.infos[LABEL_KEY]
    assert not episode.infos[ACTED_KEY].any()  # beta 0: the student played every step
    assert not np.allclose(labels[:-1], episode.actions)  # so the labels are not its actions
    assert np.isnan(labels[-1]).all() and not np.isnan(labels[:-1]).any()
    # Every teacher decision imagined: 2 rounds x 4 variants x 3 periods.
    assert episode.metadata["think_steps"] == 24 * episode.length
    copy = smoke_env(job)
    for step in (0, 7, 40, episode.length - 1):
        copy.reset(seed=job.reset_seed)
        for action in episode.actions[:step]:
            copy.step(action)
        observation = {k: v[step] for k, v in episode.observations.items()}
        fresh = build_agent(resolve_spec(TINY_TEACHER), copy)
        fresh.reset()
        np.testing.assert_array_equal(fresh.act(observation), labels[step])
    env.close()
    copy.close()


def test_warm_labels_equal_a_teacher_carried_along_the_students_trajectory():
    """With warm start, a teacher acting at each state of a replay gives every label."""
    job = smoke_job(episode=1)
    env = smoke_env(job)
    episode = label_episode(
        job, env, build_agent(resolve_spec(TINY_TEACHER), env), Wobble(7), 0.0, True, {}
    )
    copy = smoke_env(job)
    follower = build_agent(resolve_spec(TINY_TEACHER), copy)
    follower.reset()
    observation, _ = copy.reset(seed=job.reset_seed)
    for step, action in enumerate(episode.actions):
        np.testing.assert_array_equal(follower.act(observation), episode.infos[LABEL_KEY][step])
        observation, *_ = copy.step(action)
    # Carrying the plan imagines one round a label; from nothing, two.
    assert episode.metadata["think_steps"] == 12 * (episode.length + 1)
    env.close()
    copy.close()


def test_teacher_only_rollouts_are_the_teachers_own_episodes(tmp_path):
    """beta 1 with a warm start plays exactly what `portia collect` records of the teacher."""
    collected = collect(TINY_TEACHER, "smoke-v0", "train", 2, tmp_path / "teacher", seed=9)
    episodes = list(load_dataset(collected.path).iterate_episodes())
    config = dagger.RunConfig(
        suite="smoke-v0",
        suite_hash=dagger.get_suite("smoke-v0").hash,
        track="paused",
        agent=resolve_spec(TINY_TEACHER),
        budget_ms=None,
        clock=None,
        timeout_s=float("inf"),
    )
    labeller = dagger.Labelling(config, None, 1.0, True)()
    for index, stored in enumerate(episodes):
        job = dagger.plan_episodes(dagger.get_suite("smoke-v0"), "train", 2, 9)[index]
        episode, _ = labeller(job)
        np.testing.assert_array_equal(episode.actions, stored.actions)
        np.testing.assert_array_equal(episode.infos[LABEL_KEY][:-1], stored.actions)
        for key, values in stored.observations.items():
            np.testing.assert_array_equal(episode.observations[key], values)
    labeller.close()


def test_mixing_plays_the_teacher_on_the_coins_share_of_steps():
    job = smoke_job(episode=2)
    env = smoke_env(job)
    teacher = build_agent(resolve_spec("scripted"), env)
    episode = label_episode(job, env, teacher, Wobble(7), beta=0.3, warm_start=True, options={})
    acted = episode.infos[ACTED_KEY][:-1]
    coins = np.random.default_rng(job.reset_seed).random(episode.length)
    np.testing.assert_array_equal(acted, coins < 0.3)
    played = episode.actions[acted]
    np.testing.assert_array_equal(played, episode.infos[LABEL_KEY][:-1][acted])
    env.close()


@pytest.fixture(scope="module")
def cheap_run(tmp_path_factory, smoke_dataset):
    """A 2-iteration run from the smoke demonstrations, uninterrupted."""
    root = tmp_path_factory.mktemp("dagger") / "run"
    config = DAggerConfig(
        **CHEAP, demonstrations=str(smoke_dataset), iterations=2, work_dir=str(root)
    )
    reports = []
    policy = train(config, on_progress=lambda *report: reports.append(report))
    return config, policy, reports


def test_aggregation_holds_the_demonstrations_then_every_iterations_labels(
    cheap_run, smoke_dataset
):
    config, _, _ = cheap_run
    run = dagger.DAggerRun(config)
    xs, ys = aggregate(str(smoke_dataset), [run.data_path(0), run.data_path(1)])
    demonstrations = list(load_dataset(smoke_dataset).iterate_episodes())
    iterations = [list(load_dataset(run.data_path(i)).iterate_episodes()) for i in range(2)]
    assert len(xs) == len(ys) == len(demonstrations) + 2 * config.episodes
    for y, episode in zip(ys, demonstrations + iterations[0] + iterations[1], strict=True):
        expected = episode.infos[LABEL_KEY][:-1] if LABEL_KEY in episode.infos else episode.actions
        np.testing.assert_array_equal(y, np.asarray(expected, dtype=np.float32))
    assert all(len(x) == len(y) for x, y in zip(xs, ys, strict=True))


def test_a_run_reports_each_iteration_and_returns_the_last_student(cheap_run):
    config, policy, reports = cheap_run
    # Each rollout, then each iteration's student with its metrics, of 4 rollouts in all.
    assert [(done, total, bool(metrics)) for done, total, metrics in reports] == [
        (0, 4, False),
        (1, 4, False),
        (2, 4, False),
        (2, 4, True),
        (3, 4, False),
        (4, 4, False),
        (4, 4, True),
    ]
    assert reports[-1][2]["labels"] == 2 * 2 * 150  # 2 iterations of 2 episodes of 150 steps
    history = policy.data["dagger"]["history"]
    assert [h["beta"] for h in history] == [0.5, 0.25]
    assert [h["labels"] for h in history] == [300, 300]
    saved = BCPolicy.load(dagger.DAggerRun(config).student_path(2))
    for a, b in zip(saved.network.parameters(), policy.network.parameters(), strict=True):
        assert torch.equal(a, b)


def test_resume_after_an_interruption_gives_the_same_datasets_and_student(
    cheap_run, smoke_dataset, tmp_path
):
    config, policy, _ = cheap_run
    resumed = DAggerConfig(**{**config.__dict__, "work_dir": str(tmp_path / "run")})

    def stop_after_first(done, total, metrics):
        if metrics:  # the first iteration's student is fit
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(resumed, on_progress=stop_after_first)
    run = dagger.DAggerRun(resumed)
    assert run.data_path(0).is_dir() and not run.data_path(1).exists()
    # Interrupted again inside iteration 1's rollouts: nothing of it is kept.
    (tmp_path / "run" / "students" / "student-01.pt").unlink()
    final = train(resumed)
    for iteration in range(2):
        assert checksums(run.data_path(iteration)) == checksums(
            dagger.DAggerRun(config).data_path(iteration)
        )
    for a, b in zip(final.network.parameters(), policy.network.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_work_dir_of_other_settings_or_files_is_refused(cheap_run, tmp_path):
    config, _, _ = cheap_run
    with pytest.raises(DAggerConfigError, match=r"other settings \(episodes\)"):
        train(DAggerConfig(**{**config.__dict__, "episodes": 3}))
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DAggerConfigError, match="not empty and holds no DAgger run"):
        train(DAggerConfig(**{**CHEAP, "work_dir": str(tmp_path)}))
    assert (tmp_path / "notes.txt").read_text() == "mine"
    settings = json.loads((dagger.Path(config.work_dir) / "run.json").read_text())
    assert settings["episodes"] == config.episodes


def test_two_workers_label_the_same_episodes_as_one(tmp_path):
    runs = {}
    for workers in (1, 2):
        config = DAggerConfig(
            **{**CHEAP, "episodes": 3},
            iterations=1,
            workers=workers,
            work_dir=str(tmp_path / str(workers)),
        )
        dagger.DAggerRun(config).iteration_data(0, None)
        runs[workers] = checksums(dagger.DAggerRun(config).data_path(0))
    assert runs[1] == runs[2] and len(runs[1]) == 3


def test_a_failing_labeller_names_the_rollout_and_writes_nothing(tmp_path):
    config = DAggerConfig(
        **{**CHEAP, "teacher": "tests.baselines.test_dagger:broken_labeller"},
        iterations=1,
        work_dir=str(tmp_path / "run"),
    )
    with pytest.raises(EpisodeFailedError, match=r"rollout 0 \(task reach-centre.*RuntimeError"):
        train(config)
    assert not dagger.DAggerRun(config).data_path(0).exists()
    assert not list((tmp_path / "run" / "iterations").glob("*"))


class _Broken:
    def reset(self):
        pass

    def act(self, observation):
        raise RuntimeError("the labeller broke")


def broken_labeller(env):
    """An agent factory whose agent fails on its first decision."""
    return _Broken()


def test_a_students_cost_counts_the_demonstrations_used_and_earlier_iterations(
    cheap_run, smoke_dataset
):
    config, policy, _ = cheap_run
    run = dagger.DAggerRun(config)
    demonstrations = load_dataset(smoke_dataset)
    meta = list(demonstrations.storage.get_episode_metadata(range(4)))
    history = policy.data["dagger"]["history"]
    assert run.cost(0) == (sum(m["length"] for m in meta), sum(m["think_steps"] for m in meta))
    assert run.cost(2) == (
        run.cost(0)[0] + sum(h["labels"] for h in history),
        run.cost(0)[1] + sum(h["imagined_periods"] for h in history),
    )
    xs, _ = aggregate(str(smoke_dataset), [run.data_path(0)], demonstration_episodes=1)
    assert len(xs) == 1 + config.episodes and len(xs[0]) == meta[0]["length"]
    with pytest.raises(DAggerConfigError, match="demonstration_episodes must be None"):
        DAggerConfig(**CHEAP, demonstration_episodes=2)  # no demonstrations to count


@pytest.mark.slow
@needs_isolated_network
def test_ray_labels_the_same_episodes_as_local_workers(tmp_path):
    """`portia train dagger --backend ray` in a network namespace of loopback only."""
    options = "--suite smoke-v0 --teacher scripted --iterations 1 --episodes 3 --epochs 2"
    runs = {}
    for backend in ("local", "ray"):
        work = tmp_path / backend
        command = (
            f"{sys.executable} -c 'from portia_envs.cli import app; app()' train dagger "
            f"{options} --workers 2 --backend {backend} --work-dir {work} --out {work}.pt"
        )
        done = run_isolated(command)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[backend] = checksums(work / "iterations" / "00")
    assert runs["local"] == runs["ray"] and len(runs["ray"]) == 3
    local, ray = BCPolicy.load(tmp_path / "local.pt"), BCPolicy.load(tmp_path / "ray.pt")
    for a, b in zip(local.network.parameters(), ray.network.parameters(), strict=True):
        assert torch.equal(a, b)


def test_the_shipped_arm_gen_student_carries_its_dagger_history():
    from baselines.bc import arm_gen_dagger_student
    from portia_envs.harness.episode import suite_agent_env

    env = suite_agent_env("arm-gen-v0")
    student = arm_gen_dagger_student(env)
    run = student.data["dagger"]
    assert run["settings"]["suite"] == "arm-gen-v0" and run["settings"]["teacher"] == "teacher"
    history = run["history"]
    assert [h["iteration"] for h in history] == list(range(run["settings"]["iterations"]))
    assert [h["beta"] for h in history] == [0.5, 0.25][: len(history)]
    assert all(h["labels"] > 0 and h["imagined_periods"] > 0 for h in history)
    observation, _ = env.reset(seed=0)
    assert env.action_space.contains(student.act(observation))
    env.close()


def test_a_bool_is_not_a_probability():
    with pytest.raises(
        DAggerConfigError, match=r"beta_start must be a number in \[0, 1\], got True"
    ):
        DAggerConfig(**CHEAP, beta_start=True)
