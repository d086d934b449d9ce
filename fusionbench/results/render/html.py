"""A static, self-contained leaderboard page: one HTML file, no CDN, nothing fetched.

It draws the same grid as the terminal and Markdown (:func:`~fusionbench.results.render.text.board_grid`):
per-dataset tabs, a thumbnail of each method's first fused image (a data URI, so the file can be
mailed or published as is), ``n`` images, flags for values that are shown but not ranked, and the
full specification on hover. Column headers are buttons (reachable with Tab, activated with Enter);
the first click on a metric sorts best-first by its arrow. The layout works from phone width (long
labels wrap, the preview sits beside the method and the metric columns scroll inside their panel)
to a wide screen. Nothing in it depends on the time it was written, so republishing unchanged
results changes no byte.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fusionbench.results.leaderboard import OUTPUTS_MARK, RANK_NOTE, Leaderboard
from fusionbench.results.previews import preview_dir
from fusionbench.results.render.text import FLAG_MARK, Grid, board_grid, number
from fusionbench.results.store import safe_name

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:16px;color:#1b1f23;max-width:100%}
h1{font-size:20px;margin:0 0 4px;overflow-wrap:anywhere}.meta{color:#586069;margin-bottom:12px;overflow-wrap:anywhere}
.tabs{display:flex;flex-wrap:wrap;gap:4px}
.tabs button{border:1px solid #d0d7de;background:#f6f8fa;padding:6px 12px;cursor:pointer;border-radius:6px 6px 0 0;font:inherit}
.tabs button.active{background:#fff;border-bottom-color:#fff;font-weight:600}
.panel{display:none;border:1px solid #d0d7de;padding:8px;border-radius:0 6px 6px 6px;overflow-x:auto;max-width:100%}
.panel.active{display:block}
table{border-collapse:collapse}
th,td{padding:4px 8px;border-bottom:1px solid #eaecef;text-align:right;white-space:nowrap;vertical-align:middle}
th{background:#f6f8fa}th.text,td.text{text-align:left}
th button{all:unset;cursor:pointer;font-weight:600}th button:focus-visible{outline:2px solid #0969da;outline-offset:2px}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
td.method{white-space:normal;overflow-wrap:break-word;min-width:8em;max-width:22em}
td.method a{color:#0969da}
td.best{font-weight:700}td.flagged{color:#9a6700}
td.preview img{height:64px;width:64px;object-fit:contain;image-rendering:pixelated;display:block}
td.note{white-space:normal;min-width:10em;max-width:24em;color:#9a6700;font-size:12px;text-align:left}
.warn{color:#9a6700;overflow-wrap:anywhere}.std{color:#6a737d;font-size:12px}
@media (max-width:600px){body{margin:8px;font-size:13px}td.preview img{height:44px;width:44px}
th,td{padding:3px 5px}td.method{min-width:7em}}
.badge{font-size:11px;padding:1px 6px;border-radius:8px;background:#fff8c5;border:1px solid #d4a72c;color:#7d4e00;margin-left:6px;white-space:nowrap}
h3.reported,h3.gap{font-size:14px;margin:14px 0 4px;color:#57606a;font-style:italic}
"""

_JS = """
function showTab(i){document.querySelectorAll('.tabs button').forEach((b,j)=>{b.classList.toggle('active',i===j);b.setAttribute('aria-selected',i===j);});
document.querySelectorAll('.panel').forEach((p,j)=>p.classList.toggle('active',i===j));}
function sortTable(th){const table=th.closest('table');const idx=[...th.parentNode.children].indexOf(th);
const current=th.getAttribute('aria-sort');const first=th.dataset.first||'ascending';
const asc=current?current!=='ascending':first==='ascending';
table.querySelectorAll('th').forEach(h=>h.removeAttribute('aria-sort'));
th.setAttribute('aria-sort',asc?'ascending':'descending');const body=table.tBodies[0];
const key=r=>{const c=r.cells[idx];const v=c.dataset.value;return v===undefined?c.textContent:(v===''?null:parseFloat(v));};
const rows=[...body.rows];
rows.sort((a,b)=>{const x=key(a),y=key(b);if(x===null||y===null){return (x===null)-(y===null);}
const cmp=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));return asc?cmp:-cmp;});
rows.forEach(r=>body.appendChild(r));}
document.addEventListener('DOMContentLoaded',()=>{document.querySelectorAll('th button').forEach(b=>b.addEventListener('click',()=>sortTable(b.closest('th'))));showTab(0);});
"""

THUMBNAIL_SIDE = 96


def _thumbnail(results: Path, suite: str, scores: pd.DataFrame, dataset: str, method: str) -> str:
    rows = scores[(scores["dataset"] == dataset) & (scores["method"] == method)]
    for run_key in sorted(rows["run_key"].unique()):
        for image_id in sorted(rows[rows["run_key"] == run_key]["image_id"].unique()):
            path = preview_dir(results, suite, run_key) / f"{safe_name(image_id)}.png"
            if path.exists():
                data = base64.b64encode(_small_png(path)).decode("ascii")
                alt = html.escape(f"{method} {image_id}", quote=True)
                return f'<img alt="{alt}" src="data:image/png;base64,{data}">'
    return ""


def _small_png(path: Path) -> bytes:
    """A 96-pixel thumbnail, so a page with dozens of methods stays a few hundred kilobytes."""
    import io

    from PIL import Image

    with Image.open(path) as picture:
        picture = picture.convert("RGB")
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _breakable(label: str) -> str:
    """An escaped label that a narrow screen wraps at its parameter boundaries (after ``[``,
    ``,`` and ``+``) rather than in the middle of a name."""
    out = _e(label)
    for char in ("[", ",", "+"):
        out = out.replace(char, char + "<wbr>")
    return out


def render_html(
    board: Leaderboard, scores: pd.DataFrame, results: Path, suite: str, reported: Sequence[Any] = ()
) -> str:
    """The page of one suite's ``board``; ``scores`` (labelled like the board, see
    :func:`~fusionbench.results.labels.with_labels`) find each method's preview."""
    from fusionbench import __version__

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>fusionbench — {_e(suite)}</title><style>{_CSS}</style></head><body>",
        f"<h1>fusionbench leaderboard — {_e(suite)}</h1>",
        f"<div class='meta'>fusionbench {_e(__version__)}; mean ± std over images (and seeds); n = images; "
        f"{_e(RANK_NOTE)}; best in bold; {FLAG_MARK} = shown, not ranked; "
        "click a column header (or Tab to it and press Enter) to sort; hover a method for its full specification</div>",
    ]
    for problem in board.problems:
        parts.append(f"<div class='warn'>not comparable: {_e(problem)}</div>")
    parts.append("<div class='tabs' role='tablist'>")
    for i, dataset in enumerate(board.datasets):
        label = dataset + (" (synthetic)" if board.is_synthetic(dataset) else "")
        parts.append(
            f"<button type='button' role='tab' data-dataset='{_e(dataset)}' onclick='showTab({i})'>{_e(label)}</button>"
        )
    parts.append("</div>")
    for dataset in board.datasets:
        parts.append(_panel(board_grid(board, dataset), scores, results, suite, reported))
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"


def _sortable(label: str, first: str, css: str = "num", extra: str = "") -> str:
    return f"<th class='{css}' data-first='{first}'{extra}><button type='button'>{_e(label)}</button></th>"


def _panel(grid: Grid, scores: pd.DataFrame, results: Path, suite: str, reported: Sequence[Any] = ()) -> str:
    out = [f"<div class='panel' role='tabpanel' data-dataset='{_e(grid.dataset)}'><table><thead><tr>"]
    out.append(_sortable("#", "ascending"))
    out.append("<th class='text'>preview</th>")
    out.append(_sortable("method", "ascending", "text"))
    out.append(_sortable("n", "descending"))
    for metric, header, higher in zip(grid.metrics, grid.metric_headers, grid.higher):
        out.append(_sortable(header, "descending" if higher else "ascending", "num", f" data-metric='{_e(metric)}'"))
    if grid.has_notes:
        out.append("<th class='text'>note</th>")
    out.append("</tr></thead><tbody>")
    for row in grid.rows:
        position = "" if row.position == "-" else row.position
        name = f"<a href='{_e(row.url)}'>{_breakable(row.method)}</a>" if row.url else _breakable(row.method)
        if row.from_outputs:
            name += f" <span class='badge outputs' title='scored from saved outputs, not run here'>{_e(OUTPUTS_MARK)}</span>"
        n_value = row.n_images.split("-")[0]
        out.append(
            f"<tr data-method='{_e(row.method)}'><td data-value='{position}'>{_e(row.position)}</td>"
            f"<td class='text preview'>{_thumbnail(results, suite, scores, grid.dataset, row.method)}</td>"
            f"<td class='text method' title='{_e(row.spec)}'>{name}</td><td data-value='{n_value}'>{_e(row.n_images)}</td>"
        )
        for cell in row.cells:
            classes = "num" + (" best" if cell.best else "") + (" flagged" if cell.flagged else "")
            value = "" if cell.value is None else number(cell.value)
            mean, _, rest = cell.text.partition(" ± ")
            body = _e(mean) + (f"<span class='std'> ± {_e(rest)}</span>" if rest else "")
            out.append(f"<td class='{classes}' data-value='{value}'>{body}</td>")
        if grid.has_notes:
            out.append(f"<td class='note'>{_e(row.note)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if reported:
        from fusionbench.results.render.reported import gap_table, reported_html

        out.append(reported_html(grid.dataset, reported, gap_table(scores, reported, grid.dataset)))
    out.append("</div>")
    return "".join(out)
