// A persistent thread pool, so a decode step's ~100 small matmuls do not pay
// thread start-up per call. Workers spin on an atomic job word for a short
// while after each job (the next matmul usually follows within microseconds),
// then sleep on a condition variable.
//
// Work is shared through the task's own atomic counter (see matmul.c), and a
// worker must *join* a job before touching it. The caller works through the
// job itself, then closes it and waits only for workers that joined. So a
// worker that is asleep, or descheduled on a busy machine, never holds the
// caller up unless it is already inside a chunk; the caller just does more.
//
// One job runs at a time: shoal_pool_run takes the pool with trylock and
// reports failure if another thread holds it, so concurrent callers degrade to
// single-threaded work instead of queueing behind each other.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // clock_gettime, pthread extras even under a strict -std=c11
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

#if SHOAL_X86
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

#define MAX_WORKERS 63

// Job word: sequence number (bits 24+), participant limit n (bits 16-23),
// closed flag (bit 15), workers joined (bits 0-14).
#define SEQ_SHIFT 24
#define N_SHIFT 16
#define CLOSED ((uint64_t)1 << 15)
#define JOINED_MASK ((uint64_t)0x7fff)

static pthread_mutex_t use_lock = PTHREAD_MUTEX_INITIALIZER;  // held by the running caller
static int n_workers;                                          // guarded by use_lock

static _Atomic uint64_t job_word;
static shoal_task_fn job_fn;  // written before the job word is published
static void *job_arg;
static _Atomic int job_done;  // joined workers that have finished

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;
static _Atomic int sleepers;

static int64_t spin_ns = -1;  // how long an idle worker spins before sleeping

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline uint64_t seq_of(uint64_t w) { return w >> SEQ_SHIFT; }

// Waits until the job sequence differs from `seen_seq`; returns the job word.
static uint64_t wait_for_job(uint64_t seen_seq) {
    uint64_t w;
    const int64_t start = now_ns();
    for (int i = 1;; i++) {
        w = atomic_load_explicit(&job_word, memory_order_acquire);
        if (seq_of(w) != seen_seq) return w;
        cpu_relax();
        if ((i & 63) == 0 && now_ns() - start > spin_ns) break;
    }
    // Sleep. The sleeper count is raised before the final re-check, and the
    // caller publishes the job before reading the count (both seq_cst), so
    // either we see the new job here or the caller sees us and signals.
    pthread_mutex_lock(&sleep_lock);
    atomic_fetch_add(&sleepers, 1);
    while (seq_of(w = atomic_load(&job_word)) == seen_seq) pthread_cond_wait(&sleep_cond, &sleep_lock);
    atomic_fetch_sub(&sleepers, 1);
    pthread_mutex_unlock(&sleep_lock);
    return w;
}

typedef struct { int index; uint64_t seq; } worker_start;

static void *worker_main(void *p) {
    const worker_start st = *(worker_start *)p;
    free(p);
    uint64_t seen = st.seq;
    for (;;) {
        uint64_t w = wait_for_job(seen);
        seen = seq_of(w);
        const int n = (int)((w >> N_SHIFT) & 0xff);
        if (st.index >= n) continue;
        // Join unless the caller has closed this job (or moved on).
        int joined = 0;
        while (seq_of(w) == seen && !(w & CLOSED)) {
            if (atomic_compare_exchange_weak(&job_word, &w, w + 1)) {
                joined = 1;
                break;
            }
        }
        if (!joined) continue;
        job_fn(job_arg, st.index, n);
        atomic_fetch_add_explicit(&job_done, 1, memory_order_release);
    }
    return NULL;
}

// Starts workers up to `want`; returns how many exist. Caller holds use_lock.
static int grow_workers(int want) {
    while (n_workers < want) {
        worker_start *st = malloc(sizeof *st);
        if (!st) break;
        st->index = n_workers + 1;  // index 0 is the calling thread
        st->seq = seq_of(atomic_load(&job_word));
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int rc = pthread_create(&t, &attr, worker_main, st);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            free(st);
            break;
        }
        n_workers++;
    }
    return n_workers;
}

int shoal_pool_run(int n, shoal_task_fn fn, void *arg) {
    if (n > MAX_WORKERS + 1) n = MAX_WORKERS + 1;
    if (n <= 1) {
        fn(arg, 0, 1);
        return 1;
    }
    if (pthread_mutex_trylock(&use_lock) != 0) return 0;
    if (spin_ns < 0) {
        const char *e = getenv("SHOAL_QUANT_SPIN_US");
        spin_ns = (e ? atoll(e) : 200) * 1000;  // set under use_lock, before any worker exists
    }
    const int have = grow_workers(n - 1);
    if (n > have + 1) n = have + 1;

    job_fn = fn;
    job_arg = arg;
    atomic_store_explicit(&job_done, 0, memory_order_relaxed);
    const uint64_t seq = seq_of(atomic_load(&job_word)) + 1;
    atomic_store(&job_word, (seq << SEQ_SHIFT) | ((uint64_t)n << N_SHIFT));  // seq_cst: publishes fn/arg
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&sleep_cond);
        pthread_mutex_unlock(&sleep_lock);
    }

    fn(arg, 0, n);  // returns once every work item has been claimed

    // Close the job so late workers stay out, then wait for those inside.
    const int joined = (int)(atomic_fetch_or(&job_word, CLOSED) & JOINED_MASK);
    for (int i = 1; atomic_load_explicit(&job_done, memory_order_acquire) < joined; i++) {
        cpu_relax();
        if ((i & 1023) == 0) sched_yield();
    }
    pthread_mutex_unlock(&use_lock);
    return 1;
}
