"""The outbox: notices (deduplicated by key) and the mails that carry them."""
