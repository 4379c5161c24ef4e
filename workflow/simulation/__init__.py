"""Simulation: the real engine under a virtual clock, with people's behaviour drawn from a seed."""
