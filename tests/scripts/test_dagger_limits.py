import pytest

from tests.scripts.conftest import load_script
from tests.scripts.test_results_table import results


@pytest.fixture(scope="module")
def limits():
    return load_script("dagger_limits")


FAST = {"compliance": 1.0, "p50_ms": 0.3}


def student(limits, label, labels, train, heldout):
    success = ((train, train - 0.1, train + 0.1), (heldout, heldout - 0.1, heldout + 0.1))
    return limits.table.Row(
        label, "realtime", results((70, 65, 75), (60, 55, 65), FAST, success), labels, 33_000
    )


def summary(iteration, beta, success, labels):
    return {
        "iteration": iteration,
        "beta": beta,
        "episodes": 10,
        "success_rate": success,
        "labels": labels,
        "train_loss": labels / 1e6,
        "validation_loss": labels / 1e5,
    }


def clone(labels):
    return {
        **summary(-1, None, None, labels),
        "episodes": None,
        "train_loss": 0.002,
        "validation_loss": 0.02,
    }


@pytest.fixture
def curves(limits):
    table_run = limits.Variant("dagger", "DAgger (results table)")
    long_run = limits.Variant("dagger-long", "DAgger, 4 x 20", {"iterations": 4, "episodes": 20})
    return [
        limits.Curve(
            table_run,
            [student(limits, "DAgger (results table), 1 iteration", 4500, 0.2, 0.1)],
            [clone(3300), summary(0, 0.5, 0.4, 1200)],
        ),
        limits.Curve(
            long_run,
            [
                student(limits, "DAgger, 4 x 20, 1 iteration", 5800, 0.3, 0.2),
                student(limits, "DAgger, 4 x 20, 2 iterations", 8300, 0.4, 0.3),
            ],
            [clone(3300), summary(0, 0.5, 0.45, 2500), summary(1, 0.25, 0.3, 2500)],
        ),
    ]


def references(limits):
    row = limits.table.Row
    return [
        row("teacher", "paused", results((99, 98, 100), (98, 97, 99), None, ((0.8,) * 3,) * 2)),
        row("teacher", "realtime", results((66, 62, 69), (60, 53, 64), None, ((0.3,) * 3,) * 2)),
        student(limits, "BC student", 7000, 0.1, 0.1),
    ]


def test_the_rollout_table_has_each_iteration_of_each_run(limits, curves):
    lines = limits.rollout_table(curves).splitlines()
    assert lines[0] == (
        "| run | iteration | beta | rollouts | rollout success | labels "
        "| student's train loss | validation loss |"
    )
    assert lines[2:] == [
        "| DAgger (results table) | 0 (clone) | - | - | - | 3,300 | 0.0020 | 0.0200 |",
        "| DAgger (results table) | 1 | 0.5 | 10 | 40% | 1,200 | 0.0012 | 0.0120 |",
        "| DAgger, 4 x 20 | 0 (clone) | - | - | - | 3,300 | 0.0020 | 0.0200 |",
        "| DAgger, 4 x 20 | 1 | 0.5 | 10 | 45% | 2,500 | 0.0025 | 0.0250 |",
        "| DAgger, 4 x 20 | 2 | 0.25 | 10 | 30% | 2,500 | 0.0025 | 0.0250 |",
    ]


def test_success_is_read_in_percent_with_its_interval(limits):
    row = student(limits, "s", 1, 0.25, 0.5)
    assert limits.success(row, "train") == pytest.approx({"value": 25, "low": 15, "high": 35})
    assert limits.success(row, "heldout") == pytest.approx({"value": 50, "low": 40, "high": 60})


def test_the_page_names_each_runs_changes_and_shows_every_student_and_the_plot(
    limits, curves, tmp_path
):
    doc = tmp_path / "docs" / "dagger-limits.md"
    doc.parent.mkdir()
    seconds = {"arm-gen-v0: train dagger-long": 1380.0, "arm-gen-v0: dagger-long-1": 120.0}
    page = limits.document(references(limits), curves, seconds, doc, workers=2)
    assert page.startswith("# What limits the DAgger student on arm-gen-v0?")
    assert "in 25 min" in page and "2 worker processes" in page
    assert "DAgger, 4 x 20: `iterations=4`, `episodes=20`" in page
    agents = [line.split(" | ")[0] for line in page.splitlines() if line.startswith("| DAgger")]
    assert agents[:3] == [
        "| DAgger (results table), 1 iteration",
        "| DAgger, 4 x 20, 1 iteration",
        "| DAgger, 4 x 20, 2 iterations",
    ]
    assert "| teacher | paused | 80% [80, 80]" in page and "| BC student | realtime | 10%" in page
    assert "| agent | track | reach (train) | reach (held out) |" in page
    assert "(dagger-limits/success-against-labels.png)" in page
    assert "| arm-gen-v0: train dagger-long | 23.0 |" in page
    assert (doc.parent / "dagger-limits" / "success-against-labels.png").stat().st_size > 10_000


def test_a_variant_runs_its_changed_settings_in_a_directory_of_its_own(
    limits, tmp_path, monkeypatch
):
    stages = limits.table.Stages(tmp_path, workers=1)
    monkeypatch.setattr(stages, "dataset", lambda suite: tmp_path / "demonstrations")
    trained = []

    def train(config):
        trained.append(config)
        path = limits.dagger.DAggerRun(config).student_path(config.iterations)
        path.parent.mkdir(parents=True)
        path.write_text("student")

    monkeypatch.setattr(limits.table.dagger, "train", train)
    variant = limits.VARIANTS[1]
    run = stages.dagger(limits.SUITE, name=variant.name, **variant.changes)
    assert run.root == tmp_path / limits.SUITE / "dagger-long"
    (config,) = trained
    assert (config.iterations, config.episodes, config.warm_start) == (4, 20, True)
    assert config.demonstration_episodes == limits.table.dagger_plan(limits.SUITE)[0]
    cold = stages.dagger(limits.SUITE, name="dagger-cold", warm_start=False)
    assert trained[1].warm_start is False and cold.root.name == "dagger-cold"
    assert trained[1].iterations == limits.table.dagger_plan(limits.SUITE)[1]
    stages.dagger(limits.SUITE, name=variant.name, **variant.changes)
    assert len(trained) == 2  # a finished run is not trained again
