"""A merchant checkout page with PayLoops' hosted card fields (docs/hosted-fields.md)."""
