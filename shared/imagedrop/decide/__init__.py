"""Pure decisions over plain data: no I/O, no SDK, table-tested."""
