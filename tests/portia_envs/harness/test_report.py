import base64
import copy
import re
import subprocess
import sys

import imageio.v2 as imageio
import pytest

from portia_envs.errors import PortiaError
from portia_envs.harness.report import ReportError, summary_table, write_report

TASKS = [
    {"task_id": "reach-centre", "split": "train", "family": "reach"},
    {"task_id": "push-near", "split": "train", "family": "push"},
    {"task_id": "reach-far", "split": "heldout", "family": "reach"},
]
NORMALIZED = {
    "reach-centre": {"value": 95.0, "low": 90.1, "high": 99.0},
    "push-near": {"value": 41.25, "low": 30.0, "high": 52.5},
    "reach-far": {"value": 60.0, "low": 48.0, "high": 71.0},
}
ERROR = "RuntimeError: <script>alert('boom')</script>\n  File policy.py, line 3"


def _episode(task, episode, **changes):
    record = {
        **task,
        "seed": 0,
        "episode": episode,
        "reset_seed": 1000 + episode,
        "status": "ok",
        "error": None,
        "return": -3.0 - episode,
        "success": episode % 2 == 0,
        "length": 50,
        "periods": 50,
        "think_steps": 0,
        "think_s": 0.0,
        "latencies_ms": None,
        "overran": None,
    }
    return {**record, **changes}


def _interval(value, low, high):
    return {"value": value, "low": low, "high": high}


@pytest.fixture
def paused():
    return {
        "schema_version": 1,
        "suite": {"name": "smoke-v0", "hash": "2e1ae483f98ba2c3"},
        "track": "paused",
        "budget_ms": None,
        "clock": None,
        "agent": {"spec": "scripted", "name": "ScriptedExpert", "version": "0.1.0"},
        "run": {"episodes": 4, "seeds": [0], "workers": 2, "backend": "local"},
        "tasks": TASKS,
        "environment": {},
        "versions": {"portia": "0.1.0", "mujoco": "3.2.0"},
        "hardware": {"cpu": "test cpu", "cores": 2},
        "created": "2025-01-01T00:00:00Z",
        "episodes": [_episode(task, index) for task in TASKS for index in range(4)],
        "scores": {
            "bootstrap": {"reps": 2000, "confidence": 0.95, "seed": 0},
            "tasks": {
                task["task_id"]: {
                    "split": task["split"],
                    "family": task["family"],
                    "episodes": 4,
                    "failed": 0,
                    "success_rate": 0.5,
                    "mean_return": -4.5,
                    "normalized": NORMALIZED[task["task_id"]],
                }
                for task in TASKS
            },
            "splits": {
                "train": {
                    "iqm": _interval(61.23, 55.04, 67.35),
                    "mean": _interval(68.1, 60.0, 75.2),
                    "median": _interval(70.0, 41.2, 95.0),
                    "optimality_gap": _interval(31.9, 24.8, 40.0),
                    "success_rate": _interval(0.5, 0.25, 0.75),
                },
                "heldout": {
                    "iqm": _interval(40.4, 30.2, 50.9),
                    "mean": _interval(60.0, 48.0, 71.0),
                    "median": _interval(60.0, 48.0, 71.0),
                    "optimality_gap": _interval(40.0, 29.0, 52.0),
                    "success_rate": _interval(0.5, 0.0, 1.0),
                },
            },
            "generalization_gap": _interval(20.83, 8.1, 33.0),
            "success_gap": _interval(0.0, -0.375, 0.5),
            "latency": None,
        },
    }


@pytest.fixture
def realtime(paused):
    results = copy.deepcopy(paused)
    results.update(track="realtime", budget_ms=20.0, clock="fixed:30")
    results["agent"]["name"] = "Expert <b>v2</b>"
    for number, episode in enumerate(results["episodes"]):
        episode["latencies_ms"] = [5.0 + (number + step) % 30 for step in range(50)]
        episode["overran"] = 3
    failed = results["episodes"][5]  # push-near, episode 1
    failed.update(status="error", error=ERROR, success=False, **{"return": 0.0})
    results["scores"]["tasks"]["push-near"]["failed"] = 1
    results["scores"]["latency"] = {
        "budget_ms": 20.0,
        "decisions": 600,
        "within_budget": 583,
        "compliance": 0.972,
        "mean_ms": 12.0,
        "p50_ms": 10.0,
        "p95_ms": 25.0,
        "max_ms": 60.0,
    }
    return results


def _lines_with(text, needle):
    return [line for line in text.splitlines() if needle in line]


def test_summary_table_has_a_row_per_task(paused):
    text = summary_table(paused)
    for task in TASKS:
        (row,) = _lines_with(text, task["task_id"])
        assert task["split"] in row and task["family"] in row
    assert "95.0 [90.1, 99.0]" in _lines_with(text, "reach-centre")[0]
    assert "41.2 [30.0, 52.5]" in _lines_with(text, "push-near")[0]
    assert "50%" in _lines_with(text, "reach-far")[0]


def test_summary_table_rows_follow_suite_order(paused):
    paused["scores"]["tasks"] = dict(reversed(paused["scores"]["tasks"].items()))
    text = summary_table(paused)
    positions = [text.index(task["task_id"]) for task in TASKS]
    assert positions == sorted(positions)


def test_summary_table_columns_are_aligned(paused):
    lines = summary_table(paused).splitlines()
    header = next(line for line in lines if line.startswith("task"))
    column = header.index("normalized")
    for task in TASKS:
        (row,) = _lines_with("\n".join(lines), task["task_id"])
        assert row[column - 2 : column] == "  " and row[column] != " "


def test_summary_table_header_line(paused, realtime):
    first = summary_table(paused).splitlines()[0]
    assert "smoke-v0" in first and "2e1ae483f98ba2c3" in first
    assert "paused" in first and "scripted" in first and "budget" not in first
    first = summary_table(realtime).splitlines()[0]
    assert "realtime" in first and "budget 20 ms" in first and "clock fixed:30" in first


def test_summary_table_split_rows_with_intervals(paused):
    text = summary_table(paused)
    (train,) = [line for line in text.splitlines() if line.startswith("train ")]
    assert "61.2 [55.0, 67.3]" in train  # IQM, one decimal
    assert "68.1 [60.0, 75.2]" in train and "31.9 [24.8, 40.0]" in train
    assert "50% [25, 75]" in train  # success rate, whole percentages
    (heldout,) = [line for line in text.splitlines() if line.startswith("heldout ")]
    assert "40.4 [30.2, 50.9]" in heldout and "50% [0, 100]" in heldout
    header = next(line for line in text.splitlines() if line.startswith("split"))
    labels = ("success rate", "IQM", "mean", "median", "optimality gap")
    positions = [header.index(label) for label in labels]
    assert positions == sorted(positions)  # success first


def test_summary_table_leads_with_success(paused):
    lines = summary_table(paused).splitlines()
    split_header = next(line for line in lines if line.startswith("split"))
    assert split_header.split()[:3] == ["split", "success", "rate"]
    (train,) = [line for line in lines if line.startswith("train ")]
    assert train.split()[1:4] == ["50%", "[25,", "75]"]  # the first metric is success
    task_header = next(line for line in lines if line.startswith("task"))
    assert task_header.index("success") < task_header.index("normalized")
    row = _lines_with("\n".join(lines), "reach-centre")[0]
    assert row.index("50%") < row.index("95.0 [90.1, 99.0]")


def test_summary_table_generalization_gaps_success_first(paused):
    success, iqm = _lines_with(summary_table(paused), "generalization gap")
    assert success == "generalization gap in success (train - heldout): 0 points [-38, 50]"
    assert iqm == "generalization gap in IQM (train - heldout): 20.8 [8.1, 33.0]"


def test_results_without_a_success_gap_show_the_difference_of_the_rates(paused, tmp_path):
    # A file written before the success gap was scored: 75% train, 25% held out.
    del paused["scores"]["success_gap"]
    paused["scores"]["splits"]["train"]["success_rate"]["value"] = 0.75
    paused["scores"]["splits"]["heldout"]["success_rate"]["value"] = 0.25
    (line,) = _lines_with(summary_table(paused), "generalization gap in success")
    assert line.endswith(": 50 points (no CI: this results file predates the success gap)")
    assert len(write_report(paused, tmp_path)) == 4
    # Without success rates either, the gap and the cells say they were not recorded.
    for split in ("train", "heldout"):
        del paused["scores"]["splits"][split]["success_rate"]
    text = summary_table(paused)
    (line,) = _lines_with(text, "generalization gap in success")
    assert line.endswith(": not recorded")
    (train,) = [line for line in text.splitlines() if line.startswith("train ")]
    assert train.split()[1:3] == ["not", "recorded"]
    assert len(write_report(paused, tmp_path)) == 4


def test_summary_table_latency(paused, realtime):
    (line,) = _lines_with(summary_table(paused), "latency:")
    assert line == "latency: not measured (paused track)"
    (line,) = _lines_with(summary_table(realtime), "latency:")
    assert "97%" in line and "20 ms budget" in line
    assert "p50 10.0 ms" in line and "p95 25.0 ms" in line and "max 60.0 ms" in line
    none = copy.deepcopy(realtime)
    none["scores"]["latency"].update(decisions=0, within_budget=0, compliance=None)
    (line,) = _lines_with(summary_table(none), "latency:")
    assert line == "latency: no decision was measured (every episode failed)"


def test_summary_table_counts_failed_episodes_and_ends_with_them(paused, realtime):
    row, failure = _lines_with(summary_table(realtime), "push-near")
    assert re.search(r"\b4\s+1\b", row)  # 4 episodes, 1 failed
    lines = summary_table(realtime).splitlines()
    assert lines[-2:] == [
        "FAILED: 1 of 12 episodes did not complete",
        failure,
    ]
    assert failure.startswith("  push-near: 1 failed (error), first: RuntimeError: ")
    assert "FAILED" not in summary_table(paused)


def test_write_report_paused_writes_page_and_three_plots_success_first(paused, tmp_path):
    out_dir = tmp_path / "nested" / "report"
    paths = write_report(paused, out_dir)
    assert paths == [
        out_dir / "report.html",
        out_dir / "success.png",
        out_dir / "tasks.png",
        out_dir / "splits.png",
    ]
    assert all(path.is_file() for path in paths)
    assert not (out_dir / "latency.png").exists()


def test_write_report_realtime_adds_latency_plot(realtime, tmp_path):
    paths = write_report(realtime, tmp_path)
    assert [path.name for path in paths] == [
        "report.html",
        "success.png",
        "tasks.png",
        "splits.png",
        "latency.png",
    ]


def test_write_report_realtime_without_latencies_has_no_latency_plot(realtime, tmp_path):
    for episode in realtime["episodes"]:
        episode["latencies_ms"] = None
    paths = write_report(realtime, tmp_path)
    assert "latency.png" not in [path.name for path in paths]


def test_plots_are_images(realtime, tmp_path):
    for path in write_report(realtime, tmp_path)[1:]:
        image = imageio.imread(path)
        assert image.ndim == 3 and image.shape[2] in (3, 4)
        assert image.shape[0] >= 200 and image.shape[1] >= 400


@pytest.mark.parametrize(("fixture", "plots"), [("paused", 3), ("realtime", 4)])
def test_html_embeds_the_plots(fixture, plots, request, tmp_path):
    paths = write_report(request.getfixturevalue(fixture), tmp_path)
    page = paths[0].read_text(encoding="utf-8")
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == plots
    assert [base64.b64decode(data) for data in embedded] == [p.read_bytes() for p in paths[1:]]
    assert 'src="tasks.png"' not in page  # self-contained: no links to the files


def test_html_has_facts_and_tables(realtime, tmp_path):
    page = write_report(realtime, tmp_path)[0].read_text(encoding="utf-8")
    for task in TASKS:
        assert task["task_id"] in page
    for fact in ("smoke-v0", "2e1ae483f98ba2c3", "realtime", "20 ms", "fixed:30", "scripted"):
        assert fact in page
    assert "mujoco 3.2.0" in page and "test cpu" in page and "2025-01-01T00:00:00Z" in page
    assert "61.2 [55.0, 67.3]" in page and "20.8 [8.1, 33.0]" in page and "97%" in page


def test_html_leads_with_success(paused, tmp_path):
    page = write_report(paused, tmp_path)[0].read_text(encoding="utf-8")
    # The split table comes before the task table, and success before the scores in both.
    assert page.index("<h2>Splits</h2>") < page.index("<h2>Tasks</h2>")
    assert page.index("<th>split</th><th>success rate</th><th>IQM</th>") > 0
    assert page.index("50% [25, 75]") < page.index("61.2 [55.0, 67.3]")
    assert page.index("in success (train - heldout): 0 points [-38, 50]") < page.index(
        "in IQM (train - heldout): 20.8 [8.1, 33.0]"
    )
    assert page.index('alt="success.png"') < page.index('alt="tasks.png"')


def test_html_escapes_strings_from_the_results(realtime, tmp_path):
    page = write_report(realtime, tmp_path)[0].read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "RuntimeError: &lt;script&gt;alert(&#x27;boom&#x27;)&lt;/script&gt;" in page
    assert "<b>v2</b>" not in page and "Expert &lt;b&gt;v2&lt;/b&gt;" in page


def test_html_lists_failed_episodes(paused, realtime, tmp_path):
    page = write_report(paused, tmp_path / "paused")[0].read_text(encoding="utf-8")
    assert "No episode failed." in page
    page = write_report(realtime, tmp_path / "realtime")[0].read_text(encoding="utf-8")
    (table,) = re.findall(r'<table class="failed">.*?</table>', page, flags=re.DOTALL)
    assert table.count("<tbody><tr>") == 1 and table.count("</tr>") == 2  # header + one row
    for cell in ("push-near", "<td>0</td>", "<td>1</td>", "<td>error</td>", "RuntimeError"):
        assert cell in table


def test_optional_keys_may_be_missing(paused, tmp_path):
    for key in ("versions", "hardware", "created", "run", "environment", "tasks"):
        del paused[key]
    assert "reach-far" in summary_table(paused)
    page = write_report(paused, tmp_path)[0].read_text(encoding="utf-8")
    assert "reach-far" in page and "created" not in page


@pytest.mark.parametrize("key", ["scores", "episodes"])
@pytest.mark.parametrize("show", [summary_table, lambda results: write_report(results, None)])
def test_missing_required_key_raises(paused, key, show):
    del paused[key]
    with pytest.raises(ReportError, match=rf"results has no '{key}': run `portia validate`"):
        show(paused)


def test_missing_score_part_raises(paused):
    del paused["scores"]["splits"]
    with pytest.raises(ReportError, match=r"results\['scores'\] has no 'splits'"):
        summary_table(paused)


def test_report_error_is_a_portia_value_error():
    assert issubclass(ReportError, PortiaError) and issubclass(ReportError, ValueError)


def test_import_does_not_import_matplotlib():
    code = "import sys, portia_envs.harness.report; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
