"""The twelve weeks' trends as a PNG image, for a manager's digest (Slack and Teams) and the console.

matplotlib is an optional extra (`pip install small-changes[charts]`): without it there is no image, and the digest
keeps its sparklines. The figure is drawn on matplotlib's Agg canvas directly (no pyplot), so the clock's threads
never share pyplot's global state.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path

from bot.core.model import Trends

log = logging.getLogger(__name__)
COLOUR = "#2e7d5b"
DPI = 80  # 720 × 400 pixels
CHARTS = Path("charts")  # where the consoles put the charts they are sent (.gitignore keeps them out)


@lru_cache(maxsize=8)  # a tick sends the same period's chart to every manager
def chart_png(trends: Trends) -> bytes | None:
    """A small multiple per series, a bar a week: None without matplotlib, or when nothing happened."""
    if trends.quiet:
        return None
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from PIL import Image
    except ImportError:
        log.info("no trends chart: matplotlib is not installed (pip install small-changes[charts])")
        return None
    try:  # best effort: a digest is never held up, nor sent twice, by its chart
        figure = Figure(figsize=(9, 5), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(f"Twelve weeks, {trends.span}", fontsize=12)
        labels = [f"{week:%-d %b}" for week in trends.weeks]
        axes = figure.subplots(2, 3, sharex=True)
        for ax, series in zip(axes.flat, trends.series, strict=True):
            ax.bar(range(len(series.values)), series.values, color=COLOUR)
            ax.set_title(f"{series.name}: {series.said(series.values[-1])} last week", fontsize=10)
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(labelsize=7)
        for ax in axes[-1]:
            ax.set_xticks(range(0, len(labels), 3), labels[::3], rotation=0)
        figure.canvas.draw()
        # A few flat colours: a 32-colour palette (Pillow comes with matplotlib) makes the file a third of the size.
        image = Image.frombuffer("RGBA", figure.canvas.get_width_height(), figure.canvas.buffer_rgba())
        out = io.BytesIO()
        image.convert("RGB").quantize(colors=32).save(out, format="PNG", optimize=True)
    except Exception:
        log.warning("the trends chart could not be drawn", exc_info=True)
        return None
    return out.getvalue()


def saved(name: str, png: bytes, folder: Path = CHARTS) -> Path:
    """A chart a console was sent, as a file to open (the console prints its path)."""
    folder.mkdir(exist_ok=True)
    path = folder / Path(name).name  # a file name only: never a path from a message
    path.write_bytes(png)
    return path
