"""HTML reports: one page per run or set of runs (``imitlab report``), and the page builder the
bench's ``report.html`` uses too.

A page embeds its figures and videos as ``data:`` URIs by default, so that it is one file that
opens anywhere (mail it, attach it); with ``embed=False`` they are files in ``NAME_files/``
beside the page, or files already beside it (the bench's figures), named by relative paths.
The page is written to a temporary name, then renamed.
"""

from __future__ import annotations

import base64
import html
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from imitlab.errors import UserError
from imitlab.utils import atomic_write, atomic_write_text

MIME = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
        ".mp4": "video/mp4", ".webm": "video/webm"}

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0 auto;
       max-width: 1040px; padding: 0 16px 48px; }
h1 { font-size: 1.6em; margin: 24px 0 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; }
h3 { margin: 22px 0 6px; font-size: 1.05em; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.88em; margin: 6px 0 12px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 8px 0 16px; } figure img, figure video { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.88em; }
nav a { margin-right: 12px; } code { background: #f4f4f4; padding: 0 3px; }
pre { white-space: pre-wrap; background: #f4f4f4; padding: 6px 8px; }
.note { color: #8a4b00; }
details summary { cursor: pointer; color: #444; }
.cols { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
@media print { nav { display: none; } video { display: none; } }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class Page:
    """An HTML page built section by section, written with :meth:`write`.

    Args:
        title: the page's title and first heading.
        out: where the page will be written (relative asset paths are relative to its folder).
        embed: figures and videos as ``data:`` URIs (one self-contained file); else as files in
            ``<out stem>_files/`` beside the page (existing files beside it are linked as they are).
    """

    def __init__(self, title: str, *, out: str | os.PathLike, embed: bool = True) -> None:
        self.title = title
        self.out = Path(out)
        self.embed = embed
        self.parts: list[str] = []
        self._assets = 0

    # ------------------------------------------------------------------------------ text
    def heading(self, level: int, text: str, *, anchor: str | None = None) -> None:
        ident = f' id="{_e(anchor)}"' if anchor else ""
        self.parts.append(f"<h{level}{ident}>{_e(text)}</h{level}>")

    def paragraph(self, text: str, *, css: str | None = None) -> None:
        cls = f' class="{_e(css)}"' if css else ""
        self.parts.append(f"<p{cls}>{_e(text)}</p>")

    def raw(self, markup: str) -> None:
        """Markup the caller built (and escaped) itself."""
        self.parts.append(markup)

    def code_block(self, text: str) -> None:
        self.parts.append(f"<pre><code>{_e(text)}</code></pre>")

    def table(self, header: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Sequence[int] = ()) -> None:
        """A table; the columns ``numeric`` are right-aligned."""
        head = "".join(f"<th>{_e(h)}</th>" for h in header)
        body = []
        for row in rows:
            cells = "".join(f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>" for i, v in enumerate(row))
            body.append(f"<tr>{cells}</tr>")
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    def table_columns(self, header: Sequence[str], rows: Sequence[Sequence[Any]], *, columns: int = 3) -> None:
        """A long two-column table (settings) cut into ``columns`` tables side by side."""
        if len(rows) <= 12:
            self.table(header, rows)
            return
        per = -(-len(rows) // columns)
        self.parts.append('<div class="cols">')
        for start in range(0, len(rows), per):
            self.table(header, rows[start:start + per])
        self.parts.append("</div>")

    def details(self, summary: str, build: Any) -> None:
        """A collapsed block: ``build(page)`` adds its content."""
        self.parts.append(f"<details><summary>{_e(summary)}</summary>")
        build(self)
        self.parts.append("</details>")

    # ---------------------------------------------------------------------------- assets
    def _asset_src(self, *, data: bytes | None = None, path: Path | None = None, suffix: str) -> str:
        mime = MIME.get(suffix.lower(), "application/octet-stream")
        if self.embed:
            return data_uri(data if data is not None else Path(path).read_bytes(), mime)  # type: ignore[arg-type]
        if path is not None:
            try:
                return Path(os.path.relpath(path.resolve(), self.out.parent.resolve())).as_posix()
            except ValueError:  # another drive (Windows): copy it
                data = path.read_bytes()
        assert data is not None
        self._assets += 1
        target = self.out.parent / f"{self.out.stem}_files" / f"asset-{self._assets:03d}{suffix.lower()}"

        def write(tmp: str) -> None:
            Path(tmp).write_bytes(data)

        atomic_write(target, write)
        return target.relative_to(self.out.parent).as_posix()

    def figure(self, *, png: bytes | None = None, path: Path | None = None, alt: str, caption: str = "") -> None:
        """An image: PNG bytes (a figure just drawn) or an image file."""
        suffix = ".png" if png is not None else Path(path).suffix  # type: ignore[arg-type]
        src = self._asset_src(data=png, path=path, suffix=suffix)
        cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
        self.parts.append(f'<figure><img src="{_e(src)}" alt="{_e(alt)}">{cap}</figure>')

    def video(self, path: Path, *, caption: str = "") -> None:
        """A video file: an MP4 as a looping, muted ``<video>`` with controls; a GIF as an image."""
        if path.suffix.lower() == ".gif":
            self.figure(path=path, alt=caption or path.name, caption=caption)
            return
        src = self._asset_src(path=path, suffix=path.suffix)
        cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
        mime = MIME.get(path.suffix.lower(), "video/mp4")
        self.parts.append(f'<figure><video controls loop muted playsinline preload="metadata">'
                          f'<source src="{_e(src)}" type="{mime}">your browser plays no {_e(mime)}</video>{cap}</figure>')

    # ---------------------------------------------------------------------------- output
    def render(self, *, nav: Sequence[tuple[str, str]] = ()) -> str:
        links = "".join(f'<a href="#{_e(anchor)}">{_e(text)}</a>' for anchor, text in nav)
        from imitlab import __version__

        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{_e(self.title)}</title><style>{CSS}</style></head><body>"
                f"<h1>{_e(self.title)}</h1><p class=\"meta\">imitlab {_e(__version__)}, {_e(time.strftime('%Y-%m-%d %H:%M'))}</p>"
                + (f"<nav>{links}</nav>" if links else "") + "\n".join(self.parts) + "</body></html>\n")

    def write(self, *, nav: Sequence[tuple[str, str]] = ()) -> Path:
        atomic_write_text(self.out, self.render(nav=nav))
        return self.out


# ------------------------------------------------------------------------------ run reports
def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value) if all(not isinstance(v, dict | list) for v in value) else json.dumps(value)
    if value is None:
        return "-"
    return str(value)


def flatten(config: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``{"a": {"b": 1}}`` -> ``[("a.b", "1")]``: nested settings as dotted names."""
    rows: list[tuple[str, str]] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += flatten(value, f"{name}.")
        else:
            rows.append((name, _fmt(value)))
    return rows


def _summary_row(run: Any) -> list[Any]:
    final = run.final_eval or {}
    last = run.metrics[-1] if run.metrics else {}
    score = final.get("normalized_score")
    steps = last.get("env_steps", float("nan"))
    epoch = last.get("epoch", float("nan"))
    return [run.name, run.algo, run.env_id, run.seed,
            f"{final['mean_return']:.1f} ± {final['std_return']:.1f}" if "mean_return" in final else "-",
            "-" if score is None else f"{score:.3f}",
            f"{steps:,.0f}" if steps == steps and steps > 0 else "-",
            f"{epoch:,.0f}" if epoch == epoch else "-",
            f"{run.summary.get('train_seconds', float('nan')):.1f}"]


_SUMMARY_HEADER = ["run", "algorithm", "env", "seed", "final return", "normalized", "env steps", "epochs", "train s"]


def build_report(
    run_dirs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    eval_episodes: int | None = None,
    embed: bool = True,
    title: str | None = None,
) -> Path:
    """Write the HTML report of ``run_dirs`` to ``out``; returns its path.

    Per run: its final evaluation, learning curves (normalized score vs env steps and vs
    training seconds), the adversary's health (when progress.csv logged it), the final
    evaluation's return histogram against the task registry's expert and random returns (the
    evaluation replayed from ``policy.pt``; ``eval_episodes`` sets its episodes, 0 skips it), the
    learned reward's picture (``reward.png``) and the video (``video.mp4``/``video.gif``) when the
    run has them, and its config. Several runs get a comparison table and curves first.

    Raises:
        UserError: a path is not a run directory, or ``out`` is not an .html path; nothing is
            written then.
    """
    from imitlab.report.runs import read_run, run_names

    out_path = check_report_out(out)
    if not run_dirs:
        raise UserError("give at least one run directory")
    if eval_episodes is not None and eval_episodes < 0:
        raise UserError(f"--eval-episodes must be >= 0, got {eval_episodes}")
    paths = [Path(p) for p in run_dirs]
    runs = [read_run(p, name=n) for p, n in zip(paths, run_names(paths))]
    page = Page(title or (f"imitlab report: {runs[0].name}" if len(runs) == 1 else f"imitlab report: {len(runs)} runs"),
                out=out_path, embed=embed)
    _report_runs(page, runs, eval_episodes=eval_episodes)
    nav = ([("comparison", "comparison")] if len(runs) > 1 else []) + [(f"run-{i}", r.name) for i, r in enumerate(runs)]
    return page.write(nav=nav if len(runs) > 1 else ())


def check_report_out(out: str | os.PathLike) -> Path:
    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {str(path)!r}: a report is an .html file; name one, e.g. report.html")
    if path.is_dir():
        raise UserError(f"--out {str(path)!r} is a directory; name an .html file")
    return path


def _report_runs(page: Page, runs: list[Any], *, eval_episodes: int | None) -> None:
    from imitlab.report.plots import adversary_health_png, learning_curves_png

    if len(runs) > 1:
        page.heading(2, "Comparison", anchor="comparison")
        page.table(_SUMMARY_HEADER, [_summary_row(r) for r in runs], numeric=(3, 4, 5, 6, 7, 8))
        page.figure(png=learning_curves_png(runs, title="all runs: learning curves (band: ±1 std over evaluation episodes)"),
                    alt="learning curves of all runs",
                    caption="Each run's evaluations during training. A run with no env steps of its own (BC) is a flat "
                            "line at its final score on the left.")
    for i, run in enumerate(runs):
        page.heading(2, run.name, anchor=f"run-{i}")
        page.paragraph(f"{run.path}", css="meta")
        page.table(_SUMMARY_HEADER, [_summary_row(run)], numeric=(3, 4, 5, 6, 7, 8))
        if len(run.metrics) == 1:
            page.heading(3, "Learning curves")
            page.paragraph("One evaluation, at the end of training (its numbers are in the table above): no curve to "
                           "draw. Train with --eval-every to evaluate along the way.", css="note")
        elif run.metrics:
            page.heading(3, "Learning curves")
            page.figure(png=learning_curves_png([run]), alt=f"{run.name}: learning curves",
                        caption=_curves_caption(run))
        health = adversary_health_png(run)
        if health is not None:
            page.heading(3, "The adversary's health")
            page.figure(png=health, alt=f"{run.name}: discriminator health",
                        caption="From progress.csv, per iteration. Accuracies pinned at 1 with logits drifting apart: "
                                "the discriminator wins outright and gives the policy no signal.")
        _evaluation_section(page, run, eval_episodes)
        reward = run.artifact("reward.png")
        if reward is not None:
            page.heading(3, "Learned reward")
            page.figure(path=reward, alt=f"{run.name}: learned reward", caption=f"{reward.name} from the run directory")
        elif run.artifact("reward.pt") is not None:
            page.heading(3, "Learned reward")
            page.paragraph(f"The run learned a reward (reward.pt); 'imitlab reward show {run.path} --out "
                           f"{run.path / 'reward.png'}' draws it, and this report then shows it.", css="note")
        others = sorted(p for p in run.path.glob("*.png") if p.name != "reward.png")
        if others:
            page.heading(3, "Other pictures")
            for picture in others:
                page.figure(path=picture, alt=f"{run.name}: {picture.name}", caption=f"{picture.name} from the run directory")
        video = run.artifact("video.mp4", "video.gif")
        if video is not None:
            page.heading(3, "Video")
            page.video(video, caption=f"{video.name}: the final policy (imitlab video / train --video)")
        page.heading(3, "Config")
        config = {k: v for k, v in run.config.items() if k != "versions"}
        page.table_columns(["setting", "value"], flatten(config))
        extra = {k: v for k, v in run.summary.items() if k not in ("final_eval", "env_id", "seed", "algo")}
        if extra:
            page.details("summary.json", lambda p, extra=extra: p.table(["field", "value"], flatten(extra)))
        versions = run.config.get("versions")
        if isinstance(versions, dict):
            page.details("versions", lambda p, versions=versions: p.table(["package", "version"], flatten(versions)))


def _curves_caption(run: Any) -> str:
    n = len(run.metrics)
    text = f"{n} evaluation{'s' if n != 1 else ''} (metrics.csv)"
    from imitlab.tasks import get_task

    if get_task(run.env_id) is None:
        return f"{text}; {run.env_id} is not in the task registry, so the curves show the mean return, not a normalized score."
    return (f"{text}; dotted lines: the normalized score of the random policy (0) and of the expert (1), "
            "from the task registry.")


def _evaluation_section(page: Page, run: Any, eval_episodes: int | None) -> None:
    from imitlab.report.plots import return_histogram_png
    from imitlab.report.runs import replay_final_evaluation

    if eval_episodes == 0:
        return
    replay = replay_final_evaluation(run, episodes=eval_episodes)
    if replay is None:
        page.heading(3, "Evaluation")
        page.paragraph("No policy.pt in the run directory: no evaluation to show.", css="note")
        return
    page.heading(3, "Evaluation")
    mean = float(replay.returns.mean())
    if replay.recorded_mean is None:
        note = f"{len(replay.returns)} episodes replayed from policy.pt (seed {replay.seed})."
    elif abs(mean - replay.recorded_mean) <= 1e-6 * max(1.0, abs(mean)):
        note = f"The run's final evaluation replayed from policy.pt: {len(replay.returns)} episodes, mean {mean:.2f}, as recorded."
    else:
        note = (f"The run's final evaluation replayed from policy.pt: mean {mean:.2f}, recorded {replay.recorded_mean:.2f} "
                "(a chaotic physics engine, or another machine or package release, gives other episodes).")
    page.figure(png=return_histogram_png(run, replay), alt=f"{run.name}: return histogram",
                caption=note + " Dashed lines and bands: the task registry's expert and random returns (mean ± std over 50 episodes).")
