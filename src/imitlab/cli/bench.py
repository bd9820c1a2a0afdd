"""``imitlab bench``: algorithms x tasks x demo counts x seeds, resumable."""

from __future__ import annotations

from pathlib import Path

import click

from imitlab.algorithms.registry import ALGORITHMS
from imitlab.cli._common import LateHelpOption
from imitlab.errors import UserError


def _algos_help() -> str:
    return f"Comma-separated: {', '.join(ALGORITHMS)}."


def _demos_help() -> str:
    takes = [name for name, spec in ALGORITHMS.items() if spec.uses_demos]
    return f"Comma-separated demo episode counts (for {', '.join(takes)}; the others take none)."


@click.command()
@click.option("--algos", default="bc,gail,dagger", show_default=True, cls=LateHelpOption, late_help=_algos_help)
@click.option("--envs", default="CartPole-v1", show_default=True, help="Comma-separated env ids of the task registry.")
@click.option("--demos", "demo_counts", default="1,4,10", show_default=True, cls=LateHelpOption, late_help=_demos_help)
@click.option("--seeds", default="0,1,2", show_default=True, help="Comma-separated training seeds.")
@click.option("--out", type=click.Path(), help="Bench directory: runs.jsonl, demos/, tables, figures, report.md.")
@click.option("--workers", default=2, show_default=True, type=int,
              help="Worker processes, one torch thread each (--backend ray: the CPUs of the local Ray instance it "
                   "starts; a cluster's own CPUs decide).")
@click.option("--budget-scale", default=1.0, show_default=True, type=float,
              help="Multiply every task default budget (e.g. 0.1 for a quick look).")
@click.option("--eval-episodes", default=50, show_default=True, type=int, help="Episodes per evaluation.")
@click.option("--demo-seed", default=0, show_default=True, type=int, help="Demo episode i is recorded with seed demo-seed + i.")
@click.option("--report", "report_dir", type=click.Path(), help="Only rebuild DIR's report from its runs.jsonl.")
@click.option("--videos", is_flag=True, help="report.html films one kept policy per task and algorithm (videos/; slow on MuJoCo).")
@click.option("--backend", "backend_name", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where cells run: local (a pool of --workers spawn processes) or ray (one Ray task per cell, one CPU "
                   "each; pip install 'imitlab[ray]').")
@click.option("--address", metavar="ADDR",
              help="With --backend ray: the Ray cluster (auto, HOST:PORT, ray://HOST:10001); default a local Ray "
                   "instance with --workers CPUs.")
@click.option("--retries", default=2, show_default=True, type=int,
              help="With --backend ray: times a cell whose worker process or node died is run again.")
def bench(algos, envs, demo_counts, seeds, out, workers, budget_scale, eval_episodes, demo_seed, report_dir, videos,
          backend_name, address, retries) -> None:
    """Benchmark algorithms x tasks x demo counts x seeds; resumes where it stopped."""
    from imitlab.bench import CellFailed, build_report, run_bench
    from imitlab.bench.backends import make_backend
    from imitlab.bench.grid import parse_ints, parse_names
    from imitlab.bench.html_report import build_html_report

    def log(msg: str) -> None:
        click.echo(msg, err=True)


    if report_dir is not None:
        if not Path(report_dir).is_dir():
            raise UserError(f"--report {report_dir!r} is not a directory; give a bench's --out")
        click.echo(f"wrote {build_report(report_dir)} and {build_html_report(report_dir, videos=videos, log=log)}")
        return
    if out is None:
        raise UserError("give --out DIR for the bench (or --report DIR to rebuild a report)")
    backend = make_backend(backend_name, workers=workers, address=address, retries=retries)  # Ray missing: said here
    algo_list, env_list = parse_names(algos, what="algos"), parse_names(envs, what="envs")
    demo_list, seed_list = parse_ints(demo_counts, what="demos", minimum=1), parse_ints(seeds, what="seeds", minimum=0)
    command = (f"imitlab bench --algos {','.join(algo_list)} --envs {','.join(env_list)} "
               f"--demos {','.join(map(str, demo_list))} --seeds {','.join(map(str, seed_list))} "
               f"--workers {workers} --budget-scale {budget_scale:g} --eval-episodes {eval_episodes} "
               f"--demo-seed {demo_seed} --out {out}")
    if backend_name != "local":
        command += f" --backend {backend_name}" + (f" --address {address}" if address else "")
    try:
        outcome = run_bench(algos=algo_list, envs=env_list, demos=demo_list, seeds=seed_list, out=out, workers=workers,
                            budget_scale=budget_scale, eval_episodes=eval_episodes, demo_seed=demo_seed, command=command,
                            log=lambda msg: click.echo(msg, err=True), backend=backend)
    except CellFailed as e:
        raise click.ClickException(str(e)) from None  # exit 1: not the user's mistake, and nothing is lost
    report = build_report(out)
    page = build_html_report(out, videos=videos, log=log)
    click.echo(f"ran {outcome.ran} runs ({outcome.skipped} already done) in {outcome.wall_seconds:.1f} s; wrote {report} and {page}")
