"""The yearly follow-up report (step 5): how the plan went and how the council worked."""
