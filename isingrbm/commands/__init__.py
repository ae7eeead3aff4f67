"""One module per ``isingrbm`` subcommand; shared helpers in :mod:`._common`."""
