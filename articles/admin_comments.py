"""Comment moderation admin: placeholder; the COMMENTS helper replaces this module."""
