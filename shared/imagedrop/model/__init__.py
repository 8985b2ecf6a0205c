"""Records and messages: the status record, trigger payloads, the track message, state keys. Pure data."""
