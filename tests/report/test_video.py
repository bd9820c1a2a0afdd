"""Rollout videos: frames of the right size and number, not blank, showing the env's real motion
(CartPole's pole falls under a random policy, stays up under the expert); bad input writes nothing."""

import os
import sys

import numpy as np
import pytest

from imitlab.errors import UserError
from imitlab.report.video import CAPTION_HEIGHT, load_actor, record_video, write_run_video

imageio = pytest.importorskip("imageio.v3")
POLE = np.array([202, 152, 101])  # gymnasium's CartPole pole colour


def _frames(path):
    return np.asarray(imageio.imread(path))


def pole_angle_degrees(frame):
    """The pole's tilt in a CartPole frame: the slope of its pixels' principal axis."""
    mask = (np.abs(frame[CAPTION_HEIGHT:].astype(int) - POLE) < 40).all(-1)
    ys, xs = np.nonzero(mask)
    assert len(ys) > 500, "no pole in the frame"
    return float(np.degrees(np.arctan(np.cov(xs, ys)[0, 1] / ys.var())))


def _not_blank(frame):
    # A rendered scene, not a flat image: many distinct colours and a real spread of values.
    body = frame[CAPTION_HEIGHT:]
    return body.std() > 10 and len(np.unique(body.reshape(-1, 3), axis=0)) > 8


def test_cartpole_random_policy_the_pole_falls_in_the_video(tmp_path):
    out = tmp_path / "random.mp4"
    result = record_video(load_actor("random", "CartPole-v1", seed=0), "CartPole-v1", out, every=1, seed=0)
    frames = _frames(out)
    episode = result.episodes[0]
    assert episode.length == result.frames - 1 < 60 and not episode.cut  # a random policy drops the pole fast
    assert episode.episode_return == episode.length  # CartPole pays 1 a step
    assert frames.shape == (result.frames, 400 + CAPTION_HEIGHT, 600, 3)
    assert all(_not_blank(f) for f in frames)
    angles = [pole_angle_degrees(f) for f in frames]
    assert abs(angles[0]) < 4  # reset: within +-0.05 rad
    assert abs(angles[-1]) > 10  # the episode ends when the pole passes 12 degrees
    assert abs(angles[-1] - angles[0]) > 6


def test_cartpole_expert_500_steps_keeps_the_pole_up_and_plays_in_real_time(tmp_path):
    out = tmp_path / "expert.mp4"
    seen = []
    result = record_video(load_actor("zoo", "CartPole-v1"), "CartPole-v1", out, on_episode=lambda a, b: seen.append(a))
    assert [r.episode_return for r in seen] == [500.0]
    assert result.fps == 25 and result.frames == 251  # every 2nd of 500 steps, and the reset frame
    frames = _frames(out)
    assert len(frames) == 251
    angles = np.array([pole_angle_degrees(f) for f in frames[::10]])
    assert np.abs(angles).max() < 5
    # The pole does move: the expert balances it, frame to frame.
    assert np.abs(np.diff(angles)).max() > 0.2


def test_compare_puts_the_expert_beside_and_holds_the_shorter_episode(tmp_path):
    out = tmp_path / "compare.gif"
    result = record_video(load_actor("random", "CartPole-v1", seed=1), "CartPole-v1", out, label="random",
                          compare=load_actor("zoo", "CartPole-v1"), compare_label="zoo", max_steps=60, every=2)
    mine, expert = result.episodes[0], result.compared[0]
    assert expert.length == 60 and expert.cut and expert.episode_return == 60.0
    assert mine.length < 40 and not mine.cut
    frames = _frames(out)
    assert frames.shape[1:3] == (400 + CAPTION_HEIGHT, 1200)
    assert len(frames) == result.frames == 31  # the longer episode sets the length: 60 steps every 2nd, plus reset
    left, right = frames[:, CAPTION_HEIGHT:, :600].astype(int), frames[:, CAPTION_HEIGHT:, 600:].astype(int)
    end = mine.length // 2  # the frame of the random policy's last step

    def changed(a, b):
        return int((np.abs(a - b).max(-1) > 30).sum())  # pixels that visibly changed

    # After the random policy's episode ends, its panel holds still while the expert's moves on.
    assert max(changed(left[i], left[end]) for i in range(end, len(frames))) == 0
    assert changed(left[end], left[0]) > 200
    assert min(changed(right[i], right[end]) for i in range(end + 3, len(frames))) > 200
    assert abs(pole_angle_degrees(frames[-1, :, 600:])) < 5 < abs(pole_angle_degrees(frames[-1, :, :600]))


@pytest.mark.parametrize("env_id, size", [("Pendulum-v1", (500, 500)), ("LunarLander-v3", (400, 600))])
def test_pendulum_and_lunar_lander_render_headless(tmp_path, env_id, size):
    pytest.importorskip("Box2D") if env_id.startswith("Lunar") else None
    out = tmp_path / "v.mp4"
    result = record_video(load_actor("zoo", env_id), env_id, out, max_steps=40, every=1)
    frames = _frames(out)
    assert frames.shape == (41, size[0] + CAPTION_HEIGHT, size[1], 3)
    assert result.episodes[0].length == 40 and result.episodes[0].cut
    assert all(_not_blank(f) for f in frames[::10])
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() > 0.5  # something moved


def test_hopper_renders_off_screen(tmp_path):
    pytest.importorskip("mujoco")
    out = tmp_path / "hopper.gif"
    try:
        result = record_video(load_actor("zoo", "Hopper-v5"), "Hopper-v5", out, max_steps=12)
    except UserError as e:  # no EGL/OSMesa on this machine: the message names what to install
        assert "libegl1" in str(e)
        pytest.skip(f"no off-screen GL here: {e}")
    frames = _frames(out)
    assert result.fps == pytest.approx(125 / 4) and len(frames) == 4  # steps 0, 4, 8, 12
    assert frames.shape[1:] == (480 + CAPTION_HEIGHT, 480, 3)
    assert all(_not_blank(f) for f in frames)


def test_bad_extension_and_a_policy_for_another_env_write_nothing(tmp_path):
    with pytest.raises(UserError, match=r"\.avi.*\.mp4"):
        record_video(load_actor("zoo", "CartPole-v1"), "CartPole-v1", tmp_path / "v.avi")
    with pytest.raises(UserError, match="does not fit Acrobot-v1"):
        load_actor("zoo", "Acrobot-v1") if False else load_actor(_cartpole_policy(tmp_path), "Acrobot-v1")
    assert sorted(os.listdir(tmp_path)) == ["cartpole.pt"]


def _cartpole_policy(tmp_path):
    from imitlab.experts import zoo_path

    target = tmp_path / "cartpole.pt"
    target.write_bytes(zoo_path("CartPole-v1").read_bytes())
    return str(target)


def test_a_failure_mid_video_leaves_no_file_and_no_temporary(tmp_path):
    calls = []

    def breaks(obs):
        calls.append(1)
        if len(calls) > 10:
            raise RuntimeError("policy crashed")
        return np.zeros(len(obs), dtype=np.int64)

    with pytest.raises(RuntimeError, match="policy crashed"):
        record_video(breaks, "CartPole-v1", tmp_path / "v.mp4")
    assert os.listdir(tmp_path) == []


def test_mp4_without_imageio_ffmpeg_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails as if not installed
    with pytest.raises(UserError, match=r"imitlab\[video\]"):
        record_video(load_actor("zoo", "CartPole-v1"), "CartPole-v1", tmp_path / "v.mp4")
    assert os.listdir(tmp_path) == []


def test_mujoco_without_any_offscreen_gl_names_the_packages(tmp_path, monkeypatch):
    pytest.importorskip("mujoco")
    import ctypes.util

    from imitlab.report.video import prepare_offscreen

    for var in ("MUJOCO_GL", "PYOPENGL_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(UserError, match=r"apt install libegl1 libgl1-mesa-dri.*libosmesa6"):
        prepare_offscreen("Hopper-v5")
    assert "MUJOCO_GL" not in os.environ


def test_write_run_video_films_the_run_policy_into_the_run_dir(tmp_path):
    import json

    run = tmp_path / "run"
    run.mkdir()
    (run / "policy.pt").write_bytes(open(_cartpole_policy(tmp_path), "rb").read())
    (run / "config.json").write_text(json.dumps({"env_id": "CartPole-v1", "seed": 0}))
    result = write_run_video(run, max_steps=20, name="video.gif")
    assert result.path == run / "video.gif" and len(_frames(run / "video.gif")) == 11
    assert result.episodes[0].episode_return == 20.0
