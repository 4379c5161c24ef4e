"""The coordinator's desk and the leadership's overview: what they see and change, per agreement."""
