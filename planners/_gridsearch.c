/*
 * Compiled grid search for planners.GridMap: A* on any map, jump point search on maps of
 * uniform cost with 8-connected moves, and a loop over many queries in one call.
 *
 * Both searches work on flat cell indices (row * cols + col) straight from the map's
 * buffers, so no graph is built per query and the work grows with the cells (A*) or jump
 * points (JPS) expanded, not with the map. The caller owns the per-cell records and keeps
 * them between queries; a per-query stamp marks which records are current, so nothing is
 * cleared or allocated per query.
 *
 * A* moves: bit k of moves[cell] says whether move k (planners.grid.MOVES_8 order) is
 * legal from that cell; the caller computes the bits once per map with numpy, applying
 * the no-corner-cutting rule of the MovingAI benchmarks. Move cost: step * (t[a] + t[b]) / 2
 * with step 1 or sqrt(2) and t the terrain (1 everywhere when absent). The heuristic,
 * octile (or Manhattan) distance times the cheapest terrain, is consistent, so a node
 * is never reopened once closed and the first time the goal is closed its cost is
 * optimal. Ties on f go to the larger g, which keeps the search along the goal
 * direction on open ground.
 *
 * Jump point search (Harabor & Grastien, AAAI 2011) in the variant without corner
 * cutting (as in the MovingAI / GPPC benchmarks, Harabor & Grastien, ICAPS 2014): a
 * diagonal move needs both cells it passes between free, so a diagonal step has no
 * forced neighbours, and a straight step east has one on a side when the side cell is
 * free and the side cell behind it is blocked. Straight jumps read 64 cells at a time
 * from bitmaps of the free cells (the block-based scan of the ICAPS 2014 paper).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SQRT2 1.4142135623730951

/* ------------------------------------------------------------------ open list */

typedef struct {
    double f;
    double g;
    uint32_t node;
    uint32_t move; /* JPS: the move that reached the node (8: none, the start) */
} Entry;

typedef struct {
    Entry *items;
    size_t size;
    size_t cap;
} Heap;

static inline int entry_before(const Entry *a, const Entry *b) {
    return a->f < b->f || (a->f == b->f && a->g > b->g);
}

static int heap_push(Heap *h, double f, double g, int64_t node, unsigned move) {
    if (h->size == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 256;
        Entry *items = realloc(h->items, cap * sizeof(Entry));
        if (items == NULL) return -1;
        h->items = items;
        h->cap = cap;
    }
    size_t i = h->size++;
    Entry e = {f, g, (uint32_t)node, move};
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

/* ------------------------------------------------------------------ shared state */

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
    double g;        /* cost from the start */
    uint32_t stamp;  /* == open_mark: open in this query; == open_mark + 1: closed */
    uint32_t parent; /* the cell (A*) or jump point (JPS) it was reached from */
} Cell;

enum { KIND_ASTAR = 0, KIND_JPS = 1 };

typedef struct {
    int kind;
    const uint8_t *moves;    /* A*: legal-move bits per cell */
    const uint64_t *bits[4]; /* JPS: free-cell bitmaps, see Lines below */
    int64_t words[4];
    const double *terrain;
    int64_t rows, cols;
    int conn;
    double scale;
    Cell *cells;
    Heap heap;
} Search;

/* ------------------------------------------------------------------ A* */

/* Returns 1 when the goal was reached, 0 when not, -1 when out of memory. */
static int astar(Search *q, int64_t start, int64_t goal, uint32_t mark, double *cost_out,
                 int64_t *expanded_out) {
    const uint32_t OPEN = mark, CLOSED = mark + 1;
    const int64_t cols = q->cols, gr = goal / cols, gc = goal % cols;
    Cell *cells = q->cells;
    Heap *heap = &q->heap;
    int64_t offset[8];
    double step[8];
    for (int k = 0; k < 8; k++) {
        offset[k] = DR[k] * cols + DC[k];
        step[k] = k < 4 ? 1.0 : SQRT2;
    }
    int64_t expanded = 0;
    heap->size = 0;
    cells[start].g = 0.0;
    cells[start].stamp = OPEN;
    cells[start].parent = (uint32_t)start;
    if (heap_push(heap, estimate(start / cols, start % cols, gr, gc, q->conn, q->scale), 0.0,
                  start, 8))
        return -1;
    while (heap->size > 0) {
        Entry e = heap_pop(heap);
        int64_t u = e.node;
        Cell *cu = &cells[u];
        if (cu->stamp == CLOSED || e.g > cu->g) continue; /* stale duplicate */
        cu->stamp = CLOSED;
        expanded++;
        if (u == goal) {
            *cost_out = cu->g;
            *expanded_out = expanded;
            return 1;
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
                cv->parent = (uint32_t)u;
                cv->stamp = OPEN;
                double h = estimate(ur + DR[k], uc + DC[k], gr, gc, q->conn, q->scale);
                if (heap_push(heap, ng + h, ng, v, (unsigned)k)) return -1;
            }
        }
    }
    *expanded_out = expanded;
    return 0;
}

/* ------------------------------------------------------------------ jump point search */

/*
 * Lines: the free cells as bits, four times, so that every straight jump is a scan
 * toward higher positions along one line: bitmap 0 holds the rows read left to right
 * (jumps east), 1 the rows right to left (west), 2 the columns top to bottom (south),
 * 3 the columns bottom to top (north). Each has lines + 2 lines of words[o] words; bit
 * p + 1 of line l + 1 is set when position p of line l is free; the border lines and
 * bits are blocked, and the last word of a line is spare, so reads need no bounds checks.
 */

static inline uint64_t window(const uint64_t *line, int64_t b) { /* bits b .. b + 63 */
    int64_t w = b >> 6;
    unsigned s = (unsigned)(b & 63);
    uint64_t lo = line[w] >> s;
    return s ? lo | (line[w + 1] << (64 - s)) : lo;
}

static inline int is_free(const Search *q, int64_t r, int64_t c) { /* r, c may be -1 or n */
    const uint64_t *line = q->bits[0] + (r + 1) * q->words[0];
    return (int)((line[(c + 1) >> 6] >> ((c + 1) & 63)) & 1u);
}

/* From free position p of line l of bitmap o, scan toward higher positions for the first
 * place to stop: the goal (at goal_pos, or -1 when not on this line), or a free position
 * with a forced neighbour on a side line. Returns that position, or -1 at a dead end. */
static int64_t scan(const Search *q, int o, int64_t l, int64_t p, int64_t goal_pos) {
    const int64_t w = q->words[o];
    const uint64_t *mid = q->bits[o] + (l + 1) * w, *up = mid - w, *down = mid + w;
    int64_t b = p + 2; /* padded bit of position p + 1 */
    for (;;) {
        uint64_t blocked = ~window(mid, b);
        uint64_t forced = (window(up, b) & ~window(up, b - 1)) |
                          (window(down, b) & ~window(down, b - 1));
        uint64_t stop = blocked | forced;
        if (stop) {
            int bit = __builtin_ctzll(stop);
            int64_t at = b - 1 + bit;
            if (goal_pos > p && goal_pos <= at) return goal_pos;
            return (blocked >> bit) & 1u ? -1 : at;
        }
        b += 64;
    }
}

/* Straight jump from (r, c) by move k < 4 (MOVES_8 order): the flat index of the jump
 * point, or -1; *steps: how far it is. */
static int64_t jump_straight(const Search *q, int64_t r, int64_t c, int k, int64_t gr, int64_t gc,
                             int64_t *steps) {
    const int64_t rows = q->rows, cols = q->cols;
    int64_t at;
    switch (k) {
    case 0: /* up: bitmap 3, line c, position rows - 1 - r */
        at = scan(q, 3, c, rows - 1 - r, gc == c ? rows - 1 - gr : -1);
        if (at < 0) return -1;
        *steps = at - (rows - 1 - r);
        return (rows - 1 - at) * cols + c;
    case 1: /* down: bitmap 2, line c, position r */
        at = scan(q, 2, c, r, gc == c ? gr : -1);
        if (at < 0) return -1;
        *steps = at - r;
        return at * cols + c;
    case 2: /* left: bitmap 1, line r, position cols - 1 - c */
        at = scan(q, 1, r, cols - 1 - c, gr == r ? cols - 1 - gc : -1);
        if (at < 0) return -1;
        *steps = at - (cols - 1 - c);
        return r * cols + (cols - 1 - at);
    default: /* right: bitmap 0, line r, position c */
        at = scan(q, 0, r, c, gr == r ? gc : -1);
        if (at < 0) return -1;
        *steps = at - c;
        return r * cols + at;
    }
}

/* Diagonal jump from (r, c) by move k >= 4: stops on the goal or where a straight jump
 * along either component finds something. */
static int64_t jump_diagonal(const Search *q, int64_t r, int64_t c, int k, int64_t gr, int64_t gc,
                             int64_t *steps) {
    const int dr = DR[k], dc = DC[k], kr = dr < 0 ? 0 : 1, kc = dc < 0 ? 2 : 3;
    int64_t unused;
    for (int64_t n = 1;; n++) {
        if (!is_free(q, r + dr, c) || !is_free(q, r, c + dc) || !is_free(q, r + dr, c + dc))
            return -1;
        r += dr;
        c += dc;
        if ((r == gr && c == gc) || jump_straight(q, r, c, kr, gr, gc, &unused) >= 0 ||
            jump_straight(q, r, c, kc, gr, gc, &unused) >= 0) {
            *steps = n;
            return r * q->cols + c;
        }
    }
}

/* The moves worth jumping along from (r, c), reached by move k (8: the start): bit k for
 * move k. */
static unsigned pruned_moves(const Search *q, int64_t r, int64_t c, unsigned k) {
    if (k >= 8) return 0xFFu; /* the start: everything */
    const int dr = DR[k], dc = DC[k];
    if (dr && dc) { /* diagonal: its two components and itself */
        int kr = dr < 0 ? 0 : 1, kc = dc < 0 ? 2 : 3, kd = 4 + (dr > 0) * 2 + (dc > 0);
        return (1u << kr) | (1u << kc) | (1u << kd);
    }
    unsigned out;
    if (dr == 0) { /* east or west: the side rows where a cell opens up behind */
        out = 1u << (dc < 0 ? 2 : 3);
        for (int s = -1; s <= 1; s += 2)
            if (is_free(q, r + s, c) && !is_free(q, r + s, c - dc))
                out |= (1u << (s < 0 ? 0 : 1)) | (1u << (4 + (s > 0) * 2 + (dc > 0)));
    } else { /* north or south: the side columns */
        out = 1u << (dr < 0 ? 0 : 1);
        for (int s = -1; s <= 1; s += 2)
            if (is_free(q, r, c + s) && !is_free(q, r - dr, c + s))
                out |= (1u << (s < 0 ? 2 : 3)) | (1u << (4 + (dr > 0) * 2 + (s > 0)));
    }
    return out;
}

static int jps(Search *q, int64_t start, int64_t goal, uint32_t mark, double *cost_out,
               int64_t *expanded_out) {
    const uint32_t OPEN = mark, CLOSED = mark + 1;
    const int64_t cols = q->cols, gr = goal / cols, gc = goal % cols;
    Cell *cells = q->cells;
    Heap *heap = &q->heap;
    int64_t expanded = 0;
    heap->size = 0;
    cells[start].g = 0.0;
    cells[start].stamp = OPEN;
    cells[start].parent = (uint32_t)start;
    if (heap_push(heap, estimate(start / cols, start % cols, gr, gc, 8, q->scale), 0.0, start, 8))
        return -1;
    while (heap->size > 0) {
        Entry e = heap_pop(heap);
        int64_t u = e.node;
        Cell *cu = &cells[u];
        if (cu->stamp == CLOSED || e.g > cu->g) continue; /* stale duplicate */
        cu->stamp = CLOSED;
        expanded++;
        if (u == goal) {
            *cost_out = cu->g;
            *expanded_out = expanded;
            return 1;
        }
        const uint32_t u32 = (uint32_t)u, ur32 = u32 / (uint32_t)cols; /* 32-bit: faster */
        const int64_t ur = ur32, uc = u32 - ur32 * (uint32_t)cols;
        unsigned todo = pruned_moves(q, ur, uc, e.move);
        for (int k = 0; todo; k++, todo >>= 1) {
            if (!(todo & 1u)) continue;
            int64_t steps = 0;
            int64_t v = k < 4 ? jump_straight(q, ur, uc, k, gr, gc, &steps)
                              : jump_diagonal(q, ur, uc, k, gr, gc, &steps);
            if (v < 0) continue;
            Cell *cv = &cells[v];
            if (cv->stamp == CLOSED) continue;
            double ng = cu->g + q->scale * (k < 4 ? (double)steps : SQRT2 * (double)steps);
            if (cv->stamp != OPEN || ng < cv->g) {
                cv->g = ng;
                cv->parent = (uint32_t)u;
                cv->stamp = OPEN;
                double h = estimate(ur + DR[k] * steps, uc + DC[k] * steps, gr, gc, 8, q->scale);
                if (heap_push(heap, ng + h, ng, v, (unsigned)k)) return -1;
            }
        }
    }
    *expanded_out = expanded;
    return 0;
}

/* ------------------------------------------------------------------ paths */

/* Cells on the path to goal, jump points expanded into the cells between them. */
static int64_t path_length(const Search *q, int64_t start, int64_t goal) {
    const int64_t cols = q->cols;
    int64_t n = 1;
    for (int64_t v = goal; v != start;) {
        int64_t u = q->cells[v].parent;
        int64_t dr = llabs(v / cols - u / cols), dc = llabs(v % cols - u % cols);
        n += dr > dc ? dr : dc;
        v = u;
    }
    return n;
}

/* Writes the path's n cells as (row, col) pairs into out, start first. */
static void path_cells(const Search *q, int64_t start, int64_t goal, int64_t n, int64_t *out) {
    const int64_t cols = q->cols;
    int64_t i = n - 1, v = goal, r = goal / cols, c = goal % cols;
    out[2 * i] = r;
    out[2 * i + 1] = c;
    while (v != start) {
        int64_t u = q->cells[v].parent, ur = u / cols, uc = u % cols;
        int sr = (ur > r) - (ur < r), sc = (uc > c) - (uc < c);
        while (r != ur || c != uc) {
            r += sr;
            c += sc;
            i--;
            out[2 * i] = r;
            out[2 * i + 1] = c;
        }
        v = u;
    }
}

static int run_query(Search *q, int64_t start, int64_t goal, uint32_t mark, double *cost,
                     int64_t *expanded) {
    return q->kind == KIND_JPS ? jps(q, start, goal, mark, cost, expanded)
                               : astar(q, start, goal, mark, cost, expanded);
}

/* ------------------------------------------------------------------ Python interface */

/* Bytes of the JPS bitmaps of a rows x cols map (see Lines); fills words[4] when given. */
static Py_ssize_t lines_bytes(int64_t rows, int64_t cols, int64_t *words) {
    int64_t along_rows = (cols + 2 + 63) / 64 + 1, along_cols = (rows + 2 + 63) / 64 + 1;
    if (words) {
        words[0] = words[1] = along_rows;
        words[2] = words[3] = along_cols;
    }
    return (Py_ssize_t)(8 * (2 * (rows + 2) * along_rows + 2 * (cols + 2) * along_cols));
}

typedef struct {
    Py_buffer grid, terrain, work;
} Views;

static void release(Views *v) {
    if (v->grid.obj) PyBuffer_Release(&v->grid);
    if (v->terrain.obj) PyBuffer_Release(&v->terrain);
    if (v->work.obj) PyBuffer_Release(&v->work);
}

/* Checks the arguments common to both calls and fills q; 0 on success, -1 with an error. */
static int setup(Search *q, Views *v, int kind, PyObject *grid, PyObject *terrain, Py_ssize_t rows,
                 Py_ssize_t cols, int conn, double scale, PyObject *work) {
    memset(q, 0, sizeof(*q));
    int64_t n = (int64_t)rows * (int64_t)cols;
    if (rows < 1 || cols < 1 || n > 0xFFFFFFFFll || (conn != 4 && conn != 8) ||
        (kind != KIND_ASTAR && kind != KIND_JPS) || (kind == KIND_JPS && conn != 8)) {
        PyErr_SetString(PyExc_ValueError, "bad grid search arguments");
        return -1;
    }
    if (PyObject_GetBuffer(grid, &v->grid, PyBUF_C_CONTIGUOUS) < 0) return -1;
    Py_ssize_t want = kind == KIND_JPS ? lines_bytes(rows, cols, q->words) : (Py_ssize_t)n;
    if (v->grid.len != want) {
        PyErr_Format(PyExc_ValueError, "grid buffer has %zd bytes, expected %zd", v->grid.len, want);
        return -1;
    }
    if (terrain != Py_None) {
        if (PyObject_GetBuffer(terrain, &v->terrain, PyBUF_C_CONTIGUOUS) < 0) return -1;
        if (v->terrain.len != n * (Py_ssize_t)sizeof(double)) {
            PyErr_SetString(PyExc_ValueError, "terrain buffer size does not match rows * cols");
            return -1;
        }
    }
    if (PyObject_GetBuffer(work, &v->work, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) return -1;
    if (v->work.len != n * (Py_ssize_t)sizeof(Cell)) {
        PyErr_Format(PyExc_ValueError, "work buffer has %zd bytes, expected %zd", v->work.len,
                     n * (Py_ssize_t)sizeof(Cell));
        return -1;
    }
    q->kind = kind;
    q->moves = (const uint8_t *)v->grid.buf;
    if (kind == KIND_JPS) {
        const uint64_t *base = (const uint64_t *)v->grid.buf;
        q->bits[0] = base;
        q->bits[1] = q->bits[0] + (rows + 2) * q->words[0];
        q->bits[2] = q->bits[1] + (rows + 2) * q->words[1];
        q->bits[3] = q->bits[2] + (cols + 2) * q->words[2];
    }
    q->terrain = v->terrain.obj ? (const double *)v->terrain.buf : NULL;
    q->rows = rows;
    q->cols = cols;
    q->conn = conn;
    q->scale = scale;
    q->cells = (Cell *)v->work.buf;
    return 0;
}

static PyObject *gridsearch_search(PyObject *self, PyObject *args) {
    PyObject *grid, *terrain, *work;
    Py_ssize_t rows, cols, start, goal;
    int kind, conn;
    double scale;
    unsigned long mark;
    (void)self;
    if (!PyArg_ParseTuple(args, "iOOnnnnidOk", &kind, &grid, &terrain, &rows, &cols, &start, &goal,
                          &conn, &scale, &work, &mark))
        return NULL;
    Search q;
    Views v = {{0}, {0}, {0}};
    PyObject *result = NULL;
    if (setup(&q, &v, kind, grid, terrain, rows, cols, conn, scale, work) < 0) goto out;
    if (start < 0 || start >= rows * cols || goal < 0 || goal >= rows * cols || mark > 0xFFFFFFFEul) {
        PyErr_SetString(PyExc_ValueError, "bad grid search arguments");
        goto out;
    }
    double cost = INFINITY;
    int64_t expanded = 0;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = run_query(&q, start, goal, (uint32_t)mark, &cost, &expanded);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
        goto out;
    }
    if (status == 0) {
        result = Py_BuildValue("dLO", cost, (long long)expanded, Py_None);
        goto out;
    }
    int64_t n = path_length(&q, start, goal);
    int64_t *cells = PyMem_Malloc((size_t)n * 2 * sizeof(int64_t));
    PyObject *path = cells ? PyList_New((Py_ssize_t)n) : PyErr_NoMemory();
    if (path == NULL) goto out_cells;
    path_cells(&q, start, goal, n, cells);
    for (int64_t i = 0; i < n; i++) { /* by hand: Py_BuildValue would parse a format per cell */
        PyObject *cell = PyTuple_New(2), *r = PyLong_FromLongLong(cells[2 * i]),
                 *c = PyLong_FromLongLong(cells[2 * i + 1]);
        if (cell == NULL || r == NULL || c == NULL) {
            Py_XDECREF(cell);
            Py_XDECREF(r);
            Py_XDECREF(c);
            Py_CLEAR(path);
            goto out_cells;
        }
        PyTuple_SET_ITEM(cell, 0, r);
        PyTuple_SET_ITEM(cell, 1, c);
        PyList_SET_ITEM(path, (Py_ssize_t)i, cell);
    }
    result = Py_BuildValue("dLN", cost, (long long)expanded, path);
out_cells:
    PyMem_Free(cells);
out:
    free(q.heap.items);
    release(&v);
    return result;
}

static PyObject *gridsearch_search_many(PyObject *self, PyObject *args) {
    PyObject *grid, *terrain, *work, *starts_obj, *goals_obj, *costs_obj;
    Py_ssize_t rows, cols;
    int kind, conn, want_paths;
    double scale;
    unsigned long mark;
    (void)self;
    if (!PyArg_ParseTuple(args, "iOOnnOOidOkOp", &kind, &grid, &terrain, &rows, &cols, &starts_obj,
                          &goals_obj, &conn, &scale, &work, &mark, &costs_obj, &want_paths))
        return NULL;
    Search q;
    Views v = {{0}, {0}, {0}};
    Py_buffer sb = {0}, gb = {0}, cb = {0};
    int64_t *cells = NULL, *ends = NULL;
    PyObject *result = NULL;
    if (setup(&q, &v, kind, grid, terrain, rows, cols, conn, scale, work) < 0) goto out;
    if (PyObject_GetBuffer(starts_obj, &sb, PyBUF_C_CONTIGUOUS) < 0 ||
        PyObject_GetBuffer(goals_obj, &gb, PyBUF_C_CONTIGUOUS) < 0 ||
        PyObject_GetBuffer(costs_obj, &cb, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0)
        goto out;
    Py_ssize_t m = sb.len / (Py_ssize_t)sizeof(int64_t);
    if (sb.len != gb.len || cb.len != m * (Py_ssize_t)sizeof(double) ||
        sb.len % (Py_ssize_t)sizeof(int64_t) || mark + 2 * (unsigned long long)m > 0xFFFFFFFFull) {
        PyErr_SetString(PyExc_ValueError, "bad grid search arguments");
        goto out;
    }
    const int64_t *starts = sb.buf, *goals = gb.buf, n_cells = (int64_t)rows * cols;
    double *costs = cb.buf;
    for (Py_ssize_t i = 0; i < m; i++) {
        if (starts[i] < 0 || starts[i] >= n_cells || goals[i] < 0 || goals[i] >= n_cells) {
            PyErr_SetString(PyExc_ValueError, "bad grid search arguments");
            goto out;
        }
    }
    if (want_paths && (ends = PyMem_Malloc((size_t)(m ? m : 1) * sizeof(int64_t))) == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    int64_t total = 0, used = 0, cap = 0, status = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < m && status >= 0; i++) {
        int64_t expanded = 0;
        costs[i] = INFINITY;
        status = run_query(&q, starts[i], goals[i], (uint32_t)(mark + 2 * i), &costs[i], &expanded);
        total += expanded;
        if (status > 0 && want_paths) {
            int64_t n = path_length(&q, starts[i], goals[i]);
            if (used + n > cap) {
                int64_t grown = 2 * cap > used + n ? 2 * cap : used + n + 1024;
                int64_t *more = realloc(cells, (size_t)grown * 2 * sizeof(int64_t));
                if (more == NULL) {
                    status = -1;
                    break;
                }
                cells = more;
                cap = grown;
            }
            path_cells(&q, starts[i], goals[i], n, cells + 2 * used);
            used += n;
        }
        if (want_paths) ends[i] = used;
    }
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
        goto out;
    }
    if (!want_paths) {
        result = Py_BuildValue("LOO", (long long)total, Py_None, Py_None);
        goto out;
    }
    result = Py_BuildValue("Ly#y#", (long long)total, (const char *)cells,
                           (Py_ssize_t)(used * 2 * (int64_t)sizeof(int64_t)), (const char *)ends,
                           (Py_ssize_t)(m * (Py_ssize_t)sizeof(int64_t)));
out:
    free(cells);
    PyMem_Free(ends);
    free(q.heap.items);
    if (sb.obj) PyBuffer_Release(&sb);
    if (gb.obj) PyBuffer_Release(&gb);
    if (cb.obj) PyBuffer_Release(&cb);
    release(&v);
    return result;
}

static PyMethodDef methods[] = {
    {"search", gridsearch_search, METH_VARARGS,
     "search(kind, grid, terrain, rows, cols, start, goal, connectivity, scale, work, mark)\n"
     "--\n\n"
     "One query over flat cell indices. kind 0: A*, grid the legal-move bits (uint8 per\n"
     "cell); kind 1: jump point search (uniform cost, 8-connected), grid the free-cell\n"
     "bitmaps (see planners.grid_backends.jump_bitmaps). terrain: float64 buffer or None\n"
     "(JPS ignores it); scale: the cheapest terrain (A*: heuristic multiplier; JPS: the\n"
     "cost of every cell); work: a writable buffer of rows * cols\n"
     "16-byte records (float64 g, uint32 stamp, uint32 parent) kept by the caller; mark: a\n"
     "stamp value no record holds (nor + 1). Returns (cost, expanded, path) with path a\n"
     "list of (row, col) tuples, or (inf, expanded, None) when the goal is unreachable."},
    {"search_many", gridsearch_search_many, METH_VARARGS,
     "search_many(kind, grid, terrain, rows, cols, starts, goals, connectivity, scale, work,\n"
     "            mark, costs, want_paths)\n"
     "--\n\n"
     "Queries starts[i] -> goals[i] (int64 flat indices) as search() does, query i with\n"
     "stamps mark + 2 * i; writes each cost (inf when unreachable) into costs (float64).\n"
     "Returns (expanded, cells, ends): with want_paths, cells holds every path's (row, col)\n"
     "pairs as int64 bytes, one path after another, and ends the int64 cumulative cell\n"
     "count after each query; else both None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "planners._gridsearch",
    "Compiled A* and jump point search for planners.GridMap.", -1, methods,
};

PyMODINIT_FUNC PyInit__gridsearch(void) { return PyModule_Create(&module); }
