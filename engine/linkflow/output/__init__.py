"""What people read: the diagram description, its Graphviz and Mermaid renderers, docs pages
and workflow descriptions."""
