"""Records and messages: the status record, trigger payloads, the import claim, state keys. Pure data."""
