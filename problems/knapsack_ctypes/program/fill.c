#include <stdlib.h>

#include "fill.h"

int fill(int n, const double *values, const double *weights, const int *order,
         double capacity, int passes, int *chosen)
{
    char *taken = calloc((size_t)(n > 0 ? n : 1), 1);
    double used = 0.0;
    int count = 0;
    if (taken == NULL)
        return -1;
    // EVOLVE-BLOCK-START
    double min_gain = 0.5;
    for (int k = 0; k < n; k++) {
        int i = order[k];
        if (used + weights[i] <= capacity) {
            taken[i] = 1;
            used += weights[i];
        }
    }
    for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < n; i++) {
            if (!taken[i])
                continue;
            for (int j = 0; j < n; j++) {
                if (taken[j] || values[j] < values[i] + min_gain)
                    continue;
                if (used - weights[i] + weights[j] <= capacity) {
                    taken[i] = 0;
                    taken[j] = 1;
                    used += weights[j] - weights[i];
                    break;
                }
            }
        }
    }
    // EVOLVE-BLOCK-END
    for (int i = 0; i < n; i++)
        if (taken[i])
            chosen[count++] = i;
    free(taken);
    return count;
}
