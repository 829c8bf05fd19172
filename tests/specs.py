"""Reading a Vega-Lite chart spec (``chart.to_dict()``) in the figure tests."""


def rows(spec):
    """Every row of every dataset of a chart spec."""
    return [r for data in spec["datasets"].values() for r in data]


def params(spec):
    """The names of the chart's top-level parameters (sliders, selections)."""
    return {p["name"] for p in spec.get("params", [])}


def nodes(spec):
    """Every dict in the spec outside its datasets (the chart, its layers, their encodings...)."""
    stack = [{k: v for k, v in spec.items() if k != "datasets"}]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def filters(spec):
    """The filter expressions of every layer, at any depth."""
    return [t["filter"] for n in nodes(spec) for t in n.get("transform", []) if "filter" in t]


def legends(spec):
    """The titles of every colour legend, at any depth."""
    return [n["encoding"]["color"]["title"] for n in nodes(spec)
            if isinstance(n.get("encoding"), dict) and "title" in n["encoding"].get("color", {})]


def title_text(title):
    """A chart title's text and subtitle as one string (``style.title`` breaks them in lines)."""
    if isinstance(title, dict):
        return " ".join(title_text(title.get(k, "")) for k in ("text", "subtitle")).strip()
    return " ".join(title) if isinstance(title, list) else title
