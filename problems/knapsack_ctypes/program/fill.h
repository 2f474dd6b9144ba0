/* The C side of solver.py: the signature solver.py declares through ctypes. */
#ifndef FILL_H
#define FILL_H

/* Take items in `order` while they fit, then improve the choice for `passes` passes.
   Writes the chosen indexes to `chosen` (room for n) and returns how many there are,
   or -1 when memory runs out. */
int fill(int n, const double *values, const double *weights, const int *order,
         double capacity, int passes, int *chosen);

#endif
