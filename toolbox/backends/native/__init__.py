"""Native fast paths for :mod:`toolbox.backends.primitives`, one module per backend.

Each module imports its framework at the top and is itself imported only when
an array of that framework reaches a primitive. A module defines a function
for each primitive it speeds up, with the generic signature; primitives it
does not define fall back to the generic implementation.
"""
