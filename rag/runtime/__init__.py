"""The local model runtime: the model file, the server process, its prefix cache and its usage figures."""
