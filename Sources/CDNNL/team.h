// The OpenMP team (libgomp's, the one oneDNN runs on) as the C side uses it: libgomp's entry points,
// declared here once since the shims call GOMP_parallel directly (no OpenMP pragmas in this build),
// and how a team splits `count` items.
#ifndef CDNNL_TEAM_H
#define CDNNL_TEAM_H

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_max_threads(void);
extern int omp_get_num_threads(void);

/// Inside a team: this thread's contiguous share [begin, end) of `count` items, in thread order.
static inline void team_share(long count, long *begin, long *end) {
    const long threads = omp_get_num_threads(), me = omp_get_thread_num();
    *begin = count * me / threads;
    *end = count * (me + 1) / threads;
}

/// fn(job) on min(work_items, threads) threads of the team, or on the caller alone when that is one.
static inline void team_run(void (*fn)(void *), void *job, long work_items, int threads) {
    if (threads <= 1 || work_items <= 1) fn(job);
    else GOMP_parallel(fn, job, (unsigned)(work_items < threads ? work_items : threads), 0);
}

#endif
