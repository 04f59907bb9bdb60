"""Reading: the read model's queries, the full reader on the application, and the light path that
reads without it."""
