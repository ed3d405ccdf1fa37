// The peer of bench/allreduce.mjs: MPI_Allreduce (float sum, in place) from C, timed the same
// way (a barrier, then `reps` calls, the slowest rank's time). Prints one JSON line per size.
// Built and run by allreduce.mjs: mpicc -O2 allreduce.c -o <tmp>; mpirun -np 2 <tmp> sizes...
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (int a = 1; a < argc; a++) {
    long bytes = atol(argv[a]);
    long n = bytes / 4;
    int reps = bytes <= 65536 ? 2000 : bytes <= (1 << 20) ? 200 : bytes <= (16 << 20) ? 20 : 6;
    float* v = malloc((size_t)n * sizeof(float));
    for (long i = 0; i < n; i++) v[i] = (float)(i % 7);
    MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);  // warm-up
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int r = 0; r < reps; r++) {
      MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    double t = MPI_Wtime() - t0, slowest;
    MPI_Reduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("{\"bytes\":%ld,\"reps\":%d,\"seconds\":%.9f}\n", bytes, reps, slowest);
    free(v);
  }
  MPI_Finalize();
  return 0;
}
