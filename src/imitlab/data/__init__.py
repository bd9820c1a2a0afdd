"""Demonstration data: trajectories, transitions and their file format."""

from imitlab.data.demos import Demonstrations, Trajectory, Transitions, load_demos

__all__ = ["Demonstrations", "Trajectory", "Transitions", "load_demos"]

