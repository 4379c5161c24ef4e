"""Meetings: council meetings, check-ins, yearly reviews and evaluation presentations."""
