"""Families of moves, one module each; every move is ``move(state, *, rng, clock, deadline, ...) -> int``.

A move changes the search state only through its primitives, keeps what the acceptance
predicates allow (undoing the rest in a trial) and returns how much it changed (units
moved, swaps, reps or territories, as its docstring says).
"""
