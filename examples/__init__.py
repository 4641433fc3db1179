"""Runnable examples of using PayLoops from a merchant's side."""
