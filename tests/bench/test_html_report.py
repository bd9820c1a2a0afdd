"""The bench's report.html: the tables of report.md and its figures on one page, whose images
(and, on request, videos) are files beside it."""

import json

import pytest

from imitlab.bench.html_report import build_html_report, markdown_table_rows, policy_path, video_path
from imitlab.bench.report import build_report
from imitlab.bench.runs import append_run
from imitlab.errors import UserError
from tests.report.pages import check_page


def _record(algo, n_demos, seed, score):
    history = [{"env_steps": s, "epoch": None, "train_seconds": s / 1000, "mean_return": 20 + 480 * score * s / 4096,
                "normalized_score": score * s / 4096} for s in (2048, 4096)]
    return {"algo": algo, "env": "CartPole-v1", "n_demos": n_demos, "seed": seed, "budget": 4096, "budget_unit": "env_steps",
            "expert": "zoo", "demos": None, "env_steps": 4096, "train_seconds": 4.0, "wall_seconds": 5.0,
            "final_mean_return": 20 + 480 * score, "normalized_score": score, "eval_episodes": 5, "history": history,
            "config": {}}


@pytest.fixture
def bench(tmp_path):
    (tmp_path / "bench.json").write_text(json.dumps({"settings": {"budget_scale": 0.1}, "invocations": [
        {"command": "imitlab bench --algos gail --out B", "to_run": 4}]}))
    for n, seed, score in [(1, 0, 0.2), (1, 1, 0.4), (4, 0, 0.9), (4, 1, 0.5), (4, 2, 0.7)]:
        append_run(tmp_path / "runs.jsonl", _record("gail", n, seed, score))
    build_report(tmp_path)
    return tmp_path


def test_page_holds_the_markdown_tables_and_links_the_figures(bench):
    out = build_html_report(bench)
    assert out == bench / "report.html"
    page = check_page(out)
    assert [src for _, src in page.media] == ["CartPole-v1-scores.png", "CartPole-v1-curves.png"]
    header, rows = markdown_table_rows((bench / "CartPole-v1.md").read_text())
    text = " ".join(page.text)
    assert header[0] == "algorithm" and len(rows) == 2
    for row in rows:  # every cell of report.md's table is on the page
        assert all(cell in text for cell in row)
    assert "imitlab bench --algos gail --out B" in text
    assert "Videos" not in page.headings  # off by default


def test_missing_figures_are_drawn(bench):
    (bench / "CartPole-v1-curves.png").unlink()
    check_page(build_html_report(bench))
    assert (bench / "CartPole-v1-curves.png").is_file()


def test_videos_film_the_median_run_of_the_most_demos_when_its_policy_was_kept(bench):
    from imitlab.experts import zoo_path
    from imitlab.policies import load_policy, save_policy

    policy, _ = load_policy(zoo_path("CartPole-v1"))
    # 4 demos, scores 0.9, 0.5, 0.7 over seeds 0, 1, 2: the median is seed 2's 0.7
    save_policy(policy, policy_path(bench, "CartPole-v1", "gail", 4, 2), env_id="CartPole-v1")
    made = []
    out = build_html_report(bench, videos=True, log=made.append)
    page = check_page(out)
    assert made == ["filming CartPole-v1 gail (policies/CartPole-v1/gail-4-seed2.pt)"]
    assert [src for tag, src in page.media if tag == "source"] == ["videos/CartPole-v1-gail.mp4"]
    assert video_path(bench, "CartPole-v1", "gail").is_file()
    assert "seed 2, final normalized score 0.700" in " ".join(page.text)
    build_html_report(bench, videos=True, log=made.append)
    assert len(made) == 1  # the video is newer than its policy: reused


def test_videos_without_a_kept_policy_say_so(bench):
    page = check_page(build_html_report(bench, videos=True))
    assert "no kept policy (policies/CartPole-v1/gail-4-seed2.pt)" in " ".join(page.text)


def test_empty_bench_dir_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no finished runs"):
        build_html_report(tmp_path)
    assert list(tmp_path.iterdir()) == []
