/* sweep_mpi.c: the MPI layer of `grok sweep` (declared in sweep.h).
 *
 * The only file that includes <mpi.h>: the Makefile compiles it with mpicc's
 * flags and -DGROK_HAVE_MPI when mpicc is present (Open MPI from Debian's
 * openmpi-bin and libopenmpi-dev), and without them otherwise, so the build
 * never needs MPI.  A sweep needs from MPI only each process's rank and the
 * number of ranks (rank r runs the points i with i % size == r), one sum
 * over ranks (the failed points) that is also the barrier before rank 0
 * writes the table.
 *
 * MPI is initialised only under a launcher (the environment holds
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK), so `grok sweep` outside
 * mpirun and every other command never start MPI.  Without GROK_HAVE_MPI,
 * the rank and size are read from the same environment (Open MPI's
 * OMPI_COMM_WORLD_RANK/SIZE, or PMI_RANK/SIZE), so a build without MPI still
 * shares the points among the ranks of an mpirun job; sweep.c then lets
 * every rank rewrite the table under a lock instead of the barrier. */
#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GROK_HAVE_MPI
#include <mpi.h>
#endif

#ifndef GROK_HAVE_MPI
/* A whole number from the environment variable name, or -1. */
static long sweep_mpi_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !v[0])
        return -1;
    char *end;
    long x = strtol(v, &end, 10);
    return *end == '\0' && x >= 0 ? x : -1;
}
#endif

void sweep_mpi_init(int *argc, char ***argv, sweep_mpi_world *w)
{
    w->rank = 0;
    w->size = 1;
    w->mpi = 0;
    int launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
    if (!launched)
        return;
#ifdef GROK_HAVE_MPI
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS)
        return;
    MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w->size);
    w->mpi = 1;
#else
    (void)argc;
    (void)argv;
    long rank = sweep_mpi_env("OMPI_COMM_WORLD_RANK"), size = sweep_mpi_env("OMPI_COMM_WORLD_SIZE");
    if (rank < 0 || size < 1) {
        rank = sweep_mpi_env("PMI_RANK");
        size = sweep_mpi_env("PMI_SIZE");
    }
    if (rank >= 0 && size >= 1 && rank < size && size <= 1000000) {
        w->rank = (int)rank;
        w->size = (int)size;
    }
#endif
}

long sweep_mpi_sum(const sweep_mpi_world *w, long local)
{
#ifdef GROK_HAVE_MPI
    if (w->mpi) {
        long total = 0;
        MPI_Allreduce(&local, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        return total;
    }
#else
    (void)w;
#endif
    return local;
}

void sweep_mpi_finalize(const sweep_mpi_world *w)
{
#ifdef GROK_HAVE_MPI
    if (w->mpi) {
        int done = 0;
        MPI_Finalized(&done);
        if (!done)
            MPI_Finalize();
    }
#else
    (void)w;
#endif
}

const char *sweep_mpi_library(char *buf, size_t n)
{
#ifdef GROK_HAVE_MPI
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    v[strcspn(v, ",\n")] = '\0';
    snprintf(buf, n, "%s", v);
#else
    snprintf(buf, n, "not built with MPI (mpicc was not found); ranks from the environment");
#endif
    return buf;
}
