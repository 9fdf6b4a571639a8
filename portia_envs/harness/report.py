"""Show a results file: a plain-text summary for the terminal, an HTML report with plots.

Both functions read a results dict in the harness's results format (``results.json``):
``scores`` and ``episodes`` are required; ``suite``, ``track``, ``budget_ms``, ``clock``,
``agent``, ``run``, ``tasks``, ``versions``, ``hardware`` and ``created`` are shown when
present. Scores are normalized (0 = random agent, 100 = planning teacher) and printed with
one decimal; rates (success, latency compliance) are fractions, printed as percentages,
and the success gap in percentage points.

Success leads everywhere: the split table's first column is the success rate, the task
table shows success before the normalized score, the success gap comes before the IQM gap,
and ``success.png`` is the first plot. A dense distance reward normalized to the teacher
saturates (an agent hovering near the goal without succeeding can score 90 or more), so
the normalized score alone cannot say whether the tasks were done. A results file written
before the success gap was scored lacks ``success_gap``: its gap is shown as the
difference of the two success rates, without an interval.

Example:
    >>> print(summary_table(results))
    >>> write_report(results, Path("report"))  # report.html, success.png, tasks.png, ...

matplotlib is imported only when ``write_report`` runs, so the import stays light.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from portia_envs.errors import PortiaError
from portia_envs.suites import SPLITS
from portia_envs.text_table import text_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REQUIRED_KEYS = ("scores", "episodes")
REQUIRED_SCORE_KEYS = ("tasks", "splits")
# (key in scores["splits"][split], column label), success first; success_rate is a fraction,
# the rest normalized scores.
SPLIT_METRICS = (
    ("success_rate", "success rate"),
    ("iqm", "IQM"),
    ("mean", "mean"),
    ("median", "median"),
    ("optimality_gap", "optimality gap"),
)
SPLIT_COLOURS = {"train": "tab:blue", "heldout": "tab:orange"}
OTHER_COLOUR = "tab:gray"
PLOT_DPI = 100
LATENCY_BINS = 40
HTML_NAME = "report.html"
# (column label, key of an episode record) of the failed-episodes table.
FAILED_COLUMNS = (
    ("task", "task_id"),
    ("seed", "seed"),
    ("episode", "episode"),
    ("status", "status"),
    ("error", "error"),
)
PLOT_CAPTIONS = {
    "success.png": "Success rate of the train and held-out tasks, with their CIs.",
    "tasks.png": "Normalized score per task (0 = random, 100 = teacher), with its CI.",
    "splits.png": "Aggregate scores of the train and held-out tasks, with their CIs.",
    "latency.png": "Latency of every decision over all episodes, against the budget.",
}
HTML_STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
table.failed td:last-child { white-space: pre-wrap; font-family: monospace; }
img { max-width: 100%; }
"""


class ReportError(PortiaError, ValueError):
    """A results dict that lacks what a report needs."""


def summary_table(results: Mapping[str, Any]) -> str:
    """Return the results as plain text for the terminal.

    A header line (suite and hash, track, budget and clock for the realtime track, agent),
    a table of the tasks (success first), a table of the splits' success rates and
    aggregates with their CIs (success first), the generalization gap in success then in
    IQM, a line on latency and, if any episode failed, the failures per task with the
    first error (``failure_lines``).

    Args:
        results: A results dict in the harness's results format.

    Returns:
        The text, lines separated by newlines, without a trailing newline.

    Raises:
        ReportError: If ``results`` has no ``scores`` or ``episodes``.
    """
    _check(results)
    scores = results["scores"]
    return "\n".join(
        [
            _header_line(results),
            "",
            text_table(*task_table(results)),
            "",
            text_table(*split_table(scores)),
            "",
            *gap_lines(scores),
            _latency_line(results),
            *failure_lines(results["episodes"]),
        ]
    )


def write_report(results: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write plots and a self-contained HTML page of the results into ``out_dir``.

    Writes ``report.html`` (the plots embedded, so the page travels alone),
    ``success.png`` (train versus held-out success rate), ``tasks.png`` (score per task),
    ``splits.png`` (train versus held-out aggregates) and, on the realtime track when
    episodes carry latencies, ``latency.png``.

    Args:
        results: A results dict in the harness's results format.
        out_dir: The folder to write to; created with its parents if missing. Files of
            the same names are overwritten.

    Returns:
        The paths written, ``report.html`` first, then the plots.

    Raises:
        ReportError: If ``results`` has no ``scores`` or ``episodes``.
    """
    pngs = report_plots(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / HTML_NAME
    page.write_text(_html_page(results, pngs), encoding="utf-8")
    paths = [page]
    for name, data in pngs.items():
        path = out_dir / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def report_plots(results: Mapping[str, Any]) -> dict[str, bytes]:
    """Return the report's plots as PNG bytes by file name (``PLOT_CAPTIONS`` says what each shows).

    ``success.png``, ``tasks.png`` and ``splits.png`` always, in that order; ``latency.png``
    on the realtime track when episodes carry latencies.

    Raises:
        ReportError: If ``results`` has no ``scores`` or ``episodes``.
    """
    _check(results)
    return {name: _png(figure) for name, figure in _figures(results).items()}


def _check(results: Mapping[str, Any]) -> None:
    """Raise ``ReportError`` unless ``results`` has the keys a report reads."""
    if not isinstance(results, Mapping):
        raise ReportError(
            f"results must be a dict (a loaded results.json), not {type(results).__name__}"
        )
    for key in REQUIRED_KEYS:
        if key not in results:
            raise ReportError(
                f"results has no {key!r}: run `portia validate` on the results file to see "
                "what is wrong with it, or rerun the harness to write a complete one"
            )
    for key in REQUIRED_SCORE_KEYS:
        if key not in results["scores"]:
            raise ReportError(
                f"results['scores'] has no {key!r}: run `portia validate` on the results "
                "file, or rescore its episodes with the harness"
            )


# Text.


def _header_line(results: Mapping[str, Any]) -> str:
    """Return the one-line header: suite and hash, track (budget, clock), agent spec."""
    suite = results.get("suite") or {}
    track = results.get("track", "unknown")
    line = f"suite {suite.get('name', 'unknown')} (hash {suite.get('hash', 'unknown')})"
    line += f"  track {track}"
    if track == "realtime":
        line += f" (budget {_ms(results.get('budget_ms'))}, clock {results.get('clock')})"
    agent = results.get("agent") or {}
    line += f"  agent {agent.get('spec', 'unknown')}"
    if results.get("isolation") == "in-process":
        line += " (in-process: for debugging, the agent was not isolated from the env)"
    return line


def failure_lines(episodes: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return lines on failed episodes: how many, and per task the count and first error.

    Empty when every episode completed.
    """
    failed = [r for r in episodes if r["status"] != "ok"]
    if not failed:
        return []
    lines = [f"FAILED: {len(failed)} of {len(episodes)} episodes did not complete"]
    by_task: dict[str, list[Mapping[str, Any]]] = {}
    for record in failed:
        by_task.setdefault(record["task_id"], []).append(record)
    for task_id, records in by_task.items():
        first = records[0]
        reason = (first.get("error") or "").strip().splitlines()
        lines.append(
            f"  {task_id}: {len(records)} failed ({first['status']}), first: "
            f"{reason[0] if reason else 'no reason recorded'}"
        )
    return lines


def task_table(results: Mapping[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Return the header and rows of the task table, one row per task in suite order.

    Success comes first after the task's names, then the normalized score with its CI,
    the mean return, and the episodes and failures. Every cell is text: rates as
    percentages, scores with one decimal and their CI.
    """
    header = (
        "task",
        "split",
        "family",
        "success",
        f"normalized [{_ci_label(results['scores'])}]",
        "mean return",
        "episodes",
        "failed",
    )
    rows = [
        (
            task_id,
            str(row["split"]),
            str(row["family"]),
            _percent(row["success_rate"]),
            _interval(row["normalized"]),
            f"{row['mean_return']:.2f}",
            str(row["episodes"]),
            str(row["failed"]),
        )
        for task_id, row in _ordered_tasks(results)
    ]
    return header, rows


def split_table(scores: Mapping[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Return the header and rows of the split table, as text.

    One row per split: its success rate as a percentage with its CI (``80% [67, 91]``),
    then the normalized-score aggregates with theirs. A metric the results lack shows as
    ``not recorded``.
    """
    header = ("split", *(label for _, label in SPLIT_METRICS))
    rows = [
        (split, *(_metric_text(key, values.get(key)) for key, _ in SPLIT_METRICS))
        for split, values in _ordered_splits(scores)
    ]
    return header, rows


def gap_lines(scores: Mapping[str, Any]) -> list[str]:
    """Return the two generalization-gap lines: in success first, then in IQM.

    Each says train minus held out, with its CI; see ``success_gap_text`` and
    ``iqm_gap_text`` for results that lack a gap.
    """
    return [
        f"generalization gap in success (train - heldout): {success_gap_text(scores)}",
        f"generalization gap in IQM (train - heldout): {iqm_gap_text(scores)}",
    ]


def success_gap_text(scores: Mapping[str, Any]) -> str:
    """Return the success gap in percentage points with its CI, such as ``20 points [5, 35]``.

    Results written before the success gap was scored have no ``success_gap``: the gap is
    then the difference of the splits' success rates, said to have no CI recorded; if
    those are missing too, it is ``not recorded``.
    """
    gap = scores.get("success_gap")
    if gap is not None:
        low, high = 100 * gap["low"], 100 * gap["high"]
        return f"{_points(gap['value'])} [{low:.0f}, {high:.0f}]"
    rates = [(scores.get("splits") or {}).get(split, {}).get("success_rate") for split in SPLITS]
    if any(rate is None for rate in rates):
        return "not recorded"
    train, heldout = (rate["value"] for rate in rates)
    return f"{_points(train - heldout)} (no CI: this results file predates the success gap)"


def iqm_gap_text(scores: Mapping[str, Any]) -> str:
    """Return the generalization gap in IQM with its CI, or why there is none."""
    gap = scores.get("generalization_gap")
    return "not available (needs train and held-out tasks)" if gap is None else _interval(gap)


def _latency_line(results: Mapping[str, Any]) -> str:
    """Return the latency line: compliance and percentiles, or that it was not measured."""
    latency = results["scores"].get("latency")
    if latency is None:
        return f"latency: not measured ({results.get('track', 'unknown')} track)"
    if not latency["decisions"]:
        return "latency: no decision was measured (every episode failed)"
    return (
        f"latency: {_percent(latency['compliance'])} of {latency['decisions']} decisions "
        f"within the {_ms(latency['budget_ms'])} budget; p50 {latency['p50_ms']:.1f} ms, "
        f"p95 {latency['p95_ms']:.1f} ms, max {latency['max_ms']:.1f} ms"
    )


# Reading the results.


def _ordered_tasks(results: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Return the scored tasks as (id, score row), in suite order, then any others."""
    rows = results["scores"]["tasks"]
    order = [task["task_id"] for task in results.get("tasks", ()) if task["task_id"] in rows]
    order += [task_id for task_id in rows if task_id not in order]
    return [(task_id, rows[task_id]) for task_id in order]


def _ordered_splits(scores: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Return the scored splits as (name, aggregates), train first, then held out, then others."""
    splits = scores["splits"]
    order = [split for split in SPLITS if split in splits]
    order += [split for split in splits if split not in order]
    return [(split, splits[split]) for split in order]


def _failed_episodes(episodes: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return the episodes whose status is not ``ok`` (errors and timeouts)."""
    return [episode for episode in episodes if episode.get("status", "ok") != "ok"]


def _latencies_ms(episodes: Sequence[Mapping[str, Any]]) -> NDArray[np.float64]:
    """Return every decision's latency in ms over all episodes, shape ``(n_decisions,)``."""
    chunks = [
        np.asarray(episode["latencies_ms"], dtype=np.float64)
        for episode in episodes
        if episode.get("latencies_ms") is not None
    ]
    return np.concatenate(chunks) if chunks else np.zeros(0)


# Formatting.


def _metric_text(key: str, estimate: Mapping[str, float] | None) -> str:
    """Return one split metric as text: success as percentages, scores with one decimal."""
    if estimate is None:
        return "not recorded"
    return _percent_interval(estimate) if key == "success_rate" else _interval(estimate)


def _interval(interval: Mapping[str, float]) -> str:
    """Return a score interval as ``value [low, high]`` with one decimal."""
    return f"{interval['value']:.1f} [{interval['low']:.1f}, {interval['high']:.1f}]"


def _percent(fraction: float) -> str:
    """Return a fraction in [0, 1] as a whole percentage, such as ``97%``."""
    return f"{100 * fraction:.0f}%"


def _percent_interval(interval: Mapping[str, float]) -> str:
    """Return a fraction interval as whole percentages, such as ``75% [50, 100]``."""
    low, high = 100 * interval["low"], 100 * interval["high"]
    return f"{_percent(interval['value'])} [{low:.0f}, {high:.0f}]"


def _points(fraction: float) -> str:
    """Return a difference of two fractions in whole percentage points, such as ``20 points``."""
    return f"{100 * fraction:.0f} points"


def _ms(milliseconds: float | None) -> str:
    """Return a duration in milliseconds as ``20 ms``, or ``none``."""
    return "none" if milliseconds is None else f"{milliseconds:g} ms"


def _ci_label(scores: Mapping[str, Any]) -> str:
    """Return the confidence level of the bootstrap CIs as a label, such as ``95% CI``."""
    confidence = (scores.get("bootstrap") or {}).get("confidence")
    return "CI" if confidence is None else f"{_percent(confidence)} CI"


# Plots.


def _figures(results: Mapping[str, Any]) -> dict[str, Figure]:
    """Return the report's figures by file name, success first; latency only when measured."""
    figures = {
        "success.png": _success_figure(results),
        "tasks.png": _tasks_figure(results),
        "splits.png": _splits_figure(results),
    }
    latencies = _latencies_ms(results["episodes"])
    if results.get("track") == "realtime" and latencies.size:
        figures["latency.png"] = _latency_figure(results, latencies)
    return figures


def _new_figure(width_in: float, height_in: float) -> Figure:
    """Return an empty figure on an Agg canvas, leaving matplotlib's global backend alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=PLOT_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    """Return ``figure`` rendered as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _error_bars(intervals: Sequence[Mapping[str, float]]) -> tuple[NDArray, NDArray]:
    """Return the values, shape ``(n,)``, and CI half-widths below/above, shape ``(2, n)``."""
    values = np.array([interval["value"] for interval in intervals], dtype=np.float64)
    bounds = np.array([[i["low"], i["high"]] for i in intervals], dtype=np.float64).reshape(-1, 2)
    # An interval that does not contain its point estimate draws no bar on that side.
    return values, np.clip(np.stack([values - bounds[:, 0], bounds[:, 1] - values]), 0, None)


def _reference_lines(axes: Any, *, vertical: bool) -> None:
    """Draw dashed lines at the scores of the random agent (0) and the teacher (100)."""
    draw = axes.axvline if vertical else axes.axhline
    draw(0, color="black", linestyle="--", linewidth=1, label="random (0)")
    draw(100, color="black", linestyle=":", linewidth=1, label="teacher (100)")


def _success_figure(results: Mapping[str, Any]) -> Figure:
    """Return bars of each split's success rate in percent with CIs, titled with the gap.

    A split whose results lack a success rate draws no bar.
    """
    scores = results["scores"]
    splits = [
        (split, values["success_rate"])
        for split, values in _ordered_splits(scores)
        if values.get("success_rate") is not None
    ]
    figure = _new_figure(7.5, 4.0)
    axes = figure.add_subplot()
    percents = [{key: 100 * rate[key] for key in ("value", "low", "high")} for _, rate in splits]
    heights, errors = _error_bars(percents)
    positions = np.arange(len(splits))
    axes.bar(
        positions,
        heights,
        0.5,
        yerr=errors,
        color=[SPLIT_COLOURS.get(split, OTHER_COLOUR) for split, _ in splits],
        capsize=6,
    )
    # The numbers go under the bars, where no error bar crosses them.
    labels = [f"{split}\n{_percent_interval(rate)}" for split, rate in splits]
    axes.set_xticks(positions, labels)
    axes.set_ylim(0, 105)
    axes.set_ylabel(f"success rate, % [{_ci_label(scores)}]")
    axes.set_title(f"generalization gap in success (train - heldout): {success_gap_text(scores)}")
    return figure


def _tasks_figure(results: Mapping[str, Any]) -> Figure:
    """Return horizontal bars of each task's normalized score with CI, coloured by split."""
    tasks = _ordered_tasks(results)
    figure = _new_figure(8.5, 1.5 + 0.35 * len(tasks))
    axes = figure.add_subplot()
    positions = np.arange(len(tasks))[::-1]  # the first task on top
    values, errors = _error_bars([row["normalized"] for _, row in tasks])
    splits = [str(row["split"]) for _, row in tasks]
    for split in dict.fromkeys(splits):
        index = [i for i, name in enumerate(splits) if name == split]
        axes.barh(
            positions[index],
            values[index],
            xerr=errors[:, index],
            color=SPLIT_COLOURS.get(split, OTHER_COLOUR),
            capsize=3,
            label=split,
        )
    _reference_lines(axes, vertical=True)
    axes.set_yticks(positions, [task_id for task_id, _ in tasks])
    axes.set_xlabel(f"normalized score [{_ci_label(results['scores'])}]")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return figure


def _splits_figure(results: Mapping[str, Any]) -> Figure:
    """Return grouped bars of each split's IQM and mean with CIs, titled with the gap."""
    scores = results["scores"]
    splits = _ordered_splits(scores)
    metrics = (("iqm", "IQM"), ("mean", "mean"))
    figure = _new_figure(7.5, 4.0)
    axes = figure.add_subplot()
    width = 0.8 / max(len(splits), 1)
    for number, (split, values) in enumerate(splits):
        heights, errors = _error_bars([values[key] for key, _ in metrics])
        bars = axes.bar(
            np.arange(len(metrics)) + (number - (len(splits) - 1) / 2) * width,
            heights,
            width,
            yerr=errors,
            color=SPLIT_COLOURS.get(split, OTHER_COLOUR),
            capsize=4,
            label=split,
        )
        axes.bar_label(bars, fmt="%.1f", label_type="center")
    _reference_lines(axes, vertical=False)
    axes.set_xticks(np.arange(len(metrics)), [label for _, label in metrics])
    axes.set_ylabel(f"normalized score [{_ci_label(scores)}]")
    axes.set_title(f"generalization gap in IQM (train - heldout): {iqm_gap_text(scores)}")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return figure


def _latency_figure(results: Mapping[str, Any], latencies_ms: NDArray) -> Figure:
    """Return a histogram of per-decision latency with the budget and compliance."""
    latency = results["scores"].get("latency")
    budget_ms = results.get("budget_ms") if latency is None else latency["budget_ms"]
    figure = _new_figure(7.0, 3.5)
    axes = figure.add_subplot()
    axes.hist(latencies_ms, bins=LATENCY_BINS, color=SPLIT_COLOURS["train"])
    if budget_ms is not None:
        axes.axvline(budget_ms, color="tab:red", label=f"budget {_ms(budget_ms)}")
        axes.legend(loc="best", fontsize="small")
    axes.set_xlabel("latency per decision (ms)")
    axes.set_ylabel("decisions")
    if latency is None:
        axes.set_title(f"{latencies_ms.size} decisions (compliance not scored)")
    else:
        axes.set_title(
            f"{_percent(latency['compliance'])} of {latency['decisions']} decisions "
            f"within the {_ms(budget_ms)} budget"
        )
    return figure


# HTML. Every string from the results goes through _html_table, _html_facts or _esc.


def _esc(value: Any) -> str:
    """Return ``value`` as text, escaped for HTML."""
    return html.escape(str(value))


def _html_page(results: Mapping[str, Any], pngs: Mapping[str, bytes]) -> str:
    """Return the report page: facts, tables, embedded plots and the failed episodes."""
    scores = results["scores"]
    suite = results.get("suite") or {}
    agent = results.get("agent") or {}
    title = f"Portia report: {suite.get('name', 'unknown')}, {agent.get('spec', 'unknown')}"
    body = [
        f"<h1>{_esc(title)}</h1>",
        _html_facts(_facts(results)),
        "<h2>Splits</h2>",
        _html_table(*split_table(scores), number_from=1),
        *(f"<p>{_esc(line[0].upper() + line[1:])}</p>" for line in gap_lines(scores)),
        f"<p>{_esc(_latency_line(results))}</p>",
        "<h2>Tasks</h2>",
        _html_table(*task_table(results), number_from=3),
        "<h2>Plots</h2>",
        *(_html_image(name, data) for name, data in pngs.items()),
        "<h2>Failed episodes</h2>",
        _html_failed(_failed_episodes(results["episodes"])),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            f"<title>{_esc(title)}</title>",
            f"<style>{HTML_STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _facts(results: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the header facts as (label, text): suite, track, agent, run, versions, ..."""
    suite = results.get("suite") or {}
    track = results.get("track", "unknown")
    facts = [
        ("suite", str(suite.get("name", "unknown"))),
        ("suite hash", str(suite.get("hash", "unknown"))),
        ("track", str(track)),
    ]
    if track == "realtime":
        facts += [("budget", _ms(results.get("budget_ms"))), ("clock", str(results.get("clock")))]
    agent = results.get("agent") or {}
    about = " ".join(str(agent[key]) for key in ("name", "version") if agent.get(key) is not None)
    facts.append(("agent", f"{agent.get('spec', 'unknown')}" + (f" ({about})" if about else "")))
    for key in ("run", "versions", "hardware"):
        if results.get(key):
            pairs = results[key].items()
            facts.append((key, ", ".join(f"{name} {value}" for name, value in pairs)))
    if results.get("created") is not None:
        facts.append(("created", str(results["created"])))
    return facts


def _html_facts(facts: Sequence[tuple[str, str]]) -> str:
    """Return (label, text) pairs as a two-column HTML table."""
    rows = "".join(f"<tr><th>{_esc(label)}</th><td>{_esc(text)}</td></tr>" for label, text in facts)
    return f'<table class="facts">{rows}</table>'


def _html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    number_from: int | None = None,
    css_class: str = "",
) -> str:
    """Return an HTML table; columns from index ``number_from`` on are right-aligned."""

    def cell(column: int, value: Any) -> str:
        numeric = number_from is not None and column >= number_from
        return f'<td class="number">{_esc(value)}</td>' if numeric else f"<td>{_esc(value)}</td>"

    head = "".join(f"<th>{_esc(name)}</th>" for name in header)
    body = "".join(
        "<tr>" + "".join(cell(column, value) for column, value in enumerate(row)) + "</tr>"
        for row in rows
    )
    opening = f'<table class="{css_class}">' if css_class else "<table>"
    return f"{opening}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_image(name: str, data: bytes) -> str:
    """Return a PNG as an HTML figure with the image embedded as a base64 data URI."""
    encoded = base64.b64encode(data).decode("ascii")
    caption = PLOT_CAPTIONS.get(name, name)
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{_esc(name)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _html_failed(episodes: Sequence[Mapping[str, Any]]) -> str:
    """Return the failed episodes as an HTML table, or a line saying there were none."""
    if not episodes:
        return "<p>No episode failed.</p>"
    rows = [
        tuple("" if episode.get(key) is None else episode[key] for _, key in FAILED_COLUMNS)
        for episode in episodes
    ]
    return _html_table([label for label, _ in FAILED_COLUMNS], rows, css_class="failed")
