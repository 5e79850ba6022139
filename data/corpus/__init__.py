"""The bundled guide, shipped as package data of `rag`."""
