"""Models: networks of layers that own one flat parameter vector.

``sequential``
    :class:`Sequential`, layers applied one after the other; its recorded fast
    step (``_program``) and its row-blocked prediction (``_rowblocks``).
"""

from .sequential import Sequential

__all__ = ["Sequential"]
