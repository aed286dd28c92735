/*
 * Fused element-wise kernels for nnlite's training loop.
 *
 * Each kernel does in one pass over memory what the numpy code in nnlite does in
 * several, with the same IEEE operations on every element in the same order, so
 * the results are bit for bit those of the numpy code (which are scikit-learn's).
 * That is why this file must be compiled without floating-point contraction
 * (-ffp-contract=off) and without -ffast-math, and why exp, tanh and the like stay
 * in numpy, whose own implementations this file cannot reproduce.  The one function
 * called here is the C library's log (logf for float32), which is what scipy's
 * xlogy uses for the log-loss.
 *
 * Arrays arrive through the buffer protocol; every entry point checks that they
 * are C-contiguous, float64 ("d") or float32 ("f") by their format code, and of
 * the stated size.  nnlite/_accel.py and nnlite/_program.py are the callers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_nnlite_buffers.h"
#include <math.h>
#include <stdint.h>

#define KERNELS_API 2

/* Each hot loop is compiled for the baseline and for AVX2 / AVX-512, and the best
 * one the CPU runs is picked at load time.  Vector instructions round every
 * element exactly as scalar ones do; contraction into FMA stays off.  Helpers the
 * loops call are cloned too: a baseline (SSE) helper called from AVX-512 code pays
 * a transition penalty on every instruction. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HOT __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define HOT
#endif
#define R restrict

/* ---- buffers -------------------------------------------------------------
 * Every array is checked here before a kernel touches it: C-contiguous (the
 * buffer request fails otherwise), the element type by its format code (float64
 * "d", float32 "f", class codes Py_ssize_t), and the exact number of elements. */

typedef struct {
    Py_buffer view;
    int held;
} Buf;

/* n * k elements; -1 with ValueError when negative or too large to address */
static Py_ssize_t
checked_size(Py_ssize_t n, Py_ssize_t k)
{
    if (n < 0 || k < 0 || (k != 0 && n > PY_SSIZE_T_MAX / 8 / k)) {
        PyErr_SetString(PyExc_ValueError, "_nnlite_kernels: invalid array size");
        return -1;
    }
    return n * k;
}

static int
is_float_buffer(const Py_buffer *view, Py_ssize_t itemsize)
{
    char c = format_code(view);
    return (itemsize == 8 && c == 'd') || (itemsize == 4 && c == 'f');
}

static int
take(PyObject *obj, Buf *b, int writable, Py_ssize_t count, Py_ssize_t itemsize,
     const char *what)
{
    b->held = 0;
    int flags = PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0)
        return -1;
    b->held = 1;
    if (b->view.itemsize != itemsize || !is_float_buffer(&b->view, itemsize) ||
        b->view.len != count * itemsize) {
        PyErr_Format(PyExc_ValueError,
                     "_nnlite_kernels: %s has %zd bytes of item size %zd; "
                     "expected %zd floats of size %zd",
                     what, b->view.len, b->view.itemsize, count, itemsize);
        return -1;
    }
    return 0;
}

static int
take_codes(PyObject *obj, Buf *b, Py_ssize_t n)
{
    b->held = 0;
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_FORMAT) < 0)
        return -1;
    b->held = 1;
    char c = format_code(&b->view);
    if (b->view.itemsize != (Py_ssize_t)sizeof(Py_ssize_t) ||
        !(c == 'n' || c == 'l' || c == 'q') || b->view.len != n * b->view.itemsize) {
        PyErr_SetString(PyExc_ValueError,
                        "_nnlite_kernels: codes must be one intp per row");
        return -1;
    }
    return 0;
}

static void
release(Buf *b, int count)
{
    for (int i = 0; i < count; i++)
        if (b[i].held)
            PyBuffer_Release(&b[i].view);
}

/* 8 for float64, 4 for float32; -1 with TypeError for anything else */
static Py_ssize_t
item_size(PyObject *obj)
{
    Py_buffer v;
    if (PyObject_GetBuffer(obj, &v, PyBUF_FORMAT) < 0)
        return -1;
    Py_ssize_t s = v.itemsize;
    int ok = (s == 8 || s == 4) && is_float_buffer(&v, s);
    PyBuffer_Release(&v);
    if (!ok) {
        PyErr_SetString(PyExc_TypeError, "_nnlite_kernels: float64 or float32 arrays only");
        return -1;
    }
    return s;
}

/* ---- numpy's pairwise sum (the order np.add.reduce uses along a contiguous axis) */

/* TERM(x) is what is summed for each element x: x itself, or half its square (the
 * squared error). */
#define PAIRWISE(NAME, T, TERM)                                                     \
    HOT static T NAME(const T *a, Py_ssize_t n)                                     \
    {                                                                               \
        if (n < 8) {                                                                \
            T res = 0;                                                              \
            for (Py_ssize_t i = 0; i < n; i++)                                      \
                res += TERM(a[i]);                                                  \
            return res;                                                             \
        }                                                                           \
        if (n <= 128) {                                                             \
            T r[8];                                                                 \
            Py_ssize_t i;                                                           \
            for (int j = 0; j < 8; j++)                                             \
                r[j] = TERM(a[j]);                                                  \
            for (i = 8; i < n - (n % 8); i += 8)                                    \
                for (int j = 0; j < 8; j++)                                         \
                    r[j] += TERM(a[i + j]);                                         \
            T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])); \
            for (; i < n; i++)                                                      \
                res += TERM(a[i]);                                                  \
            return res;                                                             \
        }                                                                           \
        Py_ssize_t n2 = n / 2;                                                      \
        n2 -= n2 % 8;                                                               \
        return NAME(a, n2) + NAME(a + n2, n - n2);                                  \
    }

#define AS_IS(x) (x)
#define HALF_SQUARE_D(x) (0.5 * ((x) * (x)))
#define HALF_SQUARE_F(x) (0.5f * ((x) * (x)))

PAIRWISE(pairwise_d, double, AS_IS)
PAIRWISE(pairwise_f, float, AS_IS)
PAIRWISE(half_squares_d, double, HALF_SQUARE_D)
PAIRWISE(half_squares_f, float, HALF_SQUARE_F)

/* The value of a loss from per-column totals over n rows, as np.average and .sum()
 * compute it: every total divided by n (in float64, rounded once), then the pairwise
 * sum of the k column means, started from 0. */
#define MEAN_OF_TOTALS(NAME, T, PAIRWISE_FN)                                        \
    HOT static double NAME(T *totals, Py_ssize_t n, Py_ssize_t k)                   \
    {                                                                               \
        for (Py_ssize_t j = 0; j < k; j++)                                          \
            totals[j] = (T)((double)totals[j] / (double)n);                         \
        return (double)((T)0 + PAIRWISE_FN(totals, k));                             \
    }

MEAN_OF_TOTALS(mean_of_totals_d, double, pairwise_d)
MEAN_OF_TOTALS(mean_of_totals_f, float, pairwise_f)

/* ---- dense layer: z = act(z + b) ------------------------------------------ */

#define BIAS_ACT(NAME, T)                                                           \
    HOT static void NAME(T *R z, const T *R b, Py_ssize_t n, Py_ssize_t k, int relu)        \
    {                                                                               \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            T *row = z + i * k;                                                     \
            if (b)                                                                  \
                for (Py_ssize_t j = 0; j < k; j++)                                  \
                    row[j] += b[j];                                                 \
            if (relu)  /* np.maximum(x, 0): NaN stays, -0.0 becomes +0.0 */         \
                for (Py_ssize_t j = 0; j < k; j++)                                  \
                    row[j] = (row[j] > 0 || row[j] != row[j]) ? row[j] : 0;         \
        }                                                                           \
    }

BIAS_ACT(bias_act_d, double)
BIAS_ACT(bias_act_f, float)

static PyObject *
k_bias_act(PyObject *self, PyObject *args)
{
    PyObject *z, *b;
    Py_ssize_t n, k;
    int relu;
    if (!PyArg_ParseTuple(args, "OOnnp", &z, &b, &n, &k, &relu))
        return NULL;
    Py_ssize_t nk = checked_size(n, k);
    if (nk < 0)
        return NULL;
    Py_ssize_t s = item_size(z);
    if (s < 0)
        return NULL;
    Buf bufs[2] = {{.held = 0}, {.held = 0}};
    int nb = b == Py_None ? 1 : 2;
    if (take(z, &bufs[0], 1, nk, s, "z") < 0 ||
        (nb == 2 && take(b, &bufs[1], 0, k, s, "b") < 0)) {
        release(bufs, nb);
        return NULL;
    }
    void *bp = nb == 2 ? bufs[1].view.buf : NULL;
    Py_BEGIN_ALLOW_THREADS
    if (s == 8)
        bias_act_d(bufs[0].view.buf, bp, n, k, relu);
    else
        bias_act_f(bufs[0].view.buf, bp, n, k, relu);
    Py_END_ALLOW_THREADS
    release(bufs, nb);
    Py_RETURN_NONE;
}

/* ---- outer product: out = col @ row for a (n, 1) column and a (1, k) row ------
 * What BLAS computes for a product whose inner dimension is 1 (the input gradient of
 * a layer with one unit): each entry one rounded product, accumulated onto +0.0 --
 * so a -0.0 product comes out as +0.0, as numpy's multiply would not give.  GEMM
 * spends as long on this as on a hundred times the arithmetic; nnlite/_accel.py
 * checks once per process that both give the same bits. */
#define OUTER(NAME, T)                                                              \
    HOT static void NAME(const T *R col, const T *R row, T *R out, Py_ssize_t n,    \
                         Py_ssize_t k)                                              \
    {                                                                               \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            T c = col[i], *o = out + i * k;                                         \
            for (Py_ssize_t j = 0; j < k; j++)                                      \
                o[j] = c * row[j] + (T)0;                                           \
        }                                                                           \
    }

OUTER(outer_d, double)
OUTER(outer_f, float)

static PyObject *
k_outer(PyObject *self, PyObject *args)
{
    PyObject *col, *row, *out;
    Py_ssize_t n, k;
    if (!PyArg_ParseTuple(args, "OOOnn", &col, &row, &out, &n, &k))
        return NULL;
    Py_ssize_t nk = checked_size(n, k);
    if (nk < 0)
        return NULL;
    Py_ssize_t s = item_size(out);
    if (s < 0)
        return NULL;
    Buf bufs[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
    if (take(col, &bufs[0], 0, n, s, "col") < 0 || take(row, &bufs[1], 0, k, s, "row") < 0 ||
        take(out, &bufs[2], 1, nk, s, "out") < 0) {
        release(bufs, 3);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (s == 8)
        outer_d(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, n, k);
    else
        outer_f(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, n, k);
    Py_END_ALLOW_THREADS
    release(bufs, 3);
    Py_RETURN_NONE;
}

/* ---- ReLU backward and bias gradient: g[z == 0] = 0; colsum = sum(g, axis=0) ---
 * numpy adds the rows one after another, except for a single column, which is
 * contiguous and gets its pairwise sum (added to 0, as np.add.reduce starts). */
#define RELU_BACK(NAME, T, PAIRWISE_FN)                                             \
    HOT static void NAME(T *R g, const T *R z, T *R colsum, Py_ssize_t n, Py_ssize_t k)       \
    {                                                                               \
        int rows = colsum && k > 1;                                                 \
        if (rows)                                                                   \
            for (Py_ssize_t j = 0; j < k; j++)                                      \
                colsum[j] = 0;                                                      \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            T *gr = g + i * k;                                                      \
            const T *zr = z ? z + i * k : NULL;                                     \
            if (zr)                                                                 \
                for (Py_ssize_t j = 0; j < k; j++)                                  \
                    gr[j] = zr[j] == 0 ? 0 : gr[j]; /* delta[Z == 0] = 0 */         \
            if (rows)                                                               \
                for (Py_ssize_t j = 0; j < k; j++)                                  \
                    colsum[j] += gr[j];                                             \
        }                                                                           \
        if (colsum && k == 1)                                                       \
            colsum[0] = (T)0 + PAIRWISE_FN(g, n);                                   \
    }

RELU_BACK(relu_back_d, double, pairwise_d)
RELU_BACK(relu_back_f, float, pairwise_f)

static PyObject *
k_relu_back(PyObject *self, PyObject *args)
{
    PyObject *g, *z, *colsum;
    Py_ssize_t n, k;
    if (!PyArg_ParseTuple(args, "OOOnn", &g, &z, &colsum, &n, &k))
        return NULL;
    Py_ssize_t nk = checked_size(n, k);
    if (nk < 0)
        return NULL;
    Py_ssize_t s = item_size(g);
    if (s < 0)
        return NULL;
    Buf bufs[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
    if (take(g, &bufs[0], 1, nk, s, "g") < 0 ||
        (z != Py_None && take(z, &bufs[1], 0, nk, s, "z") < 0) ||
        (colsum != Py_None && take(colsum, &bufs[2], 1, k, s, "colsum") < 0)) {
        release(bufs, 3);
        return NULL;
    }
    void *zp = bufs[1].held ? bufs[1].view.buf : NULL;
    void *cp = bufs[2].held ? bufs[2].view.buf : NULL;
    Py_BEGIN_ALLOW_THREADS
    if (s == 8)
        relu_back_d(bufs[0].view.buf, zp, cp, n, k);
    else
        relu_back_f(bufs[0].view.buf, zp, cp, n, k);
    Py_END_ALLOW_THREADS
    release(bufs, 3);
    Py_RETURN_NONE;
}

/* ---- softmax, before the exponential: z = (z + b) - max_j (z + b) -----------
 * With class codes, picked[i] receives the shifted logit of row i's class (what the
 * log-loss computed from logits needs). */
#define SHIFT(NAME, T)                                                              \
    HOT static void NAME(T *z, const T *b, const Py_ssize_t *codes, T *picked,          \
                     Py_ssize_t n, Py_ssize_t k)                                    \
    {                                                                               \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            T *row = z + i * k;                                                     \
            if (b)                                                                  \
                for (Py_ssize_t j = 0; j < k; j++)                                  \
                    row[j] += b[j];                                                 \
            /* branch-free maximum; np.max lets a NaN win (the sign of a zero     \
               maximum cannot change exp(z - max)) */                               \
            T m = row[0];                                                           \
            int nan = m != m;                                                       \
            for (Py_ssize_t j = 1; j < k; j++) {                                    \
                m = row[j] > m ? row[j] : m;                                        \
                nan |= row[j] != row[j];                                            \
            }                                                                       \
            if (nan)                                                                \
                m = (T)NAN;                                                         \
            for (Py_ssize_t j = 0; j < k; j++)                                      \
                row[j] -= m;                                                        \
            if (picked)                                                             \
                picked[i] = row[codes[i]];                                          \
        }                                                                           \
    }

SHIFT(shift_d, double)
SHIFT(shift_f, float)

static int
check_codes(const Py_ssize_t *codes, Py_ssize_t n, Py_ssize_t k)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (codes[i] < 0 || codes[i] >= k) {
            PyErr_SetString(PyExc_ValueError, "_nnlite_kernels: class code out of range");
            return -1;
        }
    return 0;
}

static PyObject *
k_softmax_shift(PyObject *self, PyObject *args)
{
    PyObject *z, *b, *codes, *picked;
    Py_ssize_t n, k;
    if (!PyArg_ParseTuple(args, "OOOOnn", &z, &b, &codes, &picked, &n, &k))
        return NULL;
    Py_ssize_t nk = checked_size(n, k);
    if (nk < 0)
        return NULL;
    if (k < 1) {
        PyErr_SetString(PyExc_ValueError, "_nnlite_kernels: softmax needs a column");
        return NULL;
    }
    if ((codes == Py_None) != (picked == Py_None)) {
        PyErr_SetString(PyExc_ValueError, "_nnlite_kernels: codes and picked go together");
        return NULL;
    }
    Py_ssize_t s = item_size(z);
    if (s < 0)
        return NULL;
    Buf bufs[4] = {{.held = 0}, {.held = 0}, {.held = 0}, {.held = 0}};
    if (take(z, &bufs[0], 1, nk, s, "z") < 0 ||
        (b != Py_None && take(b, &bufs[1], 0, k, s, "b") < 0) ||
        (codes != Py_None && take_codes(codes, &bufs[2], n) < 0) ||
        (picked != Py_None && take(picked, &bufs[3], 1, n, s, "picked") < 0) ||
        (codes != Py_None && check_codes(bufs[2].view.buf, n, k) < 0)) {
        release(bufs, 4);
        return NULL;
    }
    void *bp = bufs[1].held ? bufs[1].view.buf : NULL;
    void *cp = bufs[2].held ? bufs[2].view.buf : NULL;
    void *pp = bufs[3].held ? bufs[3].view.buf : NULL;
    Py_BEGIN_ALLOW_THREADS
    if (s == 8)
        shift_d(bufs[0].view.buf, bp, cp, pp, n, k);
    else
        shift_f(bufs[0].view.buf, bp, cp, pp, n, k);
    Py_END_ALLOW_THREADS
    release(bufs, 4);
    Py_RETURN_NONE;
}

/*
 * ---- softmax, after the exponential, with a one-hot target given by class codes:
 * p = e / sum(e, axis=1); then p[code] -= 1.  With want_value, the per-row loss
 * -log(clip(p[code])) is added into per-class totals and the value returned is the
 * pairwise sum of (class total / n), the order nnlite's numpy code uses (np.add.at
 * into class totals, a division, a sum).  With sums_out instead, the row sums are
 * written there and no value is computed: the log-loss from logits takes their
 * logarithm with numpy, whose own log this file cannot reproduce.
 */
#define FINISH(NAME, T, PAIRWISE_FN, LOG_FN, MEAN_FN)                                        \
    HOT static double NAME(T *z, const Py_ssize_t *codes, T *totals, T *sums_out,   \
                           Py_ssize_t n, Py_ssize_t k, int want_value, double eps)  \
    {                                                                               \
        T lo = (T)eps, hi = (T)(1 - eps);                                           \
        int clipped = want_value && !sums_out;                                      \
        for (Py_ssize_t j = 0; j < k; j++)                                          \
            totals[j] = 0;                                                          \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            T *row = z + i * k;                                                     \
            T sum = (T)0 + PAIRWISE_FN(row, k);                                     \
            if (sums_out)                                                           \
                sums_out[i] = sum;                                                  \
            for (Py_ssize_t j = 0; j < k; j++)                                      \
                row[j] /= sum;                                                      \
            Py_ssize_t c = codes[i];                                                \
            if (clipped) {                                                          \
                T p = row[c];                                                       \
                p = p < lo ? lo : (p > hi ? hi : p);                                \
                totals[c] += -LOG_FN(p);                                            \
            }                                                                       \
            row[c] -= 1;                                                            \
        }                                                                           \
        if (!clipped)                                                               \
            return 0.0;                                                             \
        return MEAN_FN(totals, n, k);                                               \
    }

/* scipy's xlogy takes the C library's log, and logf for float32 */
FINISH(finish_d, double, pairwise_d, log, mean_of_totals_d)
FINISH(finish_f, float, pairwise_f, logf, mean_of_totals_f)

static PyObject *
k_softmax_finish_codes(PyObject *self, PyObject *args)
{
    PyObject *z, *codes, *totals, *sums_out;
    Py_ssize_t n, k;
    int want_value;
    double eps;
    if (!PyArg_ParseTuple(args, "OOOOnnpd", &z, &codes, &totals, &sums_out, &n, &k,
                          &want_value, &eps))
        return NULL;
    Py_ssize_t nk = checked_size(n, k);
    if (nk < 0)
        return NULL;
    Py_ssize_t s = item_size(z);
    if (s < 0)
        return NULL;
    Buf bufs[4] = {{.held = 0}, {.held = 0}, {.held = 0}, {.held = 0}};
    if (take(z, &bufs[0], 1, nk, s, "z") < 0 ||
        take_codes(codes, &bufs[1], n) < 0 ||
        take(totals, &bufs[2], 1, k, s, "totals") < 0 ||
        (sums_out != Py_None && take(sums_out, &bufs[3], 1, n, s, "sums_out") < 0) ||
        check_codes(bufs[1].view.buf, n, k) < 0) {
        release(bufs, 4);
        return NULL;
    }
    void *sp = bufs[3].held ? bufs[3].view.buf : NULL;
    double value;
    Py_BEGIN_ALLOW_THREADS
    if (s == 8)
        value = finish_d(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, sp, n, k,
                         want_value, eps);
    else
        value = finish_f(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, sp, n, k,
                         want_value, eps);
    Py_END_ALLOW_THREADS
    release(bufs, 4);
    if (!want_value || sp)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(value);
}

/* ---- softmax, after the exponential, without a target: z /= sum(z, axis=1) ---- */
#define NORMALISE(NAME, T, PAIRWISE_FN)                                             \
    HOT static void NAME(T *z, Py_ssize_t n, Py_ssize_t k)                          \
    {                                                                               \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            T *row = z + i * k;                                                     \
            T sum = (T)0 + PAIRWISE_FN(row, k);                                     \
            for (Py_ssize_t j = 0; j < k; j++)                                      \
                row[j] /= sum;                                                      \
        }                                                                           \
    }

NORMALISE(normalise_d, double, pairwise_d)
NORMALISE(normalise_f, float, pairwise_f)

static PyObject *
k_softmax_normalise(PyObject *self, PyObject *args)
{
    PyObject *z;
    Py_ssize_t n, k;
    if (!PyArg_ParseTuple(args, "Onn", &z, &n, &k))
        return NULL;
    Py_ssize_t nk = checked_size(n, k);
    if (nk < 0)
        return NULL;
    Py_ssize_t s = item_size(z);
    if (s < 0)
        return NULL;
    Buf buf = {.held = 0};
    if (take(z, &buf, 1, nk, s, "z") < 0) {
        release(&buf, 1);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (s == 8)
        normalise_d(buf.view.buf, n, k);
    else
        normalise_f(buf.view.buf, n, k);
    Py_END_ALLOW_THREADS
    release(&buf, 1);
    Py_RETURN_NONE;
}

/* ---- squared error with an identity output: d = z - y written into z, and the
 * value sum_j mean_i (0.5 d_ij^2), summed in numpy's orders (rows one after
 * another per column, a single column pairwise, then the columns pairwise). */

#define SQUARED_ERROR(NAME, T, HALF_SQUARES_FN, MEAN_FN)                        \
    HOT static double NAME(T *R z, const T *R y, T *R totals, Py_ssize_t n,         \
                           Py_ssize_t k, int want_value)                            \
    {                                                                               \
        int rows = want_value && k > 1;                                             \
        if (rows)                                                                   \
            for (Py_ssize_t j = 0; j < k; j++)                                      \
                totals[j] = 0;                                                      \
        for (Py_ssize_t i = 0; i < n; i++) {                                        \
            T *zr = z + i * k;                                                      \
            const T *yr = y + i * k;                                                \
            for (Py_ssize_t j = 0; j < k; j++)                                      \
                zr[j] = zr[j] - yr[j];                                              \
            if (rows)                                                               \
                for (Py_ssize_t j = 0; j < k; j++)                                  \
                    totals[j] += (T)0.5 * (zr[j] * zr[j]);                          \
        }                                                                           \
        if (!want_value)                                                            \
            return 0.0;                                                             \
        if (k == 1)                                                                 \
            totals[0] = (T)0 + HALF_SQUARES_FN(z, n);                               \
        return MEAN_FN(totals, n, k);                                               \
    }

SQUARED_ERROR(squared_error_d, double, half_squares_d, mean_of_totals_d)
SQUARED_ERROR(squared_error_f, float, half_squares_f, mean_of_totals_f)

static PyObject *
k_squared_error(PyObject *self, PyObject *args)
{
    PyObject *z, *y, *totals;
    Py_ssize_t n, k;
    int want_value;
    if (!PyArg_ParseTuple(args, "OOOnnp", &z, &y, &totals, &n, &k, &want_value))
        return NULL;
    Py_ssize_t nk = checked_size(n, k);
    if (nk < 0)
        return NULL;
    Py_ssize_t s = item_size(z);
    if (s < 0)
        return NULL;
    Buf bufs[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
    if (take(z, &bufs[0], 1, nk, s, "z") < 0 || take(y, &bufs[1], 0, nk, s, "y") < 0 ||
        take(totals, &bufs[2], 1, k, s, "totals") < 0) {
        release(bufs, 3);
        return NULL;
    }
    double value;
    Py_BEGIN_ALLOW_THREADS
    if (s == 8)
        value = squared_error_d(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, n, k,
                                want_value);
    else
        value = squared_error_f(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, n, k,
                                want_value);
    Py_END_ALLOW_THREADS
    release(bufs, 3);
    if (!want_value)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(value);
}

/* ---- element-wise passes in two halves --------------------------------------
 * The optimizer's update and the gradient's scaling treat every parameter alone, so
 * their halves can run on two cores with the same bits: the second half goes to the
 * worker of _nnlite_split (nnlite/_rowsplit.py), through its C API, when the caller
 * asks for it (nnlite/_products.py decides) and that module is there. */

typedef void (*range_fn)(void *ctx, int64_t lo, int64_t hi);

typedef struct {
    int version;
    int (*run_two)(range_fn, void *, int64_t, int64_t, long long);
} SplitAPI;

static const SplitAPI *split_api; /* NULL until found */
static int split_api_tried;

/* Called with the GIL held; NULL with an exception set only for errors other than
   the module or its C API not being there (then the caller fails). */
static const SplitAPI *
get_split_api(void)
{
    if (!split_api_tried) {
        split_api = PyCapsule_Import("_nnlite_split._C_API", 0);
        if (split_api == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_ImportError) &&
                !PyErr_ExceptionMatches(PyExc_AttributeError))
                return NULL; /* e.g. KeyboardInterrupt: asked again next time */
            PyErr_Clear();
        }
        else if (split_api->version != 1)
            split_api = NULL;
        split_api_tried = 1;
    }
    return split_api;
}

/* fn over [0, size): in two halves when api is given, else in one call */
static void
in_halves(const SplitAPI *api, range_fn fn, void *ctx, Py_ssize_t size)
{
    /* halves on a 64-byte boundary, as the vector loops of each take them */
    int64_t half = (int64_t)(size / 2) & ~(int64_t)15;
    if (api == NULL || half == 0)
        fn(ctx, 0, size);
    else
        api->run_two(fn, ctx, size, half, 0);
}

/* ---- gradient scaling: g[:npen] = (g + alpha * theta) / s; g[npen:] /= s ----- */

HOT static void
scale_d(double *R g, const double *R theta, Py_ssize_t size, Py_ssize_t npen, double alpha,
        double s)
{
    if (alpha != 0)
        for (Py_ssize_t i = 0; i < npen; i++)
            g[i] += alpha * theta[i];
    for (Py_ssize_t i = 0; i < size; i++)
        g[i] /= s;
}

/* alpha arrives rounded to float32 (numpy's scalar promotion); the division by s is
   done in double and rounded once, which equals float32 division whenever s is a
   float32 number and is numpy's float64 arithmetic otherwise */
HOT static void
scale_f(float *R g, const float *R theta, Py_ssize_t size, Py_ssize_t npen, float alpha,
        double s)
{
    if (alpha != 0)
        for (Py_ssize_t i = 0; i < npen; i++)
            g[i] += alpha * theta[i];
    for (Py_ssize_t i = 0; i < size; i++)
        g[i] = (float)((double)g[i] / s);
}

typedef struct {
    int is_double;
    void *g;
    const void *theta;
    Py_ssize_t npen;
    double alpha, s;
} ScaleArgs;

static void
scale_range(void *ctx, int64_t lo, int64_t hi)
{
    const ScaleArgs *a = ctx;
    Py_ssize_t npen = a->npen > hi ? hi - lo : a->npen > lo ? a->npen - lo : 0;
    if (a->is_double)
        scale_d((double *)a->g + lo, (const double *)a->theta + lo, hi - lo, npen, a->alpha,
                a->s);
    else
        scale_f((float *)a->g + lo, (const float *)a->theta + lo, hi - lo, npen,
                (float)a->alpha, a->s);
}

static PyObject *
k_scale_grad(PyObject *self, PyObject *args)
{
    PyObject *g, *theta;
    Py_ssize_t size, npen;
    double alpha, s;
    int halves = 0;
    if (!PyArg_ParseTuple(args, "OOnndd|p", &g, &theta, &size, &npen, &alpha, &s, &halves))
        return NULL;
    if (checked_size(size, 1) < 0)
        return NULL;
    if (npen < 0 || npen > size) {
        PyErr_SetString(PyExc_ValueError, "_nnlite_kernels: npen out of range");
        return NULL;
    }
    Py_ssize_t is = item_size(g);
    if (is < 0)
        return NULL;
    Buf bufs[2] = {{.held = 0}, {.held = 0}};
    if (take(g, &bufs[0], 1, size, is, "grad") < 0 ||
        take(theta, &bufs[1], 0, size, is, "theta") < 0) {
        release(bufs, 2);
        return NULL;
    }
    ScaleArgs a = {is == 8, bufs[0].view.buf, bufs[1].view.buf, npen, alpha, s};
    const SplitAPI *api = halves ? get_split_api() : NULL;
    if (api == NULL && PyErr_Occurred()) {
        release(bufs, 2);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    in_halves(api, scale_range, &a, size);
    Py_END_ALLOW_THREADS
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* ---- Adam: scikit-learn's update, one pass ---------------------------------- */

HOT static void
adam_d(double *R theta, const double *R grad, double *R m, double *R v, Py_ssize_t size,
       double lr, double b1, double b2, double eps)
{
    double c1 = 1 - b1, c2 = 1 - b2, neg_lr = -lr;
    for (Py_ssize_t i = 0; i < size; i++) {
        double g = grad[i];
        double mi = b1 * m[i] + c1 * g;
        double vi = b2 * v[i] + c2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        theta[i] += (neg_lr * mi) / (sqrt(vi) + eps);
    }
}

/* Python-float coefficients are rounded to float32 (numpy's weak scalars); the step
   size is a float64 scalar, so the step is computed in float64 and rounded once when
   added, as numpy does */
HOT static void
adam_f(float *R theta, const float *R grad, float *R m, float *R v, Py_ssize_t size,
       double lr, double b1, double b2, double eps)
{
    float fb1 = (float)b1, fb2 = (float)b2, fc1 = (float)(1 - b1), fc2 = (float)(1 - b2);
    float feps = (float)eps;
    double neg_lr = -lr;
    for (Py_ssize_t i = 0; i < size; i++) {
        float g = grad[i];
        float mi = fb1 * m[i] + fc1 * g;
        float vi = fb2 * v[i] + fc2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) + feps;
        theta[i] = (float)((double)theta[i] + (neg_lr * (double)mi) / (double)denom);
    }
}

typedef struct {
    int is_double;
    void *theta, *m, *v;
    const void *grad;
    double lr, b1, b2, eps;
} AdamArgs;

static void
adam_range(void *ctx, int64_t lo, int64_t hi)
{
    const AdamArgs *a = ctx;
    if (a->is_double)
        adam_d((double *)a->theta + lo, (const double *)a->grad + lo, (double *)a->m + lo,
               (double *)a->v + lo, hi - lo, a->lr, a->b1, a->b2, a->eps);
    else
        adam_f((float *)a->theta + lo, (const float *)a->grad + lo, (float *)a->m + lo,
               (float *)a->v + lo, hi - lo, a->lr, a->b1, a->b2, a->eps);
}

static PyObject *
k_adam(PyObject *self, PyObject *args)
{
    PyObject *theta, *grad, *m, *v;
    Py_ssize_t size;
    double lr, b1, b2, eps;
    int halves = 0;
    if (!PyArg_ParseTuple(args, "OOOOndddd|p", &theta, &grad, &m, &v, &size, &lr, &b1, &b2,
                          &eps, &halves))
        return NULL;
    if (checked_size(size, 1) < 0)
        return NULL;
    Py_ssize_t is = item_size(theta);
    if (is < 0)
        return NULL;
    Buf bufs[4] = {{.held = 0}, {.held = 0}, {.held = 0}, {.held = 0}};
    if (take(theta, &bufs[0], 1, size, is, "theta") < 0 ||
        take(grad, &bufs[1], 0, size, is, "grad") < 0 ||
        take(m, &bufs[2], 1, size, is, "m") < 0 ||
        take(v, &bufs[3], 1, size, is, "v") < 0) {
        release(bufs, 4);
        return NULL;
    }
    AdamArgs a = {is == 8, bufs[0].view.buf, bufs[2].view.buf, bufs[3].view.buf,
                  bufs[1].view.buf, lr, b1, b2, eps};
    const SplitAPI *api = halves ? get_split_api() : NULL;
    if (api == NULL && PyErr_Occurred()) {
        release(bufs, 4);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    in_halves(api, adam_range, &a, size);
    Py_END_ALLOW_THREADS
    release(bufs, 4);
    Py_RETURN_NONE;
}

/* ---- SGD with momentum (and Nesterov): scikit-learn's update, one pass ------ */

#define SGD(NAME, T)                                                                \
    HOT static void NAME(T *R theta, const T *R grad, T *R vel, Py_ssize_t size,    \
                         double lr, double mu, int nesterov)                        \
    {                                                                               \
        T tlr = (T)lr, tmu = (T)mu;  /* Python floats: rounded like numpy's */      \
        for (Py_ssize_t i = 0; i < size; i++) {                                     \
            T lg = grad[i] * tlr;                                                   \
            T vi = vel[i] * tmu - lg;                                               \
            vel[i] = vi;                                                            \
            theta[i] += nesterov ? vi * tmu - lg : vi;                              \
        }                                                                           \
    }

SGD(sgd_d, double)
SGD(sgd_f, float)

static PyObject *
k_sgd(PyObject *self, PyObject *args)
{
    PyObject *theta, *grad, *vel;
    Py_ssize_t size;
    double lr, mu;
    int nesterov;
    if (!PyArg_ParseTuple(args, "OOOnddp", &theta, &grad, &vel, &size, &lr, &mu, &nesterov))
        return NULL;
    if (checked_size(size, 1) < 0)
        return NULL;
    Py_ssize_t is = item_size(theta);
    if (is < 0)
        return NULL;
    Buf bufs[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
    if (take(theta, &bufs[0], 1, size, is, "theta") < 0 ||
        take(grad, &bufs[1], 0, size, is, "grad") < 0 ||
        take(vel, &bufs[2], 1, size, is, "velocity") < 0) {
        release(bufs, 3);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (is == 8)
        sgd_d(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, size, lr, mu, nesterov);
    else
        sgd_f(bufs[0].view.buf, bufs[1].view.buf, bufs[2].view.buf, size, lr, mu, nesterov);
    Py_END_ALLOW_THREADS
    release(bufs, 3);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bias_act", k_bias_act, METH_VARARGS, "z = act(z + b), act identity or ReLU."},
    {"relu_back", k_relu_back, METH_VARARGS, "g[z <= 0] = 0 and the column sums of g."},
    {"outer", k_outer, METH_VARARGS, "out = col @ row for a column and a row, as BLAS rounds it."},
    {"softmax_shift", k_softmax_shift, METH_VARARGS, "z = (z + b) - rowmax(z + b)."},
    {"softmax_finish_codes", k_softmax_finish_codes, METH_VARARGS,
     "Normalise exp'd rows, the clipped log-loss value, and p - onehot."},
    {"softmax_normalise", k_softmax_normalise, METH_VARARGS, "z /= z.sum(axis=1)."},
    {"squared_error", k_squared_error, METH_VARARGS,
     "d = z - y in place, and the mean half squared error."},
    {"scale_grad", k_scale_grad, METH_VARARGS,
     "(g + alpha theta) / s, then g / s; a last argument True: in two halves, the second "
     "on _nnlite_split's worker."},
    {"adam", k_adam, METH_VARARGS,
     "One Adam step; a last argument True: in two halves, the second on _nnlite_split's "
     "worker."},
    {"sgd", k_sgd, METH_VARARGS, "One SGD step with momentum."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_nnlite_kernels",
    "Fused element-wise kernels of nnlite (see nnlite/_accel.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__nnlite_kernels(void)
{
    PyObject *mod = PyModule_Create(&module);
    if (mod && PyModule_AddIntConstant(mod, "API", KERNELS_API) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
