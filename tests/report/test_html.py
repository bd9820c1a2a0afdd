"""The HTML report of real run directories: the page parses, every image and video it names
exists (embedded or beside it), it shows each section a run calls for, and the return histogram
replays the run's own final evaluation."""

import shutil
import subprocess

import numpy as np
import pytest

from imitlab.errors import UserError
from imitlab.report.html import build_report, flatten
from tests.report.pages import check_page


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cartpole_demos):
    """A small real GAIL run (with a video and a reward picture beside it) and a BC run."""
    from imitlab.algorithms import train_bc, train_gail
    from imitlab.defaults import config_for
    from imitlab.report.video import write_run_video

    root = tmp_path_factory.mktemp("runs")
    train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=4096, seed=0, config=config_for("gail", "CartPole-v1"),
               out=root / "gail", eval_every=2048, eval_episodes=5)
    write_run_video(root / "gail", max_steps=30)
    from imitlab.report.style import png_bytes, styled

    with styled() as plt:
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, 1])
        (root / "gail" / "reward.png").write_bytes(png_bytes(fig))
    train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(3), seed=0, config=config_for("bc", "CartPole-v1", epochs=20),
             out=root / "bc", eval_every=5, eval_episodes=5)
    return root


def test_one_gail_run_page_has_every_section_and_embeds_its_media(runs, tmp_path):
    out = build_report([runs / "gail"], tmp_path / "report.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # one self-contained file
    page = check_page(out)
    assert page.headings == ["gail", "Learning curves", "The adversary's health", "Evaluation", "Learned reward", "Video",
                             "Config"]
    kinds = [src.split(";")[0] for _, src in page.media]
    assert kinds == ["data:image/png"] * 4 + ["data:video/mp4"]  # curves, health, histogram, reward; the video
    text = " ".join(page.text)
    # The histogram replays the final evaluation: the same 5 episodes, so the same mean as recorded.
    assert "5 episodes" in text and "as recorded" in text
    assert "disc_epochs" in text and "ppo.clip" in text  # the config, nested settings flattened


def test_report_of_two_runs_compares_them_first(runs, tmp_path):
    out = build_report([runs / "gail", runs / "bc"], tmp_path / "both.html", eval_episodes=0)
    page = check_page(out)
    assert page.headings[:1] == ["Comparison"]
    assert "The adversary's health" in page.headings  # GAIL's
    assert page.headings.count("The adversary's health") == 1  # BC has no discriminator
    assert "Evaluation" not in page.headings  # --eval-episodes 0: no replay
    text = " ".join(page.text)
    assert text.count("CartPole-v1") >= 4  # comparison rows and each run's own table


def test_files_beside_the_page_instead_of_embedded(runs, tmp_path):
    out = build_report([runs / "gail"], tmp_path / "r.html", embed=False, eval_episodes=3)
    page = check_page(out)
    assert all(not src.startswith("data:") for _, src in page.media)
    assert len(list((tmp_path / "r_files").iterdir())) == 3  # the figures drawn; reward.png and the video are linked
    assert sum(src.endswith("video.mp4") for _, src in page.media) == 1


def test_replay_reproduces_the_recorded_final_evaluation(runs):
    from imitlab.report.runs import read_run, replay_final_evaluation

    run = read_run(runs / "gail")
    replay = replay_final_evaluation(run)
    assert len(replay.returns) == 5 and replay.seed == 10_000
    assert float(np.mean(replay.returns)) == pytest.approx(run.final_eval["mean_return"], abs=1e-9)


def test_not_a_run_dir_or_not_html_writes_nothing(tmp_path, runs):
    with pytest.raises(UserError, match="no config.json"):
        build_report([tmp_path], tmp_path / "r.html")
    with pytest.raises(UserError, match=r"\.html"):
        build_report([runs / "gail"], tmp_path / "r.pdf")
    assert list(tmp_path.iterdir()) == []


def test_flatten_names_nested_settings():
    assert flatten({"a": {"b": 1, "c": [64, 64]}, "d": None, "e": 0.1}) == [("a.b", "1"), ("a.c", "64, 64"), ("d", "-"),
                                                                          ("e", "0.1")]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_chromium_renders_the_page(runs, tmp_path):
    out = build_report([runs / "gail"], tmp_path / "report.html", eval_episodes=3)
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,3000",
                    f"--screenshot={shot}", out.as_uri()], capture_output=True, timeout=120, check=True)
    from PIL import Image

    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape == (3000, 1000, 3)
    # The figures drew: the plot's blue series colour appears in the screenshot.
    blue = (np.abs(image.astype(int) - [0, 107, 164]) < 12).all(-1)
    assert blue.sum() > 500


def test_a_run_of_an_unregistered_env_without_a_policy_shows_returns_and_says_why_no_histogram(tmp_path):
    import json

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"algo": "bc", "env_id": "MountainCarContinuous-v0", "seed": 1}))
    (run / "metrics.csv").write_text("env_steps,epoch,train_seconds,mean_return,std_return,normalized_score\n"
                                     "0,1,0.5,-20.0,3.0,\n0,2,1.0,-10.0,2.0,\n")
    page = check_page(build_report([run], tmp_path / "r.html"))
    text = " ".join(page.text)
    assert "not in the task registry" in text and "No policy.pt" in text
    assert page.headings == ["run", "Learning curves", "Evaluation", "Config"]


def test_a_reward_without_its_picture_says_how_to_draw_it_and_other_pictures_are_shown(tmp_path, runs):
    import json

    from imitlab.report.style import png_bytes, styled

    run = tmp_path / "irl"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"algo": "apprenticeship", "env_id": "CartPole-v1", "seed": 0}))
    (run / "reward.pt").write_bytes(b"")  # only its presence matters here
    with styled() as plt:
        fig, ax = plt.subplots(figsize=(2, 2))
        (run / "feature_gap.png").write_bytes(png_bytes(fig))
    page = check_page(build_report([run], tmp_path / "r.html"))
    assert page.headings == ["irl", "Evaluation", "Learned reward", "Other pictures", "Config"]
    assert f"imitlab reward show {run} --out {run / 'reward.png'}" in " ".join(page.text)
    assert len(page.media) == 1
