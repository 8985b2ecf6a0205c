"""The state the pipeline keeps in the bucket: status records, claims, ownership."""
