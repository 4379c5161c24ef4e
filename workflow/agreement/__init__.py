"""The agreement: its parties, people, council and schedules, read from a YAML file."""
