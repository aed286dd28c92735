"""The table ``summary()`` returns, for every network (Sequential and Graph alike)."""

from __future__ import annotations

__all__ = ["Summary"]


class Summary:
    """A network's layers as a table: one row per node, then the totals.

    Parameters
    ----------
    title : str
        The network's class name.
    nodes : list of tuple
        ``(name, layer, output width, input names)`` per node, in computing order.

    Attributes
    ----------
    rows : list of tuple
        ``(node, layer, output width, n_params, inputs)`` per node; ``n_params`` is
        the count of the layer's trainable numbers (a layer used at several nodes
        shows it at each and counts it once in the totals).
    trainable : int
        Trainable parameters (the size of ``theta``).
    non_trainable : int
        Non-trainable numbers (state such as running statistics).
    """

    def __init__(self, title, nodes):
        self.title = title
        self.rows, seen = [], set()
        self.trainable = self.non_trainable = 0
        uses = [id(node[1]) for node in nodes]
        for name, layer, width, inputs in nodes:
            n_params = sum(v.size for v in layer.params.values())
            if id(layer) not in seen:
                seen.add(id(layer))
                self.trainable += n_params
                self.non_trainable += sum(v.size for v in layer.state.values())
            label = repr(layer).split("\n")[0].rstrip("(")
            if uses.count(id(layer)) > 1:
                label += " (shared)"
            self.rows.append((name, label, int(width), n_params, ", ".join(inputs)))

    def __str__(self):
        head = ("node", "layer", "output", "params", "inputs")
        cells = [head] + [tuple(str(c) for c in row) for row in self.rows]
        widths = [max(len(r[k]) for r in cells) for k in range(len(head))]
        right = {2, 3}  # numbers line up on the right

        def line(r):
            return "  ".join(c.rjust(w) if k in right else c.ljust(w)
                             for k, (c, w) in enumerate(zip(r, widths))).rstrip()

        rule = "-" * len(line(head))
        return "\n".join(
            [f"{self.title} summary", rule, line(head), rule]
            + [line(r) for r in cells[1:]]
            + [rule, f"trainable parameters: {self.trainable}",
               f"non-trainable (state): {self.non_trainable}"])

    __repr__ = __str__
