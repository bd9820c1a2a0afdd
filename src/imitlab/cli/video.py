"""``imitlab video``: film a policy's episodes (headless), optionally beside another policy's."""

from __future__ import annotations

import click

from imitlab.cli._common import env_kwargs_option, env_kwargs_scope, threads

_POLICY_HELP = "A run dir, a policy.pt, 'zoo', 'zoo:ALGO', 'sb3:PATH' or 'random'."


@click.command("video")
@click.option("--env", "env_id", required=True)
@click.option("--policy", "policy_spec", required=True, help=_POLICY_HELP)
@click.option("--episodes", default=1, show_default=True, type=click.IntRange(min=1), help="Episodes, one after the other.")
@click.option("--seed", default=0, show_default=True, type=int, help="Episode i is reset with seed + i.")
@click.option("--compare", "compare_spec", help="Play this policy (e.g. 'zoo', the shipped expert) beside --policy, "
              "from the same reset seeds, in one frame.")
@click.option("--out", required=True, type=click.Path(), help="The video: FILE.mp4 (H.264, needs imitlab[video]) or FILE.gif.")
@click.option("--every", type=click.IntRange(min=1),
              help="Render every K-th step. Default: about 30 frames per simulated second, so the video plays in real "
                   "time (CartPole every 2nd step, Pendulum every step, Hopper every 4th).")
@click.option("--max-steps", type=click.IntRange(min=1), help="Cut each episode after this many steps.")
@click.option("--stochastic", is_flag=True, help="Sample actions instead of taking the most likely one.")
@env_kwargs_option
def video_cmd(env_id, policy_spec, episodes, seed, compare_spec, out, every, max_steps, stochastic, env_kwargs_json) -> None:
    """Render episodes of a policy off-screen into an MP4 or GIF; print each episode's return."""
    threads()
    with env_kwargs_scope(env_id, env_kwargs_json):
        _video(env_id, policy_spec, episodes, seed, compare_spec, out, every, max_steps, stochastic)


def _video(env_id, policy_spec, episodes, seed, compare_spec, out, every, max_steps, stochastic) -> None:
    from imitlab.report.video import check_video_out, episode_summary, load_actor, prepare_offscreen, record_video

    # Every check that can fail on the user's input, before anything is rendered.
    check_video_out(out)
    prepare_offscreen(env_id)
    deterministic = not stochastic
    policy = load_actor(policy_spec, env_id, seed=seed, deterministic=deterministic)
    compare = None if compare_spec is None else load_actor(compare_spec, env_id, seed=seed, deterministic=deterministic)

    def show(main, other) -> None:
        line = f"episode {main.index + 1} (seed {main.seed}): {policy_spec} {episode_summary(main)}"
        if other is not None:
            line += f"; {compare_spec} {episode_summary(other)}"
        click.echo(line)

    result = record_video(policy, env_id, out, episodes=episodes, seed=seed, label=policy_spec, compare=compare,
                          compare_label=compare_spec or "", every=every,
                          max_steps=max_steps, deterministic=deterministic, on_episode=show)
    returns = [r.episode_return for r in result.episodes]
    click.echo(f"mean return {sum(returns) / len(returns):.1f} over {len(returns)} episodes; wrote {result.path} "
               f"({result.frames} frames, {result.width}x{result.height}, {result.fps:g} fps) in {result.seconds:.1f} s")
