"""The running system: the scheduler's lease and the heartbeats of the scheduler and the workers."""
