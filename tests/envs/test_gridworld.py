"""GridWorld-v0: the text-grid map, its rewards and dynamics, its registration and env kwargs."""

import gymnasium as gym
import numpy as np
import pytest

from imitlab.envs.gridworld import DEFAULT_GRID, ENV_ID, MAX_EPISODE_STEPS, GridWorldEnv, cell_features, parse_grid
from imitlab.envs.vector import env_kwargs, env_spaces, make_vec_env
from imitlab.errors import UserError

LEFT, DOWN, RIGHT, UP = range(4)


def test_registered_with_gymnasium_and_its_time_limit():
    env = gym.make(ENV_ID)
    assert env.spec is not None and env.spec.max_episode_steps == MAX_EPISODE_STEPS == 100
    obs, _ = env.reset(seed=0)
    assert obs == 0 and env.observation_space == gym.spaces.Discrete(25) and env.action_space == gym.spaces.Discrete(4)
    steps, truncated = 0, False
    while not truncated:
        _, _, terminated, truncated, _ = env.step(UP)  # bump into the top edge forever
        assert not terminated
        steps += 1
    assert steps == 100


def test_rewards_walls_and_goal_on_the_default_map():
    env = GridWorldEnv()
    rows = DEFAULT_GRID.split("\n")
    assert "".join(rows[1].split()) == ".#-#."
    env.reset(seed=0)
    # start (0,0): down to (1,0) '.', right into the wall '#' at (1,1) stays, down to (2,0), right to '+' at (2,1)
    assert env.step(DOWN)[:3] == (5, pytest.approx(-0.1), False)
    assert env.step(RIGHT)[:3] == (5, pytest.approx(-0.1), False)  # wall: stays, pays the step
    assert env.step(DOWN)[:3] == (10, pytest.approx(-0.1), False)
    assert env.step(RIGHT)[:3] == (11, pytest.approx(0.0), False)  # bonus 0.1 offsets the step cost
    assert env.step(RIGHT)[:3] == (12, pytest.approx(-0.1), False)
    assert env.step(RIGHT)[:3] == (13, pytest.approx(-1.1), False)  # penalty cell
    assert env.step(DOWN)[0] == 13  # (3,3) is a wall
    env.s = 23
    assert env.step(RIGHT)[:3] == (24, pytest.approx(0.9), True)  # the goal ends the episode


def test_custom_map_kwargs_traps_and_slip():
    env = GridWorldEnv(["S X", ". G"], step_reward=-1.0, trap_reward=-5.0, goal_reward=10.0, slip=0.2)
    assert env.cells.shape == (2, 2)
    # from the start, right: 0.8 into the trap, 0.1 down, 0.1 up (the edge: stays)
    right = {s: p for p, s, _, _ in env.P[0][RIGHT]}
    assert right == pytest.approx({1: 0.8, 2: 0.1, 0: 0.1})
    outcome = {s: (r, t) for _, s, r, t in env.P[0][RIGHT]}
    assert outcome[1] == (-6.0, True) and outcome[2] == (-1.0, False) and outcome[0] == (-1.0, False)
    assert env.P[3][LEFT] == [(1.0, 3, 0.0, True)]  # the goal: never acted in
    counts = np.zeros(4)
    env.reset(seed=1)
    for _ in range(4000):
        env.s = 0
        counts[env.step(RIGHT)[0]] += 1
    assert counts[[1, 2, 0]] / 4000 == pytest.approx([0.8, 0.1, 0.1], abs=0.025)


def test_grid_as_string_or_list_spaces_ignored_and_two_starts():
    a = parse_grid("S.+\n-#G")
    b = parse_grid(["S . +", "- # G"])
    assert (a == b).all() and a.shape == (2, 3)
    env = GridWorldEnv("S.S\n..G")
    assert env.initial_state_distrib.tolist() == [0.5, 0, 0.5, 0, 0, 0]
    starts = {env.reset(seed=s)[0] for s in range(20)}
    assert starts == {0, 2}


@pytest.mark.parametrize("grid, words", [
    ("S.Z\n..G", "unknown cell 'Z'"),
    ("S..\n.G", "different lengths"),
    ("...\n..G", "no start cell"),
    ("S..\n...", "no goal cell"),
    ("\n \n", "empty"),
    (42, "a string of rows"),
])
def test_bad_maps_are_user_errors_naming_the_problem(grid, words):
    with pytest.raises(UserError, match=words):
        GridWorldEnv(grid)


def test_bad_numbers_are_user_errors():
    with pytest.raises(UserError, match="slip must be a probability"):
        GridWorldEnv(slip=1.5)
    with pytest.raises(UserError, match="goal_reward must be a finite number"):
        GridWorldEnv(goal_reward=float("nan"))


def test_env_kwargs_give_the_vector_envs_another_map():
    obs_space, _ = env_spaces(ENV_ID)
    assert obs_space.shape == (25,)  # one-hot cells
    with env_kwargs(ENV_ID, {"grid": "S..G"}):
        venv = make_vec_env(ENV_ID, 2)
        obs = venv.reset(seed=0)
        assert obs.shape == (2, 4) and (obs.argmax(1) == 0).all()
        total = np.zeros(2)
        for _ in range(3):
            obs, rew, term, trunc, _ = venv.step(np.array([RIGHT, RIGHT]))
            total += rew
        assert term.all() and total == pytest.approx([0.7, 0.7])  # two steps of -0.1, the goal's 0.9
        venv.close()


def test_render_text_and_image():
    env = GridWorldEnv(render_mode="ansi")
    env.reset(seed=0)
    env.step(DOWN)
    text = env.render()
    assert isinstance(text, str) and "(down)" in text and text.splitlines()[2].startswith("@")
    image = GridWorldEnv(render_mode="rgb_array")
    image.reset(seed=0)
    frame = image.render()
    assert isinstance(frame, np.ndarray) and frame.shape == (160, 160, 3) and frame.dtype == np.uint8


def test_cell_features_one_hot_per_kind():
    features, names = cell_features(parse_grid("S+\n-G"))
    assert names == list("S.#+-XG")
    assert features.sum(1).tolist() == [1, 1, 1, 1]
    assert [names[i] for i in features.argmax(1)] == ["S", "+", "-", "G"]
