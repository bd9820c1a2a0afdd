"""Rollout videos: a policy's episodes rendered off-screen and encoded to MP4 or GIF.

Every env renders through gymnasium's ``render_mode="rgb_array"``, which needs no display: the
classic-control and Box2D envs draw with pygame on an off-screen surface, and MuJoCo draws through
an off-screen OpenGL context, EGL or OSMesa (``MUJOCO_GL``; chosen here when unset, see
:func:`prepare_offscreen`). MP4 is H.264 written by imageio through its bundled ffmpeg
(``pip install 'imitlab[video]'``); GIF is written by Pillow, which matplotlib already brings.

Frames are streamed to the encoder as they are rendered (an episode of 600x400 frames would
otherwise take hundreds of MB), each under a caption strip that names the policy, the episode,
the step and the return so far. ``compare`` plays a second policy (usually the shipped expert)
beside the first, from the same reset seed, so both start from the same state; the panel whose
episode ends first holds its last frame until the other ends.
"""

from __future__ import annotations

import ctypes.util
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from imitlab.errors import UserError

if TYPE_CHECKING:
    import gymnasium as gym

VIDEO_SUFFIXES = (".mp4", ".gif")
CAPTION_HEIGHT = 24  # pixels of the caption strip above each panel
TARGET_FPS = 30  # frames per second of simulated time that a default --every aims at
MUJOCO_HELP = (
    "MuJoCo renders off-screen through EGL or OSMesa: on Debian/Ubuntu 'sudo apt install libegl1 libgl1-mesa-dri' "
    "(then MUJOCO_GL=egl), or 'sudo apt install libosmesa6' (then MUJOCO_GL=osmesa); with a display, MUJOCO_GL=glfw"
)

ActFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class EpisodeRecord:
    """One rendered episode of one policy."""

    label: str
    """Who acted: the policy as the user named it."""
    index: int
    """The episode's number, from 0."""
    seed: int
    """The seed its env was reset with."""
    episode_return: float
    """The env's undiscounted return over the steps played."""
    length: int
    """Steps played."""
    cut: bool
    """True when ``max_steps`` cut the episode before it ended."""


@dataclass(frozen=True)
class VideoResult:
    """What :func:`record_video` wrote."""

    path: Path
    episodes: list[EpisodeRecord]
    """The main policy's episodes."""
    compared: list[EpisodeRecord] = field(default_factory=list)
    """The compared policy's episodes (empty without ``compare``)."""
    frames: int = 0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    seconds: float = 0.0
    """Wall time of rendering and encoding together."""


# ----------------------------------------------------------------------------- checks, backends
def check_video_out(out: str | os.PathLike) -> Path:
    """``out`` as a Path if it names a video imitlab can write here, else a UserError (before
    anything is rendered or written)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise UserError(f"--out {str(path)!r}: cannot write a {suffix or 'file without an extension'}; "
                        "name a .mp4 (H.264) or .gif file")
    if path.is_dir():
        raise UserError(f"--out {str(path)!r} is a directory; name a .mp4 or .gif file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"--out {str(path)!r}: {str(parent)!r} is a file, not a directory")
            break
    if suffix == ".mp4":
        ffmpeg_exe()
    return path


def ffmpeg_exe() -> str:
    """The ffmpeg that imageio writes MP4 with, or a UserError that says how to get it."""
    try:
        import imageio.v2  # noqa: F401
        import imageio_ffmpeg
    except ImportError:
        raise UserError("writing .mp4 needs imageio and its bundled ffmpeg: pip install 'imitlab[video]' "
                        "(or write a .gif, which needs nothing more)") from None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as e:
        raise UserError(f"imageio-ffmpeg found no ffmpeg ({e}); reinstall it: pip install --force-reinstall imageio-ffmpeg") from None


def prepare_offscreen(env_id: str) -> str | None:
    """Make sure ``env_id`` can render without a display; returns the MuJoCo GL backend in use.

    Only MuJoCo needs anything: when ``MUJOCO_GL`` is unset and there is no display, gymnasium
    would try GLFW first, which fails without one and leaves PyOpenGL bound to the wrong platform.
    So this sets ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``, which must agree) for this process to
    EGL where libEGL is installed, else OSMesa where libOSMesa is, else raises a UserError naming
    the packages to install. A value the user set is kept.
    """
    from imitlab.envs.vector import check_env_id, physics_engine

    check_env_id(env_id)
    if physics_engine(env_id) != "mujoco":
        return None
    chosen = os.environ.get("MUJOCO_GL")
    if chosen:
        return chosen
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None  # gymnasium's own choice (GLFW on the display) works
    libraries = {"egl": "EGL", "osmesa": "OSMesa"}
    platform = os.environ.get("PYOPENGL_PLATFORM", "").lower()
    for backend in [platform] if platform in libraries else list(libraries):
        if ctypes.util.find_library(libraries[backend]):
            os.environ["MUJOCO_GL"] = backend
            os.environ["PYOPENGL_PLATFORM"] = backend
            return backend
    raise UserError(f"{env_id} cannot render here: no display and neither libEGL nor libOSMesa is installed. {MUJOCO_HELP}")


def _quiet_pygame() -> None:
    # pygame (classic control, Box2D) draws on off-screen surfaces; dummy drivers keep SDL from
    # looking for a display or a sound card and printing about it.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def make_render_env(env_id: str, backend: str | None = None) -> gym.Env:
    """``env_id`` made with ``render_mode="rgb_array"``; a missing dependency is a UserError."""
    import gymnasium as gym

    from imitlab.envs.vector import active_env_kwargs

    _quiet_pygame()
    kwargs = active_env_kwargs(env_id)  # --env-kwargs: the env the policy is filmed in
    try:
        if backend is not None or _is_mujoco(env_id):
            try:
                # The model's "track" camera follows the body from the side (Hopper, Walker2d,
                # HalfCheetah, Ant, Humanoid, Swimmer); gymnasium's default free camera stands still
                # while the walker leaves the picture. A model without one keeps the default view.
                return gym.make(env_id, render_mode="rgb_array", camera_name="track", **kwargs)
            except TypeError:
                pass
        return gym.make(env_id, render_mode="rgb_array", **kwargs)
    except gym.error.DependencyNotInstalled as e:
        extra = "mujoco" if "mujoco" in str(e).lower() else "box2d" if "box2d" in str(e).lower() else None
        fix = f"; pip install 'imitlab[{extra}]' installs it" if extra else ""
        raise UserError(f"{env_id} needs a missing dependency: {e}{fix}") from None


def _is_mujoco(env_id: str) -> bool:
    from imitlab.envs.vector import physics_engine

    return physics_engine(env_id) == "mujoco"


def _first_frame(env: gym.Env, env_id: str, backend: str | None) -> np.ndarray:
    """The first rendered frame, where an off-screen GL failure becomes a UserError naming the fix."""
    try:
        frame = env.render()
    except Exception as e:  # noqa: BLE001 - GL failures surface as many types (FatalError, ImportError, ...)
        where = f" with MUJOCO_GL={backend}" if backend else ""
        raise UserError(f"{env_id} could not render off-screen{where} ({type(e).__name__}: {e}). {MUJOCO_HELP}") from None
    if not isinstance(frame, np.ndarray) or frame.ndim != 3:
        raise UserError(f"{env_id} renders no RGB frames (got {type(frame).__name__}); it cannot be filmed")
    return frame


# ----------------------------------------------------------------------------------- acting
def load_actor(spec: str, env_id: str, *, seed: int = 0, deterministic: bool = True) -> ActFn:
    """The batch policy ``spec`` names, as ``imitlab eval`` resolves it: ``random``, ``zoo``,
    ``zoo:ALGO``, ``sb3:PATH``, a policy file or a run directory (checked to fit ``env_id``)."""
    from imitlab.evaluation import random_actor
    from imitlab.experts import load_expert

    if spec == "random":
        return random_actor(env_id, seed)
    return as_actor(load_expert(spec, env_id), deterministic=deterministic, seed=seed)


def as_actor(policy: Any, *, deterministic: bool = True, seed: int = 0) -> ActFn:
    """A batch function ``obs -> actions`` of an imitlab policy, an expert or a plain callable.

    An imitlab :class:`~imitlab.policies.Policy` (or an expert holding one) acts by its mode, or
    with ``deterministic=False`` samples from a torch Generator seeded with ``seed``.
    """
    from imitlab.policies import Policy

    inner = getattr(policy, "policy", None)
    if isinstance(inner, Policy):
        policy = inner
    if isinstance(policy, Policy):
        if deterministic:
            return lambda obs: policy.act(obs, deterministic=True)
        import torch

        generator = torch.Generator().manual_seed(seed)

        def sample(obs: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return policy.sample(torch.as_tensor(np.asarray(obs, dtype=np.float32)), generator)[0].numpy()

        return sample
    act = getattr(policy, "act", None)
    if callable(act):
        return act
    if callable(policy):
        return policy
    raise UserError(f"a policy must have act(obs) or be callable, got {type(policy).__name__}")


# --------------------------------------------------------------------------------- rendering
@dataclass
class _Frame:
    image: np.ndarray
    step: int
    episode_return: float
    done: bool


@dataclass
class _Player:
    """One policy playing episodes in its own render env."""

    label: str
    act: ActFn
    env: Any
    clip: tuple[np.ndarray, np.ndarray] | None
    discrete: bool
    records: list[EpisodeRecord] = field(default_factory=list)

    def episode(self, index: int, seed: int, *, every: int, max_steps: int | None) -> Iterator[_Frame]:
        """The frames of one episode: after the reset, every ``every``-th step, and the last step."""
        obs, _ = self.env.reset(seed=seed)
        total, step, done, cut = 0.0, 0, False, False
        yield _Frame(self.env.render(), 0, 0.0, False)
        while not done:
            action = np.asarray(self.act(np.asarray(obs, dtype=np.float32)[None]))[0]
            if self.discrete:
                action = int(action)
            elif self.clip is not None:
                action = np.clip(action, *self.clip)
            obs, reward, terminated, truncated, _ = self.env.step(action)
            total += float(reward)
            step += 1
            cut = max_steps is not None and step >= max_steps and not (terminated or truncated)
            done = bool(terminated or truncated) or cut
            if done or step % every == 0:
                yield _Frame(self.env.render(), step, total, done)
        self.records.append(EpisodeRecord(self.label, index, seed, total, step, cut))

    def close(self) -> None:
        self.env.close()


def _player(label: str, act: ActFn, env_id: str, backend: str | None) -> _Player:
    """A player in its own render env, checked to render (a GL failure is a UserError here)."""
    import gymnasium as gym

    env = make_render_env(env_id, backend)
    try:
        env.reset(seed=0)
        _first_frame(env, env_id, backend)
    except BaseException:
        env.close()
        raise
    space = env.action_space
    clip = (space.low, space.high) if isinstance(space, gym.spaces.Box) else None
    return _Player(label, act, env, clip, isinstance(space, gym.spaces.Discrete))


def default_every(render_fps: float) -> int:
    """Render every k-th step so that a video shows about :data:`TARGET_FPS` frames per second of
    simulated time and plays in real time: CartPole and LunarLander (50 steps a second) every 2nd
    step, Pendulum (30) every step, Hopper (125) every 4th."""
    return max(1, round(render_fps / TARGET_FPS))


_FONT: Any = None


def _font() -> Any:
    global _FONT
    if _FONT is None:
        from PIL import ImageFont

        try:
            _FONT = ImageFont.load_default(size=14)
        except (TypeError, OSError):  # Pillow < 10.1 or no FreeType: the small bitmap font
            _FONT = ImageFont.load_default()
    return _FONT


def caption(frame: np.ndarray, text: str) -> np.ndarray:
    """``frame`` under a dark strip of :data:`CAPTION_HEIGHT` pixels holding ``text``."""
    from PIL import Image, ImageDraw

    strip = Image.new("RGB", (frame.shape[1], CAPTION_HEIGHT), (34, 34, 34))
    ImageDraw.Draw(strip).text((6, 4), text, fill=(240, 240, 240), font=_font())
    return np.concatenate([np.asarray(strip), frame[..., :3]], axis=0)


def _caption_text(label: str, index: int, f: _Frame, *, ended: bool = False) -> str:
    state = "ended" if ended else f"step {f.step}"
    return f"{label} | episode {index + 1} | {state} | return {f.episode_return:.1f}"


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad to even width and height (H.264 in yuv420p needs both), repeating the edge pixels."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


# ---------------------------------------------------------------------------------- encoding
class _Mp4:
    def __init__(self, path: str, fps: float) -> None:
        import imageio.v2 as imageio

        # crf 23 and the veryfast preset: small files at a few ms a frame; faststart puts the index
        # first, so a browser plays the file (or a data: URI of it) before it has all of it.
        self.writer = imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=None,
                                         pixelformat="yuv420p", macro_block_size=2, ffmpeg_log_level="error",
                                         ffmpeg_params=["-crf", "23", "-preset", "veryfast", "-movflags", "+faststart"])

    def append(self, frame: np.ndarray) -> None:
        self.writer.append_data(frame)

    def close(self) -> None:
        self.writer.close()


class _Gif:
    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps = path, fps
        self.frames: list[Any] = []

    def append(self, frame: np.ndarray) -> None:
        from PIL import Image

        # Palette images (one byte a pixel) as they come, since a GIF is written in one go at the
        # end; fast octree quantization is 7x faster than median cut and as good on flat renders.
        self.frames.append(Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE))

    def close(self) -> None:
        if not self.frames:
            return
        duration = max(20, round(1000 / self.fps / 10) * 10)  # GIF delays count hundredths of a second
        self.frames[0].save(self.path, format="GIF", save_all=True, append_images=self.frames[1:], duration=duration,
                            loop=0, optimize=False)
        self.frames = []


def _temp_beside(path: Path) -> str:
    """A new temporary file beside ``path`` keeping its extension (ffmpeg picks the container by it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix.lower()}")
    os.close(fd)
    return tmp


# ------------------------------------------------------------------------------------- public
def record_video(
    policy: Any,
    env_id: str,
    out: str | os.PathLike,
    *,
    episodes: int = 1,
    seed: int = 0,
    label: str = "policy",
    compare: Any = None,
    compare_label: str = "expert",
    every: int | None = None,
    max_steps: int | None = None,
    deterministic: bool = True,
    on_episode: Callable[[EpisodeRecord, EpisodeRecord | None], None] | None = None,
) -> VideoResult:
    """Render ``episodes`` episodes of ``policy`` on ``env_id`` into the video ``out``.

    Args:
        policy: an imitlab policy, an expert, or a batch callable ``obs -> actions``.
        env_id: a gymnasium id that renders ``rgb_array`` frames.
        out: a ``.mp4`` or ``.gif`` path; written to a temporary name beside it, then renamed.
        episodes: episodes played one after the other; episode i is reset with ``seed + i``.
        seed: the first episode's reset seed (and a stochastic policy's sampling seed).
        label: the name in ``policy``'s caption.
        compare: a second policy played beside ``policy`` from the same reset seeds.
        compare_label: the name in its caption.
        every: render every k-th step (default :func:`default_every`: about 30 frames a second
            of simulated time, so the video plays in real time).
        max_steps: cut each episode after this many steps.
        deterministic: act by the policy's mode (imitlab policies), else sample.
        on_episode: called after each episode with its record (and the compared policy's).

    Raises:
        UserError: an unknown extension, an env that cannot render here (naming what to install),
            a missing encoder; nothing is written then.
    """
    path = check_video_out(out)
    if episodes < 1:
        raise UserError(f"episodes must be positive, got {episodes}")
    if every is not None and every < 1:
        raise UserError(f"every must be positive, got {every}")
    if max_steps is not None and max_steps < 1:
        raise UserError(f"max_steps must be positive, got {max_steps}")
    backend = prepare_offscreen(env_id)
    t0 = time.perf_counter()
    players: list[_Player] = []
    try:
        main = _player(label, as_actor(policy, deterministic=deterministic, seed=seed), env_id, backend)
        players.append(main)
        if compare is not None:
            players.append(_player(compare_label, as_actor(compare, deterministic=deterministic, seed=seed), env_id, backend))
        render_fps = _env_fps_of(main.env)
        every = every or default_every(render_fps)
        fps = render_fps / every
        result = _encode(path, players, episodes=episodes, seed=seed, every=every, max_steps=max_steps, fps=fps,
                         on_episode=on_episode)
    finally:
        for p in players:
            p.close()
    frames, height, width = result
    return VideoResult(path=path, episodes=main.records, compared=players[1].records if compare is not None else [],
                       frames=frames, width=width, height=height, fps=fps, seconds=time.perf_counter() - t0)


def _env_fps_of(env: Any) -> float:
    return float(env.metadata.get("render_fps") or TARGET_FPS)


def _encode(path: Path, players: list[_Player], *, episodes: int, seed: int, every: int, max_steps: int | None,
            fps: float, on_episode: Callable[[EpisodeRecord, EpisodeRecord | None], None] | None) -> tuple[int, int, int]:
    tmp = _temp_beside(path)
    writer: _Mp4 | _Gif | None = None
    frames, shape = 0, (0, 0)
    try:
        writer = _Mp4(tmp, fps) if path.suffix.lower() == ".mp4" else _Gif(tmp, fps)
        for index in range(episodes):
            streams = [p.episode(index, seed + index, every=every, max_steps=max_steps) for p in players]
            last: list[_Frame | None] = [None] * len(players)
            live = [True] * len(players)
            while any(live):
                panels = []
                for i, stream in enumerate(streams):
                    if live[i]:
                        f = next(stream, None)
                        if f is None:
                            live[i] = False
                        else:
                            last[i] = f
                    f = last[i]
                    assert f is not None  # every episode yields its reset frame first
                    panels.append(caption(f.image, _caption_text(players[i].label, index, f, ended=not live[i])))
                if not any(live):
                    break
                image = _even(np.concatenate(panels, axis=1) if len(panels) > 1 else panels[0])
                writer.append(np.ascontiguousarray(image))
                frames += 1
                shape = image.shape[:2]
            if on_episode is not None:
                on_episode(players[0].records[-1], players[1].records[-1] if len(players) > 1 else None)
        writer.close()
        writer = None
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return frames, shape[0], shape[1]


def write_run_video(run_dir: str | os.PathLike, *, seed: int = 0, episodes: int = 1, name: str = "video.mp4",
                    max_steps: int | None = None) -> VideoResult:
    """Film a run directory's final policy (``policy.pt``) on its env into ``run_dir/name``.

    This is the hook of ``imitlab train ... --video``; ``imitlab report`` shows the file.
    """
    from imitlab.policies import load_policy
    from imitlab.runlog import read_config

    run = Path(run_dir)
    try:
        env_id = read_config(run)["env_id"]
    except (OSError, ValueError, KeyError):
        env_id = None
    policy, meta = load_policy(run)
    env_id = env_id or meta.get("env_id")
    if not env_id:
        raise UserError(f"{str(run)!r} records no env id (config.json or policy.pt); film it with imitlab video --env ENV")
    return record_video(policy, env_id, run / name, episodes=episodes, seed=seed, label=f"{run.name} (final policy)",
                        max_steps=max_steps)


def require_video_support(env_id: str, suffix: str = ".mp4") -> None:
    """A UserError now, before a long training, if a ``suffix`` video of ``env_id`` cannot be made
    here (no encoder, or MuJoCo with no off-screen GL): renders one frame to find out."""
    check_video_out(Path("video").with_suffix(suffix))
    backend = prepare_offscreen(env_id)
    env = make_render_env(env_id, backend)
    try:
        env.reset(seed=0)
        _first_frame(env, env_id, backend)
    finally:
        env.close()


def episode_summary(record: EpisodeRecord) -> str:
    """``return 500.0 over 500 steps`` (``, cut at --max-steps`` when cut)."""
    return f"return {record.episode_return:.1f} over {record.length} steps" + (" (cut at --max-steps)" if record.cut else "")


__all__ = [
    "CAPTION_HEIGHT",
    "EpisodeRecord",
    "VIDEO_SUFFIXES",
    "VideoResult",
    "as_actor",
    "caption",
    "check_video_out",
    "default_every",
    "episode_summary",
    "ffmpeg_exe",
    "load_actor",
    "make_render_env",
    "prepare_offscreen",
    "record_video",
    "require_video_support",
    "write_run_video",
]
