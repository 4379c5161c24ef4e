"""The agreement's calendar: every dated event (deadlines, follow-ups, meetings) and its iCalendar form."""
