"""The border search: state, scoring, acceptance, one module per family of moves, and the schedule."""
