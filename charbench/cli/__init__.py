"""The ``charbench`` command: one thin module per subcommand."""
