"""Nodes: what calling a layer returns, the edges a :class:`~nnlite.Graph` is built from.

``Input(n)`` starts a graph; ``layer(node)`` (or ``layer([node, node])`` for a
layer with several inputs, such as :class:`~nnlite.Add`) returns a new node that
records the layer, the nodes it reads and its output width.  Nodes hold no data:
a :class:`~nnlite.Graph` collects the nodes between its inputs and its output
and computes them in an order fixed once, when it is made.

They live beside the layer contract (not with the models) because
``Layer.__call__`` makes them, and layers import nothing from the models.
"""

from __future__ import annotations

__all__ = ["Node", "Input"]


class Node:
    """The output of one call of a layer on nodes (made by ``layer(node)``).

    Attributes
    ----------
    layer : Layer or None
        The layer that computes it (``None`` for an :class:`Input`).
    parents : tuple of Node
        The nodes it reads, in the order the layer receives them.
    width : int
        Number of features of its output.
    """

    def __init__(self, layer, parents, width):
        self.layer = layer
        self.parents = tuple(parents)
        self.width = int(width)

    def describe(self) -> str:
        """A short name for messages and summaries, e.g. ``"Dense(64)"``."""
        return repr(self.layer).split("\n")[0].rstrip("(") if self.layer is not None else "?"

    def __repr__(self):
        return f"<Node {self.describe()} width={self.width}>"


class Input(Node):
    """An input of a graph: one per input array, of a known width.

    Parameters
    ----------
    n : int
        Number of features of the input array.
    name : str, optional
        Shown in summaries and messages (default ``"input"``).

    Examples
    --------
    >>> from nnlite import Input, Dense
    >>> x = Input(20)
    >>> Dense(4)(x).width
    4
    """

    def __init__(self, n: int, name: str | None = None):
        if isinstance(n, bool) or not isinstance(n, int) and not hasattr(n, "__index__"):
            raise TypeError(f"Input: n must be a positive int; got {n!r}.")
        if int(n) < 1:
            raise ValueError(f"Input: n must be a positive int; got {n!r}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Input: name must be a str or None; got {name!r}.")
        super().__init__(None, (), int(n))
        self.name = "input" if name is None else name

    def describe(self):
        if self.name == "input":
            return f"Input({self.width})"
        return f"Input({self.width}, {self.name!r})"
