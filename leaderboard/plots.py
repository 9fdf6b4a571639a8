"""An entry's report plots (``portia report``'s), drawn once and kept on disk.

A plot is kept as ``DATA_DIR/plots/RESULTS_SHA256/NAME``: the results file's sha256
names the content, so a kept plot never goes stale. Drawing takes a fraction of a second;
a kept plot is read back.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from leaderboard.models import Entry
from portia_envs.harness.report import PLOT_CAPTIONS, report_plots

__all__ = ["PLOT_CAPTIONS", "plot_png"]
PLOTS_DIR = "plots"


def plot_png(data_dir: Path, entry: Entry, name: str) -> bytes:
    """Return the PNG of plot ``name`` (a key of ``PLOT_CAPTIONS``) of ``entry``.

    The entry's plots are drawn (all at once) the first time one is asked for, and written
    to the data directory atomically, so concurrent requests never read half a file.

    Raises:
        NotFoundError: If the entry has no such plot (``latency.png`` of a paused run).
    """
    from leaderboard.errors import NotFoundError

    folder = data_dir / PLOTS_DIR / entry.results_sha256
    path = folder / name
    if path.exists():
        return path.read_bytes()
    pngs = report_plots(json.loads(entry.results))
    folder.mkdir(parents=True, exist_ok=True)
    for plot, data in pngs.items():
        descriptor, scratch = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(scratch, folder / plot)
    if name not in pngs:
        raise NotFoundError(f"entry {entry.id} has no {name}; it has {', '.join(pngs)}")
    return pngs[name]
