"""The `trygg` subcommands, one module per area; tasks/cli.py puts them together."""
