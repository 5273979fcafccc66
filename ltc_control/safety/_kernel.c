/* Compiled fast path of one safety-filter step: the rows of the built-in constraints, the QP's
 * data, and the certificate check of the solver's answer.
 *
 * The maths is stated once, in Python: ltc_control.safety.constraints (each constraint's rows
 * L, e, h, h') and ltc_control.safety.qp (G = -kappa L M^-1, w, the row normalisation, the
 * cost). That code stays the reference (the cvxpy specification and the BarrierNet layer use it);
 * test/safety/test_kernel.py checks this file against it to 1e-12 on random states. Why C: one
 * step is ~60 rows x 7 columns of arithmetic, far below numpy's ~1 us per call overhead, and the
 * reference path needs ~100 calls. Python packs the constant layout once
 * (ltc_control.safety.kernel.CompiledStep); a step is then one call to assemble() and one to
 * certify(), on caller-owned buffers (no allocation).
 *
 * Packed layout (int32): [dof, rows, n_x, n_groups, then per group: kind, first row, rows,
 * offset of its parameters in the constants, then per row: 1 if the row is hard].
 * Constants (float64): [kappa (rows), c1 (rows), c0 (rows), tau_ref (dof), group parameters].
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#define MAX_DOF 32
#define HEADER 4
#define GROUP_FIELDS 4

enum Kind { JOINT_VELOCITY = 1, JOINT_POSITION = 2, WORKSPACE = 3, END_EFFECTOR_FORCE = 4 };

/* Certificate outcomes (kept in step with ltc_control.safety.kernel). */
enum Certificate { CERTIFIED = 0, NON_FINITE = 1, OUTSIDE_BOX = 2, HARD_ROW_VIOLATED = 3 };

/* A buffer argument: data and the element strides of a 1-D or 2-D float64 array. */
typedef struct {
    Py_buffer view;
    Py_ssize_t rows, cols, row_stride, col_stride;
} Array;

static int get_array(PyObject *object, Array *array, int output, const char *name)
{
    /* Inputs may be strided (pinocchio's views); outputs are C-contiguous and writable. */
    int flags = PyBUF_FORMAT | (output ? PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE : PyBUF_STRIDES);
    if (PyObject_GetBuffer(object, &array->view, flags) < 0) {
        return -1;
    }
    Py_buffer *view = &array->view;
    if (view->itemsize != sizeof(double) || view->format == NULL || strcmp(view->format, "d") != 0
        || view->ndim < 1 || view->ndim > 2) {
        PyErr_Format(PyExc_TypeError, "%s must be a 1-D or 2-D float64 array", name);
        PyBuffer_Release(view);
        return -1;
    }
    array->rows = view->shape[0];
    array->cols = view->ndim == 2 ? view->shape[1] : 1;
    array->row_stride = view->strides ? view->strides[0] / (Py_ssize_t)sizeof(double) : array->cols;
    array->col_stride = view->ndim == 2 && view->strides ? view->strides[1] / (Py_ssize_t)sizeof(double) : 1;
    return 0;
}

static inline double *at(const Array *a, Py_ssize_t i, Py_ssize_t j)
{
    return (double *)a->view.buf + i * a->row_stride + j * a->col_stride;
}

static int has_size(const Array *a, Py_ssize_t rows, Py_ssize_t cols, const char *name)
{
    if (a->rows < rows || a->cols < cols) {
        PyErr_Format(PyExc_ValueError, "%s has shape (%zd, %zd), needs at least (%zd, %zd)", name,
                     a->rows, a->cols, rows, cols);
        return 0;
    }
    return 1;
}

/* The packed layout, validated against the constants' length. */
typedef struct {
    const int *ints;
    const double *constants;
    int dof, rows, n_x, groups;
} Layout;

static int read_layout(const Py_buffer *ints, const Py_buffer *constants, Layout *layout)
{
    Py_ssize_t n_ints = ints->len / (Py_ssize_t)sizeof(int);
    Py_ssize_t n_constants = constants->len / (Py_ssize_t)sizeof(double);
    const int *p = ints->buf;
    if (n_ints < HEADER) {
        PyErr_SetString(PyExc_ValueError, "layout too short");
        return -1;
    }
    layout->ints = p;
    layout->constants = constants->buf;
    layout->dof = p[0], layout->rows = p[1], layout->n_x = p[2], layout->groups = p[3];
    if (layout->dof < 1 || layout->dof > MAX_DOF || layout->rows < 1 || layout->n_x < layout->dof
        || layout->groups < 1
        || n_ints != HEADER + GROUP_FIELDS * layout->groups + layout->rows
        || n_constants < 3 * layout->rows + layout->dof) {
        PyErr_SetString(PyExc_ValueError, "inconsistent layout");
        return -1;
    }
    for (int g = 0; g < layout->groups; ++g) {
        const int *group = p + HEADER + GROUP_FIELDS * g;
        int kind = group[0], first = group[1], count = group[2], offset = group[3];
        Py_ssize_t parameters = kind == JOINT_VELOCITY   ? layout->dof
                                : kind == JOINT_POSITION ? 2 * layout->dof
                                : kind == WORKSPACE      ? 4 * (Py_ssize_t)count
                                                         : 3 * (Py_ssize_t)count + 2;
        int joint = kind == JOINT_VELOCITY || kind == JOINT_POSITION;
        if (kind < JOINT_VELOCITY || kind > END_EFFECTOR_FORCE || first < 0 || count < 1
            || first + count > layout->rows || (joint && count != 2 * layout->dof) || offset < 0
            || offset + parameters > n_constants) {
            PyErr_Format(PyExc_ValueError, "inconsistent layout of group %d", g);
            return -1;
        }
    }
    return 0;
}

/* The state the rows are built from (copied from strided arrays into contiguous storage). */
typedef struct {
    int dof;
    double inverse_mass[MAX_DOF * MAX_DOF]; /* M^-1, row-major */
    double free_acceleration[MAX_DOF];      /* a0 */
    double jacobian[3 * MAX_DOF];           /* J (translational, world frame), row-major */
    double position[3], jacobian_dot_v[3];  /* p, J'v */
    double q[MAX_DOF], v[MAX_DOF];
} State;

/* Rows of one group (constraints.py): L (rows x dof), e, h, h' at the state. */
typedef struct {
    double *L, *e, *h, *h_dot;
} Rows;

static void joint_rows(const State *s, Rows r, const double *upper_h, const double *lower_h,
                       int position)
{
    int n = s->dof;
    for (int i = 0; i < n; ++i) {
        r.L[i * n + i] = -1.0; /* upper row: h = limit - x, h' = -x' */
        r.L[(n + i) * n + i] = 1.0;
        r.h[i] = upper_h[i];
        r.h[n + i] = lower_h[i];
        r.h_dot[i] = position ? -s->v[i] : 0.0;
        r.h_dot[n + i] = position ? s->v[i] : 0.0;
    }
}

static void velocity_rows(const State *s, Rows r, const double *limit)
{
    double upper_h[MAX_DOF], lower_h[MAX_DOF];
    for (int i = 0; i < s->dof; ++i) {
        upper_h[i] = limit[i] - s->v[i];
        lower_h[i] = limit[i] + s->v[i];
    }
    joint_rows(s, r, upper_h, lower_h, 0);
}

static void position_rows(const State *s, Rows r, const double *lower, const double *upper)
{
    double upper_h[MAX_DOF], lower_h[MAX_DOF];
    for (int i = 0; i < s->dof; ++i) {
        upper_h[i] = upper[i] - s->q[i];
        lower_h[i] = s->q[i] - lower[i];
    }
    joint_rows(s, r, upper_h, lower_h, 1);
}

/* Half-spaces n.p >= c: L = N J, e = N J'v, h = N p - c, h' = N J v. */
static void workspace_rows(const State *s, Rows r, int count, const double *normals,
                           const double *offsets)
{
    int n = s->dof;
    for (int k = 0; k < count; ++k) {
        const double *normal = normals + 3 * k;
        double h = -offsets[k], e = 0.0, h_dot = 0.0;
        for (int a = 0; a < 3; ++a) {
            h += normal[a] * s->position[a];
            e += normal[a] * s->jacobian_dot_v[a];
        }
        for (int j = 0; j < n; ++j) {
            double l = 0.0;
            for (int a = 0; a < 3; ++a) {
                l += normal[a] * s->jacobian[a * n + j];
            }
            r.L[k * n + j] = l;
            h_dot += l * s->v[j];
        }
        r.e[k] = e, r.h[k] = h, r.h_dot[k] = h_dot;
    }
}

/* Contact force rows r - N F >= 0, F = Lambda J a: L = -N Lambda J, e = r, with
 * Lambda^-1 = J M^-1 J' + eps tr(J M^-1 J') I, solved by a 3x3 Cholesky. Returns -1 if that
 * matrix is not positive definite (no arm's Jacobian is all zero; a broken model could be). */
static int force_rows(const State *s, Rows r, int count, const double *directions, double facet,
                      double damping)
{
    int n = s->dof;
    double JM[3 * MAX_DOF], S[9], C[9], X[3 * MAX_DOF];
    for (int a = 0; a < 3; ++a) {
        for (int j = 0; j < n; ++j) {
            double sum = 0.0;
            for (int k = 0; k < n; ++k) {
                sum += s->jacobian[a * n + k] * s->inverse_mass[k * n + j];
            }
            JM[a * n + j] = sum;
        }
    }
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
            double sum = 0.0;
            for (int k = 0; k < n; ++k) {
                sum += JM[a * n + k] * s->jacobian[b * n + k];
            }
            S[a * 3 + b] = sum;
        }
    }
    double regularisation = damping * (S[0] + S[4] + S[8]);
    for (int a = 0; a < 3; ++a) {
        S[a * 3 + a] += regularisation;
    }
    memset(C, 0, sizeof C); /* S = C C', C lower triangular */
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b <= a; ++b) {
            double sum = S[a * 3 + b];
            for (int k = 0; k < b; ++k) {
                sum -= C[a * 3 + k] * C[b * 3 + k];
            }
            if (a == b) {
                if (!(sum > 0.0)) {
                    return -1;
                }
                C[a * 3 + a] = sqrt(sum);
            } else {
                C[a * 3 + b] = sum / C[b * 3 + b];
            }
        }
    }
    for (int j = 0; j < n; ++j) { /* X = S^-1 J, column by column */
        double y[3];
        for (int a = 0; a < 3; ++a) {
            double sum = s->jacobian[a * n + j];
            for (int k = 0; k < a; ++k) {
                sum -= C[a * 3 + k] * y[k];
            }
            y[a] = sum / C[a * 3 + a];
        }
        for (int a = 2; a >= 0; --a) {
            double sum = y[a];
            for (int k = a + 1; k < 3; ++k) {
                sum -= C[k * 3 + a] * X[k * n + j];
            }
            X[a * n + j] = sum / C[a * 3 + a];
        }
    }
    for (int k = 0; k < count; ++k) {
        const double *direction = directions + 3 * k;
        for (int j = 0; j < n; ++j) {
            r.L[k * n + j] = -(direction[0] * X[j] + direction[1] * X[n + j]
                               + direction[2] * X[2 * n + j]);
        }
        r.e[k] = facet, r.h[k] = 0.0, r.h_dot[k] = 0.0;
    }
    return 0;
}

static int build_rows(const Layout *layout, const State *s, double *L, double *e, double *h,
                      double *h_dot)
{
    int n = s->dof;
    memset(L, 0, sizeof(double) * (size_t)layout->rows * (size_t)n);
    for (int g = 0; g < layout->groups; ++g) {
        const int *group = layout->ints + HEADER + GROUP_FIELDS * g;
        int kind = group[0], first = group[1], count = group[2];
        const double *parameters = layout->constants + group[3];
        Rows r = {L + (size_t)first * n, e + first, h + first, h_dot + first};
        if (kind == JOINT_VELOCITY) {
            memset(r.e, 0, sizeof(double) * (size_t)count);
            velocity_rows(s, r, parameters);
        } else if (kind == JOINT_POSITION) {
            memset(r.e, 0, sizeof(double) * (size_t)count);
            position_rows(s, r, parameters, parameters + n);
        } else if (kind == WORKSPACE) {
            workspace_rows(s, r, count, parameters, parameters + 3 * count);
        } else if (kind == END_EFFECTOR_FORCE) {
            double facet = parameters[3 * count], damping = parameters[3 * count + 1];
            if (force_rows(s, r, count, parameters, facet, damping) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static void copy_matrix(const Array *from, double *to, int rows, int cols)
{
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            to[i * cols + j] = *at(from, i, j);
        }
    }
}

enum AssembleArgument {
    INVERSE_MASS, FREE_ACCELERATION, JACOBIAN, POSITION, JACOBIAN_DOT_V, Q, V, U_NOMINAL,
    OUT_A, OUT_UPPER, OUT_F, OUT_G, OUT_W, OUT_H, OUT_WORK, N_ASSEMBLE_ARRAYS
};
static const char *assemble_names[N_ASSEMBLE_ARRAYS] = {
    "inverse_mass", "free_acceleration", "ee_jacobian", "ee_position", "ee_jacobian_dot_v",
    "q", "v", "u_nominal", "A", "upper", "f", "G", "w", "h", "work"};

static void release(Array *arrays, int count)
{
    for (int i = 0; i < count; ++i) {
        PyBuffer_Release(&arrays[i].view);
    }
}

/* Checks every array's size against the layout; fills the state. */
static int prepare(const Layout *layout, Array *x, State *s)
{
    int n = layout->dof, rows = layout->rows, n_x = layout->n_x;
    const Py_ssize_t need[N_ASSEMBLE_ARRAYS][2] = {
        {n, n}, {n, 1}, {3, n}, {3, 1}, {3, 1}, {n, 1}, {n, 1}, {n, 1},
        {rows, n_x}, {n_x + rows, 1}, {n_x, 1}, {rows, n}, {rows, 1}, {rows, 1},
        {(Py_ssize_t)rows * (n + 2), 1}};
    for (int i = 0; i < N_ASSEMBLE_ARRAYS; ++i) {
        if (!has_size(&x[i], need[i][0], need[i][1], assemble_names[i])) {
            return -1;
        }
    }
    s->dof = n;
    copy_matrix(&x[INVERSE_MASS], s->inverse_mass, n, n);
    copy_matrix(&x[JACOBIAN], s->jacobian, 3, n);
    for (int i = 0; i < n; ++i) {
        s->free_acceleration[i] = *at(&x[FREE_ACCELERATION], i, 0);
        s->q[i] = *at(&x[Q], i, 0);
        s->v[i] = *at(&x[V], i, 0);
    }
    for (int a = 0; a < 3; ++a) {
        s->position[a] = *at(&x[POSITION], a, 0);
        s->jacobian_dot_v[a] = *at(&x[JACOBIAN_DOT_V], a, 0);
    }
    return 0;
}

/* qp.py: G = -kappa L M^-1, w = kappa (L a0 + e) + c1 h' + c0 h; A = [G diag(tau_ref) / n_g,
 * slack columns (preset by the caller, left untouched)], b = w / n_g, f = -2 u_nom / tau_ref. */
static void write_qp(const Layout *layout, const State *s, const double *L, const double *e,
                     const double *h_dot, Array *x)
{
    int n = s->dof, n_x = layout->n_x;
    const double *kappa = layout->constants, *c1 = kappa + layout->rows, *c0 = c1 + layout->rows;
    const double *tau_ref = c0 + layout->rows;
    const double *h = x[OUT_H].view.buf;
    for (int i = 0; i < layout->rows; ++i) {
        const double *l = L + (size_t)i * n;
        double *g = at(&x[OUT_G], i, 0), *a = at(&x[OUT_A], i, 0);
        double la0 = 0.0, norm2 = 0.0;
        for (int j = 0; j < n; ++j) {
            double sum = 0.0;
            for (int k = 0; k < n; ++k) {
                sum += l[k] * s->inverse_mass[k * n + j];
            }
            g[j] = -kappa[i] * sum;
            la0 += l[j] * s->free_acceleration[j];
            double scaled = g[j] * tau_ref[j];
            norm2 += scaled * scaled;
        }
        double w = kappa[i] * (la0 + e[i]) + c1[i] * h_dot[i] + c0[i] * h[i];
        double norm = fmax(sqrt(norm2), 1e-12); /* qp._ZERO_ROW */
        for (int j = 0; j < n; ++j) {
            a[j] = g[j] * tau_ref[j] / norm;
        }
        *at(&x[OUT_W], i, 0) = w;
        *at(&x[OUT_UPPER], n_x + i, 0) = w / norm;
    }
    for (int j = 0; j < n; ++j) {
        *at(&x[OUT_F], j, 0) = *at(&x[U_NOMINAL], j, 0) * (-2.0 / tau_ref[j]);
    }
}

static PyObject *assemble(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer ints, constants;
    PyObject *objects[N_ASSEMBLE_ARRAYS];
    Array x[N_ASSEMBLE_ARRAYS];
    if (!PyArg_ParseTuple(args, "y*y*OOOOOOOOOOOOOOO", &ints, &constants, &objects[0],
                          &objects[1], &objects[2], &objects[3], &objects[4], &objects[5],
                          &objects[6], &objects[7], &objects[8], &objects[9], &objects[10],
                          &objects[11], &objects[12], &objects[13], &objects[14])) {
        return NULL;
    }
    int acquired = 0, status = -1;
    Layout layout;
    State s;
    if (read_layout(&ints, &constants, &layout) < 0) {
        goto done;
    }
    for (; acquired < N_ASSEMBLE_ARRAYS; ++acquired) {
        if (get_array(objects[acquired], &x[acquired], acquired >= OUT_A,
                      assemble_names[acquired]) < 0) {
            goto done;
        }
    }
    if (prepare(&layout, x, &s) < 0) {
        goto done;
    }
    /* work = [L (rows x dof), e (rows), h' (rows)]; h goes straight to its output. */
    double *L = x[OUT_WORK].view.buf, *e = L + (size_t)layout.rows * s.dof;
    double *h_dot = e + layout.rows;
    if (build_rows(&layout, &s, L, e, x[OUT_H].view.buf, h_dot) < 0) {
        status = 1; /* singular contact-force model */
    } else {
        write_qp(&layout, &s, L, e, h_dot, x);
        status = 0;
    }
done:
    release(x, acquired);
    PyBuffer_Release(&ints);
    PyBuffer_Release(&constants);
    return status < 0 ? NULL : PyLong_FromLong(status);
}

/* certify(layout, constants, x, G, w, torque_limit, tolerance, u, residual) -> (outcome, row):
 * u = tau_ref * x[:dof], residual = w - G u; checks x finite, |u| <= limit (1e-12 relative
 * round-off), and every hard row's residual >= -tolerance (row = the most violated one);
 * u is written clipped to the torque box. */
static PyObject *certify(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer ints, constants;
    PyObject *objects[6];
    Array x[6];
    double tolerance;
    static const char *names[6] = {"x", "G", "w", "torque_limit", "u", "residual"};
    if (!PyArg_ParseTuple(args, "y*y*OOOOdOO", &ints, &constants, &objects[0], &objects[1],
                          &objects[2], &objects[3], &tolerance, &objects[4], &objects[5])) {
        return NULL;
    }
    int acquired = 0;
    PyObject *result = NULL;
    Layout layout;
    if (read_layout(&ints, &constants, &layout) < 0) {
        goto done;
    }
    for (; acquired < 6; ++acquired) {
        if (get_array(objects[acquired], &x[acquired], acquired >= 4, names[acquired]) < 0) {
            goto done;
        }
    }
    int n = layout.dof, rows = layout.rows;
    const Py_ssize_t need[6][2] = {{layout.n_x, 1}, {rows, n}, {rows, 1}, {n, 1}, {n, 1},
                                   {rows, 1}};
    for (int i = 0; i < 6; ++i) {
        if (!has_size(&x[i], need[i][0], need[i][1], names[i])) {
            goto done;
        }
    }
    const double *tau_ref = layout.constants + 3 * rows;
    const int *hard = layout.ints + HEADER + GROUP_FIELDS * layout.groups;
    double u[MAX_DOF];
    int outcome = CERTIFIED, worst_row = -1;
    for (int j = 0; j < layout.n_x; ++j) {
        if (!isfinite(*at(&x[0], j, 0))) {
            outcome = NON_FINITE;
        }
    }
    if (outcome == CERTIFIED) {
        for (int j = 0; j < n; ++j) {
            double limit = *at(&x[3], j, 0);
            u[j] = *at(&x[0], j, 0) * tau_ref[j];
            if (fabs(u[j]) - limit * (1.0 + 1e-12) > 0.0) {
                outcome = OUTSIDE_BOX;
            }
            *at(&x[4], j, 0) = fmin(fmax(u[j], -limit), limit);
        }
        double worst = tolerance;
        for (int i = 0; i < rows; ++i) {
            double residual = *at(&x[2], i, 0);
            for (int j = 0; j < n; ++j) {
                residual -= *at(&x[1], i, j) * u[j];
            }
            *at(&x[5], i, 0) = residual;
            if (hard[i] && -residual > worst) {
                worst = -residual, worst_row = i;
            }
        }
        if (outcome == CERTIFIED && worst_row >= 0) {
            outcome = HARD_ROW_VIOLATED;
        } else if (outcome == OUTSIDE_BOX) {
            worst_row = -1; /* the box is checked first: the rows were not the reason */
        }
    }
    result = Py_BuildValue("(ii)", outcome, worst_row);
done:
    release(x, acquired);
    PyBuffer_Release(&ints);
    PyBuffer_Release(&constants);
    return result;
}

/* usable(q, v, u_nominal, u_bound) -> bool: q and v finite and below LTC_MAX_INPUT in magnitude
 * (the model and the QP's data cannot overflow), |u_nominal_i| < u_bound_i (NaN fails both). */
#define LTC_MAX_INPUT 1e150 /* = assembly.MAX_INPUT; prefixed: linux/limits.h (via Python.h) defines MAX_INPUT */
static int all_below(const Array *a, const Array *bound, double scalar_bound)
{
    for (Py_ssize_t i = 0; i < a->rows; ++i) {
        double limit = bound ? *at(bound, i, 0) : scalar_bound;
        if (!(fabs(*at(a, i, 0)) < limit)) {
            return 0;
        }
    }
    return 1;
}

static PyObject *usable(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *objects[4];
    Array x[4];
    if (!PyArg_ParseTuple(args, "OOOO", &objects[0], &objects[1], &objects[2], &objects[3])) {
        return NULL;
    }
    int acquired = 0, ok = 0;
    for (; acquired < 4; ++acquired) {
        if (get_array(objects[acquired], &x[acquired], 0, "input") < 0) {
            goto done;
        }
    }
    if (x[0].cols != 1 || x[1].cols != 1 || x[2].cols != 1 || x[3].rows < x[2].rows) {
        PyErr_SetString(PyExc_ValueError, "usable() takes vectors, u_bound as long as u");
        goto done;
    }
    ok = all_below(&x[0], NULL, LTC_MAX_INPUT) && all_below(&x[1], NULL, LTC_MAX_INPUT)
         && all_below(&x[2], &x[3], 0.0);
done:
    release(x, acquired);
    return PyErr_Occurred() ? NULL : PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"usable", usable, METH_VARARGS,
     "usable(q, v, u_nominal, u_bound) -> True if q, v are finite and below 1e150 in "
     "magnitude and |u_nominal| < u_bound elementwise."},
    {"assemble", assemble, METH_VARARGS,
     "assemble(layout, constants, inverse_mass, free_acceleration, ee_jacobian, ee_position, "
     "ee_jacobian_dot_v, q, v, u_nominal, A, upper, f, G, w, h, work) -> 0, or 1 if the "
     "contact-force model is singular. Writes the QP of one filter step into the buffers."},
    {"certify", certify, METH_VARARGS,
     "certify(layout, constants, x, G, w, torque_limit, tolerance, u, residual) -> "
     "(outcome, row). 0 certified, 1 non-finite x, 2 outside the torque box, 3 a hard row "
     "violated (row = the worst)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "_kernel", "Compiled fast path of the safety filter step.", -1,
    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernel(void) { return PyModule_Create(&module_definition); }
