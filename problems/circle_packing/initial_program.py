"""Constructive packing of 26 circles in the unit square: rings around a centre circle."""

import numpy as np


# EVOLVE-BLOCK-START
def construct_packing():
    """Place circles on two rings around a central circle, then size them."""
    n = 26  # the problem fixes 26 circles  # tune: off
    centers = np.zeros((n, 2))
    centers[0] = [0.5, 0.5]
    inner_count = 8
    inner_radius = 0.3
    for i in range(inner_count):
        angle = 2 * np.pi * i / inner_count
        centers[i + 1] = [0.5 + inner_radius * np.cos(angle), 0.5 + inner_radius * np.sin(angle)]
    outer_count = n - 1 - inner_count
    outer_radius = 0.7
    for i in range(outer_count):
        angle = 2 * np.pi * i / outer_count
        centers[i + 1 + inner_count] = [0.5 + outer_radius * np.cos(angle), 0.5 + outer_radius * np.sin(angle)]
    margin = 0.01
    centers = np.clip(centers, margin, 1 - margin)
    radii = compute_max_radii(centers)
    return centers, radii


def compute_max_radii(centers):
    """Largest radii that keep circles inside the square and apart, by pairwise scaling."""
    n = centers.shape[0]
    radii = np.minimum.reduce([centers[:, 0], centers[:, 1], 1 - centers[:, 0], 1 - centers[:, 1]])
    for i in range(n):
        for j in range(i + 1, n):
            dist = np.sqrt(np.sum((centers[i] - centers[j]) ** 2))
            if radii[i] + radii[j] > dist:
                scale = dist / (radii[i] + radii[j])
                radii[i] *= scale
                radii[j] *= scale
    return radii
# EVOLVE-BLOCK-END


def run_packing():
    centers, radii = construct_packing()
    return centers, radii, float(np.sum(radii))
