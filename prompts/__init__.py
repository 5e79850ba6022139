"""The prompt templates, shipped as package data of `rag` (the files are the prompts; see README)."""
