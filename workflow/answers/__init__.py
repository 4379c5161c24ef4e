"""What people answer: done, progress, a new date asked and decided, meeting answers, minutes — checked, then acted on."""
