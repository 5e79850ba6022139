"""Item analysis: a 2-parameter logistic IRT model over configurations × items.

P(run j answers item i) = sigmoid(a_i * (theta_j - b_i)): b_i is the item's difficulty,
a_i its discrimination, theta_j the configuration's ability. With a handful of
configurations the fit is weak, so it is a penalised (MAP) fit with standard-normal-ish
priors; the flags below matter more than the exact numbers.
"""

from __future__ import annotations

import numpy as np

LOW_DISCRIMINATION = 0.25


def fit_2pl(responses: np.ndarray, steps: int = 3000, lr: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """responses: (runs, items) of 0/1. Returns (theta per run, a per item, b per item)."""
    runs, items = responses.shape
    theta = np.zeros(runs)
    a = np.ones(items)
    b = np.zeros(items)
    y = responses.astype(float)
    for _ in range(steps):
        logits = a[None, :] * (theta[:, None] - b[None, :])
        p = 1 / (1 + np.exp(-logits))
        residual = y - p  # d loglik / d logit
        grad_theta = (residual * a[None, :]).sum(axis=1) - theta
        grad_a = (residual * (theta[:, None] - b[None, :])).sum(axis=0) - (a - 1)
        grad_b = (-residual * a[None, :]).sum(axis=0) - b / 2.0**2
        theta += lr * grad_theta
        a += lr * grad_a
        b += lr * grad_b
        theta -= theta.mean()  # fix the scale's origin
    return theta, a, b


def item_analysis(run_names: list[str], item_ids: list[str], responses: np.ndarray) -> dict:
    """Each item's difficulty and discrimination, and the items that tell configurations apart poorly."""
    theta, a, b = fit_2pl(responses)
    totals = responses.sum(axis=1)
    items = []
    for i, item_id in enumerate(item_ids):
        column = responses[:, i]
        rest = totals - column  # classical check too: does the item agree with the rest of the exam?
        agreement = float(np.corrcoef(column, rest)[0, 1]) if column.std() and rest.std() else 0.0
        if column.all():
            flag = "everyone right"
        elif not column.any():
            flag = "everyone wrong"
        elif a[i] < 0 or agreement < 0:
            flag = "inverse (weaker configurations do better)"
        elif a[i] < LOW_DISCRIMINATION:
            flag = "low discrimination"
        else:
            flag = ""
        items.append(
            {
                "id": item_id,
                "difficulty": round(float(b[i]), 3),
                "discrimination": round(float(a[i]), 3),
                "share_right": round(float(column.mean()), 3),
                "flag": flag,
            }
        )
    return {
        "abilities": {name: round(float(t), 3) for name, t in zip(run_names, theta, strict=True)},
        "items": items,
        "flagged": [item["id"] for item in items if item["flag"]],
    }
