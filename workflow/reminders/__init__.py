"""Reminders and escalations of activities: the policy, the pure rules, and the sweep that acts on them."""
