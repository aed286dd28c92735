"""Models: networks of layers that own one flat parameter vector.

``_network``
    :class:`~nnlite.models._network.Network`, their common base: the flat
    vectors and their views, building, the L2 term, ``summary``, and the fast
    computation of a chain of layers.
``sequential``
    :class:`Sequential`, layers applied one after the other; its recorded fast
    step (``_program``) and its row-blocked prediction (``_rowblocks``).
``graph``
    :class:`Graph`, layers wired from :class:`Input` nodes to one output node.
``_summary``
    :class:`Summary`, the table ``summary()`` returns.
"""

from ..layers.node import Input
from ._summary import Summary
from .graph import Graph
from .sequential import Sequential

__all__ = ["Sequential", "Graph", "Input", "Summary"]
