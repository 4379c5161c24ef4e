"""Signed links in mails: who may do what to which item, until when, once."""
