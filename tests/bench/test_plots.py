"""The bench's learning-curve figure draws what the records say."""

import numpy as np
import pytest

from imitlab.bench import plots


def _record(algo, n_demos, seed, scores, final, *, env_steps=0):
    """A run record whose history evaluates ``scores`` one second apart, then ends at ``final``
    (BC's last row: the kept weights, evaluated where training stopped)."""
    history = [{"env_steps": env_steps * (i + 1), "epoch": 100 * (i + 1), "train_seconds": float(i + 1),
                "normalized_score": s} for i, s in enumerate([*scores, final])]
    return {"algo": algo, "env": "Pendulum-v1", "n_demos": n_demos, "seed": seed, "normalized_score": final,
            "train_seconds": float(len(history)), "history": history}


@pytest.fixture
def drawn(monkeypatch, tmp_path):
    """Draw the curves figure of ``records`` and return its two axes instead of saving it."""
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))

    def draw(records):
        plots.plot_bench_curves("Pendulum-v1", records, tmp_path / "curves.png")
        return figures[-1].axes

    return draw


def test_offline_final_line_is_the_mean_of_the_runs_final_scores_when_they_stop_at_different_epochs(drawn):
    # BC from 4 demos on Pendulum-v1 (classic bench): runs stop early at different epochs, so the
    # curves cut to the shortest run end on the longer runs' mid-training scores (mean 0.363),
    # not their final ones (mean 0.315).
    records = [
        _record("bc", 4, 0, [0.29, 0.39, 0.50, 0.52, 0.51], 0.367),
        _record("bc", 4, 1, [0.12, 0.24, 0.16, 0.13], 0.16),
        _record("bc", 4, 2, [0.15, 0.24, 0.36, 0.43], 0.418),
        _record("gail", 4, 0, [0.5, 0.9], 0.95, env_steps=1000),
    ]
    left, right = drawn(records)
    final = np.mean([0.367, 0.16, 0.418])
    lines = {line.get_label(): line for line in left.get_lines()}
    np.testing.assert_allclose(lines["bc (4 demos), final"].get_ydata(), [final, final])
    assert "gail (4 demos), final" not in lines  # online methods draw their curve instead
    stars = [line for line in right.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1
    np.testing.assert_allclose(stars[0].get_xydata(), [[np.mean([6.0, 5.0, 5.0]), final]])


def test_a_group_without_final_scores_draws_no_final_line(drawn):
    record = _record("bc", 1, 0, [0.2], 0.3)
    record["normalized_score"] = None  # a task without registry returns has no normalized score
    left, right = drawn([record])
    assert not [line for line in left.get_lines() if line.get_label().endswith(", final")]
    assert not [line for line in right.get_lines() if line.get_marker() == "*"]


def test_every_algorithm_of_a_figure_has_its_own_colour(drawn):
    # gail and dac are ten apart in the registry: a registry-wide index gave both matplotlib's C1.
    records = [_record(algo, 4, 0, [0.5, 0.9], 0.95, env_steps=1000) for algo in ("gail", "dac", "sqil")]
    left, _ = drawn(records)
    from matplotlib.colors import to_hex

    colours = {line.get_label(): to_hex(line.get_color()) for line in left.get_lines() if not line.get_label().startswith("_")}
    assert len(colours) == 3 and len(set(colours.values())) == 3, colours
