/*
 * Compiled A* on an occupancy grid, for planners.GridMap.plan.
 *
 * The search works on flat cell indices (row * cols + col) straight from the map's
 * buffers, so no graph is built per query and the work grows with the cells A*
 * expands, not with the map. The caller owns the bookkeeping arrays and keeps them
 * between queries; a per-query stamp marks which entries are current, so nothing is
 * cleared or allocated per query.
 *
 * Moves: bit k of moves[cell] says whether move k (planners.grid.MOVES_8 order) is
 * legal from that cell; the caller computes the bits once per map with numpy, applying
 * the no-corner-cutting rule of the MovingAI benchmarks. Move cost: step * (t[a] + t[b]) / 2
 * with step 1 or sqrt(2) and t the terrain (1 everywhere when absent). The heuristic,
 * octile (or Manhattan) distance times the cheapest terrain, is consistent, so a node
 * is never reopened once closed and the first time the goal is closed its cost is
 * optimal. Ties on f go to the larger g, which keeps the search along the goal
 * direction on open ground.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define SQRT2 1.4142135623730951

typedef struct {
    double f;
    double g;
    int64_t node;
} Entry;

typedef struct {
    Entry *items;
    size_t size;
    size_t cap;
} Heap;

static int entry_before(const Entry *a, const Entry *b) {
    return a->f < b->f || (a->f == b->f && a->g > b->g);
}

static int heap_push(Heap *h, double f, double g, int64_t node) {
    if (h->size == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        Entry *items = realloc(h->items, cap * sizeof(Entry));
        if (items == NULL) return -1;
        h->items = items;
        h->cap = cap;
    }
    size_t i = h->size++;
    Entry e = {f, g, node};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!entry_before(&e, &h->items[parent])) break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    h->items[i] = e;
    return 0;
}

static Entry heap_pop(Heap *h) {
    Entry top = h->items[0];
    Entry last = h->items[--h->size];
    size_t i = 0, n = h->size;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && entry_before(&h->items[child + 1], &h->items[child])) child++;
        if (!entry_before(&h->items[child], &last)) break;
        h->items[i] = h->items[child];
        i = child;
    }
    if (n > 0) h->items[i] = last;
    return top;
}

static const int DR[8] = {-1, 1, 0, 0, -1, -1, 1, 1};
static const int DC[8] = {0, 0, -1, 1, -1, 1, -1, 1};

static inline double estimate(int64_t r, int64_t c, int64_t gr, int64_t gc, int conn, double scale) {
    int64_t dr = r > gr ? r - gr : gr - r;
    int64_t dc = c > gc ? c - gc : gc - c;
    if (conn == 4) return scale * (double)(dr + dc);
    int64_t lo = dr < dc ? dr : dc, hi = dr < dc ? dc : dr;
    return scale * ((double)hi + (SQRT2 - 1.0) * (double)lo);
}

/* Everything the search keeps about one cell, in one 16-byte record so that looking
 * at a neighbour touches one cache line, not one per array. */
typedef struct {
    double g;       /* cost from the start */
    uint32_t stamp; /* == open_mark: open in this query; == open_mark + 1: closed */
    uint32_t move;  /* the move that reached the cell (parent = cell - offset[move]) */
} Cell;

typedef struct {
    const uint8_t *moves;
    const double *terrain;
    int64_t rows, cols, start, goal;
    int conn;
    double scale;
    Cell *cells;
    uint32_t open_mark;
} Search;

/* Returns 1 when the goal was reached, 0 when not, -1 when out of memory. */
static int search(const Search *q, double *cost_out, int64_t *expanded_out) {
    const uint32_t OPEN = q->open_mark, CLOSED = q->open_mark + 1;
    const int64_t cols = q->cols, goal = q->goal, gr = goal / cols, gc = goal % cols;
    Cell *cells = q->cells;
    int64_t offset[8];
    double step[8];
    for (int k = 0; k < 8; k++) {
        offset[k] = DR[k] * cols + DC[k];
        step[k] = k < 4 ? 1.0 : SQRT2;
    }
    Heap heap = {NULL, 0, 0};
    int status = 0;
    int64_t expanded = 0;
    cells[q->start].g = 0.0;
    cells[q->start].stamp = OPEN;
    if (heap_push(&heap, estimate(q->start / cols, q->start % cols, gr, gc, q->conn, q->scale),
                  0.0, q->start)) {
        status = -1;
        goto done;
    }
    while (heap.size > 0) {
        Entry e = heap_pop(&heap);
        int64_t u = e.node;
        Cell *cu = &cells[u];
        if (cu->stamp == CLOSED || e.g > cu->g) continue; /* stale duplicate */
        cu->stamp = CLOSED;
        expanded++;
        if (u == goal) {
            *cost_out = cu->g;
            status = 1;
            break;
        }
        const int64_t ur = u / cols, uc = u % cols; /* once per expansion: divisions are slow */
        unsigned legal = q->moves[u];
        for (int k = 0; legal; k++, legal >>= 1) {
            if (!(legal & 1u)) continue;
            int64_t v = u + offset[k];
            Cell *cv = &cells[v];
            if (cv->stamp == CLOSED) continue;
            double cost = q->terrain ? step[k] * (q->terrain[u] + q->terrain[v]) * 0.5 : step[k];
            double ng = cu->g + cost;
            if (cv->stamp != OPEN || ng < cv->g) {
                cv->g = ng;
                cv->move = (uint32_t)k;
                cv->stamp = OPEN;
                double h = estimate(ur + DR[k], uc + DC[k], gr, gc, q->conn, q->scale);
                if (heap_push(&heap, ng + h, ng, v)) {
                    status = -1;
                    goto done;
                }
            }
        }
    }
done:
    *expanded_out = expanded;
    free(heap.items);
    return status;
}

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t bytes, const char *name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) return -1;
    if (view->len != bytes) {
        PyErr_Format(PyExc_ValueError, "%s buffer has %zd bytes, expected %zd", name, view->len,
                     bytes);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *gridsearch_astar(PyObject *self, PyObject *args) {
    Py_buffer moves, ter = {0}, work = {0};
    PyObject *terrain_obj, *work_obj;
    Py_ssize_t rows, cols, start, goal;
    int conn;
    double scale;
    unsigned long open_mark;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*OnnnnidOk", &moves, &terrain_obj, &rows, &cols, &start, &goal,
                          &conn, &scale, &work_obj, &open_mark))
        return NULL;
    PyObject *result = NULL;
    int64_t n = (int64_t)rows * (int64_t)cols;
    if (rows < 1 || cols < 1 || moves.len != n || start < 0 || start >= n || goal < 0 ||
        goal >= n || (conn != 4 && conn != 8) || open_mark > 0xFFFFFFFEul) {
        PyErr_SetString(PyExc_ValueError, "bad grid search arguments");
        goto out;
    }
    if (terrain_obj != Py_None) {
        if (PyObject_GetBuffer(terrain_obj, &ter, PyBUF_C_CONTIGUOUS) < 0) goto out;
        if (ter.len != n * (Py_ssize_t)sizeof(double)) {
            PyErr_SetString(PyExc_ValueError, "terrain buffer size does not match rows * cols");
            goto out;
        }
    }
    if (PyObject_GetBuffer(work_obj, &work, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) goto out;
    if (work.len != n * (Py_ssize_t)sizeof(Cell)) {
        PyErr_Format(PyExc_ValueError, "work buffer has %zd bytes, expected %zd", work.len,
                     n * (Py_ssize_t)sizeof(Cell));
        goto out;
    }
    Search q = {(const uint8_t *)moves.buf, ter.obj ? (const double *)ter.buf : NULL, rows, cols,
                start, goal, conn, scale, (Cell *)work.buf, (uint32_t)open_mark};
    double cost = INFINITY;
    int64_t expanded = 0;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = search(&q, &cost, &expanded);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
        goto out;
    }
    if (status == 0) {
        result = Py_BuildValue("dLO", cost, (long long)expanded, Py_None);
        goto out;
    }
    Py_ssize_t length = 1;
    for (int64_t v = goal; v != start; v -= DR[q.cells[v].move] * cols + DC[q.cells[v].move])
        length++;
    PyObject *path = PyList_New(length);
    if (path == NULL) goto out;
    int64_t v = goal;
    for (Py_ssize_t i = length - 1; i >= 0; i--) {
        PyObject *cell = Py_BuildValue("(LL)", (long long)(v / cols), (long long)(v % cols));
        if (cell == NULL) {
            Py_DECREF(path);
            goto out;
        }
        PyList_SET_ITEM(path, i, cell);
        if (i > 0) v -= DR[q.cells[v].move] * cols + DC[q.cells[v].move];
    }
    result = Py_BuildValue("dLN", cost, (long long)expanded, path);
out:
    if (work.obj != NULL) PyBuffer_Release(&work);
    if (ter.obj != NULL) PyBuffer_Release(&ter);
    PyBuffer_Release(&moves);
    return result;
}

static PyMethodDef methods[] = {
    {"astar", gridsearch_astar, METH_VARARGS,
     "astar(moves, terrain, rows, cols, start, goal, connectivity, scale, work, open_mark)\n"
     "--\n\n"
     "A* over flat cell indices. moves: uint8 per cell, bit k = move k legal; terrain:\n"
     "float64 buffer or None; scale: heuristic multiplier (cheapest terrain); work: a\n"
     "writable buffer of rows * cols 16-byte records (float64 g, uint32 stamp, uint32\n"
     "move) kept by the caller; open_mark: a stamp value no record holds (nor + 1).\n"
     "Returns (cost, expanded, path) with path a list of (row, col) tuples, or\n"
     "(inf, expanded, None) when the goal is unreachable."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "planners._gridsearch", "Compiled A* for planners.GridMap.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__gridsearch(void) { return PyModule_Create(&module); }
