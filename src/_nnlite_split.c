/*
 * A matrix product computed as two row ranges, one by the caller and one by a
 * persistent worker thread on the other core.
 *
 * Each range is one cblas gemm call into numpy's own OpenBLAS, the call numpy's
 * matmul makes for the same operands (numpy/_core/src/umath/matmul.c.src:
 * row-major, a transpose flag and a leading dimension from the strides of each
 * operand), restricted to some rows of the result.  Whether that gives the bits of
 * the whole product depends on the BLAS kernels; nnlite/_rowsplit.py checks it
 * once per shape and layout.  Whoever runs a range runs exactly the same call, so
 * the bits never depend on which thread ran it.
 *
 * Precondition: numpy's OpenBLAS runs on one thread (nnlite holds it there while
 * training).  With more, the two gemm calls would share its thread pool.
 *
 * The second range is claimed with a compare-and-swap by whoever gets to it
 * first.  The caller never waits for a worker that has not started: after its own
 * range it takes the second one too unless the worker already has it, and only
 * then waits (spinning) for it to finish.  The worker spins for spin_us after
 * each job waiting for the next one, then sleeps on a condition variable.
 *
 * A call that finds the worker asleep wakes it at its end, for the calls that
 * follow, not for itself: on the 2-core virtual machine this was measured on, a
 * woken worker ran its first range 150-250 us after the wake-up, longer than the
 * products this module is for, and with the other core busy a worker woken early
 * preempted the caller instead of running beside it.  The scheduler also tends to
 * queue a woken worker on the caller's core, behind the busy caller: with the
 * other core busy it then ran no range at all (20 trials of 400 calls); so on
 * Linux the waker first bars the worker from its own core (then it ran ranges
 * within about 35 us in 16 of 20 trials), and the worker lifts the bar once it
 * runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_nnlite_buffers.h"
#include <fenv.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define CPU_PAUSE() __asm__ __volatile__("yield")
#else
#define CPU_PAUSE() ((void)0)
#endif

#define SPLIT_API 1
#define SPLIT_C_API 1 /* the layout of SplitAPI, checked by _nnlite_kernels */

/* CBLAS enums (C ints); integer arguments are 64-bit (ILP64 OpenBLAS). */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*dgemm_fn)(int, int, int, int64_t, int64_t, int64_t, double,
                         const double *, int64_t, const double *, int64_t, double,
                         double *, int64_t);
typedef void (*sgemm_fn)(int, int, int, int64_t, int64_t, int64_t, float,
                         const float *, int64_t, const float *, int64_t, float,
                         float *, int64_t);

static dgemm_fn dgemm;
static sgemm_fn sgemm;

/* One product: everything but the rows, which each range sets. */
typedef struct {
    int is_double, trans_a, trans_b;
    int64_t n, k, lda, ldb, ldc;
    const char *a, *b;
    char *c;
    Py_ssize_t a_row, c_row; /* bytes from one row of the result to the next, in a and c */
} Gemm;

static void
run_rows(const Gemm *g, int64_t r0, int64_t r1)
{
    if (r1 <= r0)
        return;
    const char *a = g->a + r0 * g->a_row;
    char *c = g->c + r0 * g->c_row;
    if (g->is_double)
        dgemm(ROW_MAJOR, g->trans_a, g->trans_b, r1 - r0, g->n, g->k, 1.0,
              (const double *)a, g->lda, (const double *)g->b, g->ldb, 0.0,
              (double *)c, g->ldc);
    else
        sgemm(ROW_MAJOR, g->trans_a, g->trans_b, r1 - r0, g->n, g->k, 1.0f,
              (const float *)a, g->lda, (const float *)g->b, g->ldb, 0.0f,
              (float *)c, g->ldc);
}

/* One job: rows of a product, or a function of a range of indices (an element-wise
 * pass of nnlite's kernels, given through the C API below). */
typedef void (*range_fn)(void *ctx, int64_t lo, int64_t hi);

typedef struct {
    range_fn fn; /* NULL: the product g */
    void *ctx;
    Gemm g;
    fenv_t env; /* the caller's rounding and subnormal modes, for the worker's half */
} Job;

static void
run_range(const Job *j, int64_t r0, int64_t r1)
{
    if (r1 <= r0)
        return;
    if (j->fn)
        j->fn(j->ctx, r0, r1);
    else
        run_rows(&j->g, r0, r1);
}

/* ---- the job slot and the worker ------------------------------------------ */

enum { IDLE, OPEN, CLAIMED_BY_CALLER, CLAIMED_BY_WORKER, DONE };

static atomic_int slot_taken;   /* one job at a time; other callers run both ranges */
static atomic_int range_state;  /* of the second range of the job in the slot */
static Job job;                 /* written before range_state becomes OPEN */
static int64_t job_r0, job_r1;

static atomic_int worker_alive, worker_sleeping;
static pthread_t worker_thread;
static atomic_int wake_sent;    /* a wake-up is on its way: later calls need not send one */
static int wake_pending;        /* under wake_lock */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static atomic_llong spin_ns = 1000000; /* see nnlite/_rowsplit.py */
/* and in any case until then (CLOCK_MONOTONIC ns): set by callers that expect more jobs */
static atomic_llong awake_until_ns = 0;

static atomic_llong n_worker, n_caller, n_busy, n_wakeups;

static int64_t
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Run the open range if it is still open; 1 when the worker ran it. */
static int
worker_try_claim(void)
{
    int open = OPEN;
    if (atomic_load_explicit(&range_state, memory_order_relaxed) != OPEN ||
        !atomic_compare_exchange_strong(&range_state, &open, CLAIMED_BY_WORKER))
        return 0;
    fesetenv(&job.env); /* the modes are per thread: round as the caller would */
    run_range(&job, job_r0, job_r1);
    atomic_fetch_add_explicit(&n_worker, 1, memory_order_relaxed);
    atomic_store_explicit(&range_state, DONE, memory_order_release);
    return 1;
}

/* Spin up to spin_ns for an open range; 1 when one was run. */
static int
worker_spin(void)
{
    int64_t started = now_ns();
    for (unsigned round = 1;; round++) {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(&range_state, memory_order_relaxed) == OPEN &&
                worker_try_claim())
                return 1;
            CPU_PAUSE();
        }
        /* read each round: a longer spin or a later deadline set meanwhile applies */
        int64_t t = now_ns();
        if (t - started >= atomic_load_explicit(&spin_ns, memory_order_relaxed) &&
            t >= atomic_load_explicit(&awake_until_ns, memory_order_relaxed))
            return 0;
        if (round % 8 == 0)
            sched_yield(); /* let another process have the core now and then */
    }
}

/* ---- where the worker runs (Linux) ------------------------------------------ */

#ifdef __linux__
static cpu_set_t worker_cores; /* the cores the worker may use, as it started */
static atomic_int worker_cores_known; /* set by the worker, read by callers */

static void
note_worker_cores(void)
{
    worker_cores_known =
        pthread_getaffinity_np(pthread_self(), sizeof worker_cores, &worker_cores) == 0;
}

/* Keep the worker about to be woken off the caller's core (see the top). */
static void
keep_off_callers_core(void)
{
    int cpu = sched_getcpu();
    if (!worker_cores_known || cpu < 0 || cpu >= CPU_SETSIZE)
        return;
    cpu_set_t others = worker_cores;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) > 0)
        pthread_setaffinity_np(worker_thread, sizeof others, &others);
}

static void
allow_every_core(void)
{
    if (worker_cores_known)
        pthread_setaffinity_np(pthread_self(), sizeof worker_cores, &worker_cores);
}
#else
static void note_worker_cores(void) {}
static void keep_off_callers_core(void) {}
static void allow_every_core(void) {}
#endif

static void
worker_sleep(void)
{
    /* A job posted meanwhile is safe: its caller runs the range the worker leaves. */
    pthread_mutex_lock(&wake_lock);
    atomic_store(&worker_sleeping, 1);
    while (!wake_pending)
        pthread_cond_wait(&wake_cond, &wake_lock);
    wake_pending = 0;
    atomic_store(&worker_sleeping, 0);
    pthread_mutex_unlock(&wake_lock);
    allow_every_core();
    atomic_store(&wake_sent, 0);
}

static void *
worker_main(void *unused)
{
    (void)unused;
    note_worker_cores();
    for (;;) {
        if (!worker_try_claim() && !worker_spin())
            worker_sleep();
    }
    return NULL;
}

static void
wake_worker_if_asleep(void)
{
    if (!atomic_load(&worker_sleeping) || atomic_exchange(&wake_sent, 1))
        return;
    keep_off_callers_core();
    pthread_mutex_lock(&wake_lock);
    wake_pending = 1;
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    atomic_fetch_add_explicit(&n_wakeups, 1, memory_order_relaxed);
}

/* Called with the GIL held, which keeps two callers from starting two workers. */
static int
ensure_worker(void)
{
    if (atomic_load(&worker_alive))
        return 0;
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* signals stay with Python's threads */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&worker_thread, &attr, worker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err) {
        errno = err;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    atomic_store(&worker_alive, 1);
    return 0;
}

/* A forked child has no worker (and no other thread that could hold the slot). */
static void
after_fork_in_child(void)
{
    atomic_store(&worker_alive, 0);
    atomic_store(&worker_sleeping, 0);
    atomic_store(&wake_sent, 0);
    atomic_store(&slot_taken, 0);
    atomic_store(&range_state, IDLE);
    atomic_store(&awake_until_ns, 0);
    wake_pending = 0;
    pthread_mutex_init(&wake_lock, NULL);
    pthread_cond_init(&wake_cond, NULL);
}

static void
run_split(const Job *g, int64_t split, int64_t m)
{
    int free_slot = 0;
    if (split <= 0 || split >= m ||
        !atomic_compare_exchange_strong(&slot_taken, &free_slot, 1)) {
        /* the same two calls, one after the other */
        if (split > 0 && split < m)
            atomic_fetch_add_explicit(&n_busy, 1, memory_order_relaxed);
        run_range(g, 0, split);
        run_range(g, split, m);
        return;
    }
    job = *g;
    fegetenv(&job.env);
    job_r0 = split;
    job_r1 = m;
    atomic_store(&range_state, OPEN);
    run_range(g, 0, split);
    int open = OPEN;
    if (atomic_compare_exchange_strong(&range_state, &open, CLAIMED_BY_CALLER)) {
        run_range(g, split, m);
        atomic_fetch_add_explicit(&n_caller, 1, memory_order_relaxed);
    }
    else {
        for (unsigned long spins = 0;
             atomic_load_explicit(&range_state, memory_order_acquire) != DONE; spins++) {
            CPU_PAUSE();
            if (spins > (1u << 14))
                sched_yield(); /* the worker may share our core */
        }
    }
    atomic_store(&range_state, IDLE);
    atomic_store(&slot_taken, 0);
    wake_worker_if_asleep();
}

/* The worker spins at least until now + us (if that is later than set before). */
static void
stay_awake_for(long long us)
{
    if (us <= 0)
        return;
    if (us > 10000000)
        us = 10000000;
    long long until = now_ns() + us * 1000, seen = atomic_load(&awake_until_ns);
    while (seen < until && !atomic_compare_exchange_weak(&awake_until_ns, &seen, until))
        ;
}

/* ---- operands --------------------------------------------------------------- */

/* numpy's is_blasable2d: unit inner stride, outer stride a whole number of items
 * and at least the inner extent. */
static int
blasable(Py_ssize_t outer_stride, Py_ssize_t inner_stride, Py_ssize_t inner_len,
         Py_ssize_t size)
{
    return inner_stride == size && outer_stride % size == 0 &&
           outer_stride / size >= inner_len;
}

/* numpy's order of preference: the C layout, else the transposed one. */
static int
operand_layout(const Py_buffer *v, Py_ssize_t size, int *trans, int64_t *ld)
{
    Py_ssize_t rows = v->shape[0], cols = v->shape[1];
    if (blasable(v->strides[0], v->strides[1], cols, size)) {
        *trans = NO_TRANS;
        *ld = v->strides[0] / size;
        return 0;
    }
    if (blasable(v->strides[1], v->strides[0], rows, size)) {
        *trans = TRANS;
        *ld = v->strides[1] / size;
        return 0;
    }
    return -1;
}

/* [first, last) bytes of a 2-D view with non-negative strides */
static void
extent(const Py_buffer *v, uintptr_t *first, uintptr_t *last)
{
    *first = (uintptr_t)v->buf;
    *last = *first + (v->shape[0] - 1) * v->strides[0] + (v->shape[1] - 1) * v->strides[1] +
            v->itemsize;
}

static int
overlaps(const Py_buffer *x, const Py_buffer *y)
{
    uintptr_t x0, x1, y0, y1;
    extent(x, &x0, &x1);
    extent(y, &y0, &y1);
    return x0 < y1 && y0 < x1;
}

static int
refuse(const char *why)
{
    PyErr_Format(PyExc_ValueError, "_nnlite_split: %s", why);
    return -1;
}

/* Fill *g from a, b, out; -1 with ValueError when numpy would not make one gemm call. */
static int
describe(Py_buffer *v, Gemm *g)
{
    Py_buffer *a = &v[0], *b = &v[1], *out = &v[2];
    if (a->ndim != 2 || b->ndim != 2 || out->ndim != 2)
        return refuse("a, b and out must be 2-D");
    char code = format_code(a);
    if ((code != 'd' && code != 'f') || format_code(b) != code || format_code(out) != code)
        return refuse("a, b and out must all be float64 or all float32 (native byte order)");
    Py_ssize_t size = a->itemsize;
    Py_ssize_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    if (b->shape[0] != k || out->shape[0] != m || out->shape[1] != n)
        return refuse("shapes do not match: need a (m, k), b (k, n), out (m, n)");
    if (m < 2 || n < 2 || k < 2)
        return refuse("every dimension must be at least 2 (numpy does not use gemm "
                      "otherwise)");
    for (int i = 0; i < 3; i++)
        if ((uintptr_t)v[i].buf % (uintptr_t)size != 0)
            return refuse("arrays must be aligned");
    if (operand_layout(a, size, &g->trans_a, &g->lda) < 0 ||
        operand_layout(b, size, &g->trans_b, &g->ldb) < 0)
        return refuse("a and b must each have one unit stride and one stride of at "
                      "least their other dimension (C- or F-ordered, or rows of a "
                      "larger array); numpy copies other layouts first");
    if (!blasable(out->strides[0], out->strides[1], n, size))
        return refuse("out must be C-ordered (unit stride along rows)");
    if (overlaps(out, a) || overlaps(out, b))
        return refuse("out must not overlap a or b");
    if (a->buf == b->buf && m == n && a->strides[0] == b->strides[1] &&
        a->strides[1] == b->strides[0] && g->trans_a != g->trans_b)
        return refuse("a product of a matrix with its own transpose is numpy's syrk "
                      "call, not gemm");
    g->is_double = code == 'd';
    g->n = n;
    g->k = k;
    g->ldc = out->strides[0] / size;
    g->a = a->buf;
    g->b = b->buf;
    g->c = out->buf;
    g->a_row = a->strides[0];
    g->c_row = out->strides[0];
    return 0;
}

/* ---- Python entry points ------------------------------------------------------ */

static PyObject *
s_init(PyObject *self, PyObject *args)
{
    unsigned long long d, s;
    if (!PyArg_ParseTuple(args, "KK:init", &d, &s))
        return NULL;
    if (d == 0 || s == 0) {
        refuse("init needs the addresses of cblas_dgemm and cblas_sgemm");
        return NULL;
    }
    dgemm = (dgemm_fn)(uintptr_t)d;
    sgemm = (sgemm_fn)(uintptr_t)s;
    Py_RETURN_NONE;
}

static PyObject *
s_matmul_rows(PyObject *self, PyObject *args)
{
    PyObject *objs[3];
    Py_ssize_t split;
    long long awake_us = 0;
    if (!PyArg_ParseTuple(args, "OOOn|L:matmul_rows", &objs[0], &objs[1], &objs[2], &split,
                          &awake_us))
        return NULL;
    if (dgemm == NULL || sgemm == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_nnlite_split: init() was not called");
        return NULL;
    }
    Py_buffer views[3];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 3; held++)
        if (PyObject_GetBuffer(objs[held], &views[held],
                               held == 2 ? PyBUF_RECORDS : PyBUF_RECORDS_RO) < 0)
            goto done;
    Job j = {.fn = NULL, .ctx = NULL};
    if (describe(views, &j.g) < 0)
        goto done;
    Py_ssize_t m = views[0].shape[0];
    if (split < 0 || split > m) {
        refuse("split_row must be in [0, m]");
        goto done;
    }
    if (ensure_worker() < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    run_split(&j, split, m);
    stay_awake_for(awake_us);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    while (held > 0)
        PyBuffer_Release(&views[--held]);
    return result;
}

static PyObject *
s_stay_awake_us(PyObject *self, PyObject *args)
{
    long long us;
    if (!PyArg_ParseTuple(args, "L:stay_awake_us", &us))
        return NULL;
    if (us < 0 || us > 10000000) {
        refuse("stay_awake_us needs 0 <= us <= 10000000");
        return NULL;
    }
    if (ensure_worker() < 0)
        return NULL;
    stay_awake_for(us);
    wake_worker_if_asleep();
    Py_RETURN_NONE;
}

static PyObject *
s_set_spin_us(PyObject *self, PyObject *args)
{
    long long us;
    if (!PyArg_ParseTuple(args, "L:set_spin_us", &us))
        return NULL;
    if (us < 0 || us > 1000000) {
        refuse("set_spin_us needs 0 <= us <= 1000000");
        return NULL;
    }
    long long old = atomic_exchange(&spin_ns, us * 1000) / 1000;
    return PyLong_FromLongLong(old);
}

static long long
awake_left_us(void)
{
    long long left = atomic_load(&awake_until_ns) - now_ns();
    return left > 0 ? left / 1000 : 0;
}

static PyObject *
s_worker_stats(PyObject *self, PyObject *unused)
{
    return Py_BuildValue(
        "{s:L,s:L,s:L,s:L,s:O,s:O,s:L,s:L}",
        "worker_ranges", (long long)atomic_load(&n_worker),
        "caller_ranges", (long long)atomic_load(&n_caller),
        "busy_calls", (long long)atomic_load(&n_busy),
        "wakeups", (long long)atomic_load(&n_wakeups),
        "worker_alive", atomic_load(&worker_alive) ? Py_True : Py_False,
        "worker_sleeping", atomic_load(&worker_sleeping) ? Py_True : Py_False,
        "spin_us", (long long)(atomic_load(&spin_ns) / 1000),
        "awake_us_left", awake_left_us());
}

static PyMethodDef methods[] = {
    {"init", s_init, METH_VARARGS,
     "init(dgemm_address, sgemm_address): numpy's ILP64 cblas_dgemm and cblas_sgemm."},
    {"matmul_rows", s_matmul_rows, METH_VARARGS,
     "matmul_rows(a, b, out, split_row[, awake_us]): out = a @ b as rows [0, split_row) "
     "on the calling thread and [split_row, m) on the worker, each one gemm call; the "
     "worker then spins for a next job for at least awake_us microseconds."},
    {"stay_awake_us", s_stay_awake_us, METH_VARARGS,
     "stay_awake_us(us): start or wake the worker, and keep it spinning for the next "
     "job for at least us microseconds from now."},
    {"set_spin_us", s_set_spin_us, METH_VARARGS,
     "set_spin_us(us): how long the worker spins for a next job before it sleeps; "
     "returns the previous value."},
    {"worker_stats", s_worker_stats, METH_NOARGS,
     "worker_stats(): counts of second ranges run by the worker and by callers, "
     "calls that found the slot busy, wake-ups; the worker's state."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_nnlite_split",
    "Two-thread row-split matrix products (see nnlite/_rowsplit.py).", -1, methods,
};

/* ---- C API: element-wise passes of _nnlite_kernels in two halves ----------- */

/* fn(ctx, 0, split) here and fn(ctx, split, n) on the worker if it is spinning (else
 * here too), as products are split; called without the GIL.  Returns 1 when the worker
 * could have taken the second half (it was started), 0 when both ran here. */
static int
api_run_two(range_fn fn, void *ctx, int64_t n, int64_t split, long long awake_us)
{
    Job j = {.fn = fn, .ctx = ctx};
    if (!atomic_load(&worker_alive)) { /* started by the products, with the GIL */
        fn(ctx, 0, n);
        return 0;
    }
    run_split(&j, split, n);
    stay_awake_for(awake_us);
    return 1;
}

typedef struct {
    int version;
    int (*run_two)(range_fn, void *, int64_t, int64_t, long long);
} SplitAPI;

static SplitAPI c_api = {SPLIT_C_API, api_run_two};

PyMODINIT_FUNC
PyInit__nnlite_split(void)
{
    if (pthread_atfork(NULL, NULL, after_fork_in_child) != 0) {
        PyErr_SetString(PyExc_OSError, "_nnlite_split: pthread_atfork failed");
        return NULL;
    }
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL)
        return NULL;
    PyObject *capsule = PyCapsule_New(&c_api, "_nnlite_split._C_API", NULL);
    if (PyModule_AddIntConstant(mod, "API", SPLIT_API) < 0 || capsule == NULL ||
        PyModule_AddObject(mod, "_C_API", capsule) < 0) {
        Py_XDECREF(capsule);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
