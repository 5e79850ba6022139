"""Synthetic guides of any size, in the real guide format, for scale benchmarks (never committed)."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = [
    "adaptive",
    "robust",
    "efficient",
    "scalable",
    "private",
    "causal",
    "sparse",
    "federated",
    "contrastive",
    "generative",
    "neural",
    "bayesian",
    "stochastic",
    "optimal",
    "online",
    "offline",
    "multimodal",
    "hierarchical",
    "temporal",
    "graph",
    "retrieval",
    "language",
    "vision",
    "speech",
    "ranking",
    "forecasting",
    "anomaly",
    "reinforcement",
    "transfer",
    "continual",
    "meta",
    "quantum",
    "kernel",
]
NOUNS = [
    "learning",
    "models",
    "transformers",
    "bandits",
    "policies",
    "embeddings",
    "estimators",
    "networks",
    "agents",
    "optimizers",
    "representations",
    "detectors",
    "retrievers",
    "planners",
    "benchmarks",
    "datasets",
    "objectives",
]
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Gita",
    "Hao",
    "Ivan",
    "Jun",
    "Kira",
    "Luis",
    "Mei",
    "Nina",
    "Omar",
    "Priya",
    "Ravi",
    "Sara",
    "Tom",
    "Yu",
]
LAST = [
    "Lee",
    "Kim",
    "Patel",
    "Garcia",
    "Smith",
    "Wang",
    "Rossi",
    "Novak",
    "Silva",
    "Khan",
    "Ito",
    "Muller",
    "Haddad",
    "Costa",
    "Berg",
    "Park",
]
CITIES = [
    ("US", "WA", "Seattle"),
    ("US", "NY", "New York"),
    ("DE", "BE", "Berlin"),
    ("IN", "KA", "Bengaluru"),
    ("GB", "LDN", "London"),
    ("ES", "M", "Madrid"),
    ("JP", "13", "Tokyo"),
    ("CA", "ON", "Toronto"),
]


def write_guide(path: Path, n_entries: int, seed: int = 0) -> Path:
    """A guide with about n_entries entries: 80% papers in 40 areas, 20% postings."""
    rng = random.Random(seed)
    n_postings = n_entries // 5
    n_papers = n_entries - n_postings - 1
    areas = [f"{rng.choice(WORDS).capitalize()} {rng.choice(NOUNS)} {i}" for i in range(40)]
    lines = [
        f"A quick guide to Amazon's papers at SYNTH {n_entries}",
        "",
        "A synthetic guide for benchmarks. It has the structure of the real guides.",
        "",
    ]
    for a, area in enumerate(areas):
        lines += [area, ""]
        for i in range(a, n_papers, len(areas)):
            title = " ".join(rng.choice(WORDS) for _ in range(4)).capitalize() + f" {rng.choice(NOUNS)} {i}"
            authors = ", ".join(f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(2, 6)))
            lines += [title, authors, ""]
    lines += ["Research areas", "", "Related content", ""]
    for i in range(n_postings):
        country, region, city = rng.choice(CITIES)
        body = " ".join(rng.choice(WORDS + NOUNS) for _ in range(60))
        lines += [f"{country}, {region}, {city}", f"Posting {i}: we are hiring a scientist. {body}."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
