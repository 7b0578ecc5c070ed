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
#include <structmember.h>
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
    Heap *heap; /* the workspace's, reused between queries */
} Search;

/* ------------------------------------------------------------------ A* */

/* Returns 1 when the goal was reached, 0 when not, -1 when out of memory. */
static int astar(Search *q, int64_t start, int64_t goal, uint32_t mark, double *cost_out,
                 int64_t *expanded_out) {
    const uint32_t OPEN = mark, CLOSED = mark + 1;
    const int64_t cols = q->cols, gr = goal / cols, gc = goal % cols;
    Cell *cells = q->cells;
    Heap *heap = q->heap;
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
    Heap *heap = q->heap;
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

/*
 * Two types. A Workspace per map holds what every query of the map reuses: the per-cell
 * records, the next stamp, the open list, and a lock, as the queries of several threads
 * take turns. A Route is one way of searching a map (kind, connectivity and the arrays
 * the search reads), with the buffers of those arrays held for its lifetime, so that a
 * query parses no argument list and exports no buffer: on a 32 x 32 map the search
 * itself takes about a microsecond, and GridMap.plan's Python around it used to take
 * more. Route.plan also checks the cells (a pair of ints on the map and free; anything
 * else is left to the caller, whose checks word the errors) and builds the Plan.
 */

/* Maps from this many cells up let other threads run during a search; on smaller ones a
 * search takes microseconds, less than handing the interpreter lock over and back. */
#define RELEASE_GIL_CELLS 4096

typedef struct {
    PyObject_HEAD
    Cell *cells; /* n_cells records, allocated on the first query */
    int64_t n_cells;
    unsigned long long mark; /* the stamp the next query starts from */
    Heap heap;
    PyThread_type_lock lock;
} Workspace;

static PyObject *workspace_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Py_ssize_t n_cells;
    static char *names[] = {"n_cells", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n", names, &n_cells)) return NULL;
    if (n_cells < 1 || (unsigned long long)n_cells > 0xFFFFFFFFull) {
        PyErr_Format(PyExc_ValueError, "a workspace holds 1 to 2**32 - 1 cells, got %zd", n_cells);
        return NULL;
    }
    Workspace *ws = (Workspace *)type->tp_alloc(type, 0);
    if (ws == NULL) return NULL;
    ws->n_cells = n_cells;
    ws->mark = 1;
    ws->lock = PyThread_allocate_lock();
    if (ws->lock == NULL) {
        Py_DECREF(ws);
        return PyErr_NoMemory();
    }
    return (PyObject *)ws;
}

static void workspace_dealloc(Workspace *ws) {
    free(ws->cells);
    free(ws->heap.items);
    if (ws->lock) PyThread_free_lock(ws->lock);
    Py_TYPE(ws)->tp_free((PyObject *)ws);
}

/* Takes the lock, letting other threads run while it waits. */
static void workspace_acquire(Workspace *ws) {
    if (!PyThread_acquire_lock(ws->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(ws->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

/* The stamps of one query (mark and mark + 1), all records cleared to start over near
 * 2**32; -1 when out of memory. Call with the lock held. */
static int64_t take_mark(Workspace *ws) {
    if (ws->cells == NULL && (ws->cells = calloc((size_t)ws->n_cells, sizeof(Cell))) == NULL)
        return -1;
    if (ws->mark < 1 || ws->mark + 2 > 0xFFFFFFFFull) {
        memset(ws->cells, 0, (size_t)ws->n_cells * sizeof(Cell));
        ws->mark = 1;
    }
    int64_t mark = (int64_t)ws->mark;
    ws->mark += 2;
    return mark;
}

static PyMemberDef workspace_members[] = {
    {"mark", T_ULONGLONG, offsetof(Workspace, mark), 0,
     "the stamp the next query starts from (it starts over near 2**32)"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject WorkspaceType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "planners._gridsearch.Workspace",
    .tp_basicsize = sizeof(Workspace),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Workspace(n_cells)\n--\n\nThe per-cell records, stamps, open list and lock that "
              "every query of one map reuses.",
    .tp_new = workspace_new,
    .tp_dealloc = (destructor)workspace_dealloc,
    .tp_members = workspace_members,
};

/* Bytes of the JPS bitmaps of a rows x cols map (see Lines); fills words[4]. */
static Py_ssize_t lines_bytes(int64_t rows, int64_t cols, int64_t *words) {
    int64_t along_rows = (cols + 2 + 63) / 64 + 1, along_cols = (rows + 2 + 63) / 64 + 1;
    words[0] = words[1] = along_rows;
    words[2] = words[3] = along_cols;
    return (Py_ssize_t)(8 * (2 * (rows + 2) * along_rows + 2 * (cols + 2) * along_cols));
}

typedef struct {
    PyObject_HEAD
    Workspace *ws;
    PyObject *plan_type; /* planners.grid_plan.Plan */
    Py_buffer grid, terrain, occupancy;
    Search q; /* all but the records and the open list, which are the workspace's */
    int release_gil;
} Route;

static PyObject *name_cells, *name_path, *name_cost, *name_expanded; /* interned */

static void route_dealloc(Route *r) {
    if (r->grid.obj) PyBuffer_Release(&r->grid);
    if (r->terrain.obj) PyBuffer_Release(&r->terrain);
    if (r->occupancy.obj) PyBuffer_Release(&r->occupancy);
    Py_XDECREF(r->ws);
    Py_XDECREF(r->plan_type);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static PyObject *route_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *ws, *grid, *terrain, *occupancy, *plan_type;
    Py_ssize_t rows, cols;
    int kind, conn;
    double scale;
    static char *names[] = {"workspace", "kind", "grid", "terrain", "occupancy", "rows",
                            "cols", "connectivity", "scale", "plan_type", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!iOOOnnidO!", names, &WorkspaceType, &ws,
                                     &kind, &grid, &terrain, &occupancy, &rows, &cols, &conn,
                                     &scale, &PyType_Type, &plan_type))
        return NULL;
    int64_t n = (int64_t)rows * (int64_t)cols;
    if (rows < 1 || cols < 1 || n != ((Workspace *)ws)->n_cells || (conn != 4 && conn != 8) ||
        (kind != KIND_ASTAR && kind != KIND_JPS) || (kind == KIND_JPS && conn != 8)) {
        PyErr_SetString(PyExc_ValueError, "bad grid search arguments");
        return NULL;
    }
    Route *r = (Route *)type->tp_alloc(type, 0);
    if (r == NULL) return NULL;
    r->ws = (Workspace *)Py_NewRef(ws);
    r->plan_type = Py_NewRef(plan_type);
    Search *q = &r->q;
    if (PyObject_GetBuffer(grid, &r->grid, PyBUF_C_CONTIGUOUS) < 0) goto fail;
    Py_ssize_t want = kind == KIND_JPS ? lines_bytes(rows, cols, q->words) : (Py_ssize_t)n;
    if (r->grid.len != want) {
        PyErr_Format(PyExc_ValueError, "grid buffer has %zd bytes, expected %zd", r->grid.len, want);
        goto fail;
    }
    if (terrain != Py_None) {
        if (PyObject_GetBuffer(terrain, &r->terrain, PyBUF_C_CONTIGUOUS) < 0) goto fail;
        if (r->terrain.len != n * (Py_ssize_t)sizeof(double)) {
            PyErr_SetString(PyExc_ValueError, "terrain buffer size does not match rows * cols");
            goto fail;
        }
    }
    if (PyObject_GetBuffer(occupancy, &r->occupancy, PyBUF_C_CONTIGUOUS) < 0) goto fail;
    if (r->occupancy.len != n) {
        PyErr_SetString(PyExc_ValueError, "occupancy must hold rows * cols bytes");
        goto fail;
    }
    q->kind = kind;
    q->moves = (const uint8_t *)r->grid.buf;
    if (kind == KIND_JPS) {
        q->bits[0] = (const uint64_t *)r->grid.buf;
        q->bits[1] = q->bits[0] + (rows + 2) * q->words[0];
        q->bits[2] = q->bits[1] + (rows + 2) * q->words[1];
        q->bits[3] = q->bits[2] + (cols + 2) * q->words[2];
    }
    q->terrain = r->terrain.obj ? (const double *)r->terrain.buf : NULL;
    q->rows = rows;
    q->cols = cols;
    q->conn = conn;
    q->scale = scale;
    q->heap = &r->ws->heap;
    r->release_gil = n >= RELEASE_GIL_CELLS;
    return (PyObject *)r;
fail:
    Py_DECREF(r);
    return NULL;
}

/* One query, with the workspace's lock held: 1 found, 0 not, -1 out of memory. */
static int route_query(Route *r, int64_t start, int64_t goal, double *cost, int64_t *expanded) {
    int64_t mark = take_mark(r->ws);
    if (mark < 0) return -1;
    r->q.cells = r->ws->cells;
    return run_query(&r->q, start, goal, (uint32_t)mark, cost, expanded);
}

/* The flat index of cell when it is a (row, col) tuple or list of ints on the map and
 * free; 0 (no error set) when it is anything else. */
static int free_cell(const Route *r, PyObject *cell, int64_t *flat) {
    if (!(PyTuple_CheckExact(cell) || PyList_CheckExact(cell)) ||
        PySequence_Fast_GET_SIZE(cell) != 2)
        return 0;
    PyObject **items = PySequence_Fast_ITEMS(cell);
    if (!PyLong_Check(items[0]) || !PyLong_Check(items[1])) return 0;
    int over_r, over_c;
    long long row = PyLong_AsLongLongAndOverflow(items[0], &over_r);
    long long col = PyLong_AsLongLongAndOverflow(items[1], &over_c);
    if (over_r || over_c || row < 0 || row >= r->q.rows || col < 0 || col >= r->q.cols) return 0;
    *flat = row * r->q.cols + col;
    return !((const uint8_t *)r->occupancy.buf)[*flat];
}

/* The path the last query found, its cells as (row, col) int64 pairs in bytes (not a
 * container: allocating it never starts the garbage collector, whose finalizers could
 * plan on this map while the lock is held). */
static PyObject *packed_path(Route *r, int64_t start, int64_t goal) {
    int64_t n = path_length(&r->q, start, goal);
    PyObject *cells = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 2 * sizeof(int64_t)));
    if (cells != NULL) path_cells(&r->q, start, goal, n, (int64_t *)PyBytes_AS_STRING(cells));
    return cells;
}

/* A Plan (planners.grid_plan) of packed cells, the list of tuples left to Plan.path,
 * built when first read. As object.__new__ and object.__setattr__ (a Plan is frozen),
 * without the Python calls. Steals the reference to cells. */
static PyObject *new_plan(Route *r, PyObject *cells, double cost, int64_t expanded) {
    PyTypeObject *type = (PyTypeObject *)r->plan_type;
    PyObject *plan = type->tp_alloc(type, 0), *c = PyFloat_FromDouble(cost),
             *e = PyLong_FromLongLong(expanded);
    if (plan == NULL || c == NULL || e == NULL ||
        PyObject_GenericSetAttr(plan, name_cells, cells) < 0 ||
        PyObject_GenericSetAttr(plan, name_path, Py_None) < 0 ||
        PyObject_GenericSetAttr(plan, name_cost, c) < 0 ||
        PyObject_GenericSetAttr(plan, name_expanded, e) < 0)
        Py_CLEAR(plan);
    Py_DECREF(cells);
    Py_XDECREF(c);
    Py_XDECREF(e);
    return plan;
}

static PyObject *route_plan(Route *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "plan() takes start and goal, got %zd arguments", nargs);
        return NULL;
    }
    int64_t start, goal;
    if (!free_cell(r, args[0], &start) || !free_cell(r, args[1], &goal)) Py_RETURN_NONE;
    double cost = INFINITY;
    int64_t expanded = 0;
    int status;
    workspace_acquire(r->ws);
    if (r->release_gil) {
        Py_BEGIN_ALLOW_THREADS
        status = route_query(r, start, goal, &cost, &expanded);
        Py_END_ALLOW_THREADS
    } else {
        status = route_query(r, start, goal, &cost, &expanded);
    }
    PyObject *cells = status > 0 ? packed_path(r, start, goal) : NULL; /* the lock guards parents */
    PyThread_release_lock(r->ws->lock);
    if (status < 0) return PyErr_NoMemory();
    if (status == 0) Py_RETURN_FALSE;
    return cells ? new_plan(r, cells, cost, expanded) : NULL;
}

static PyObject *route_search_many(Route *r, PyObject *args) {
    PyObject *starts_obj, *goals_obj, *costs_obj;
    int want_paths;
    if (!PyArg_ParseTuple(args, "OOOp", &starts_obj, &goals_obj, &costs_obj, &want_paths))
        return NULL;
    Py_buffer sb = {0}, gb = {0}, cb = {0};
    int64_t *cells = NULL, *ends = NULL;
    PyObject *result = NULL;
    if (PyObject_GetBuffer(starts_obj, &sb, PyBUF_C_CONTIGUOUS) < 0 ||
        PyObject_GetBuffer(goals_obj, &gb, PyBUF_C_CONTIGUOUS) < 0 ||
        PyObject_GetBuffer(costs_obj, &cb, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0)
        goto out;
    Py_ssize_t m = sb.len / (Py_ssize_t)sizeof(int64_t);
    if (sb.len != gb.len || cb.len != m * (Py_ssize_t)sizeof(double) ||
        sb.len % (Py_ssize_t)sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError, "bad grid search arguments");
        goto out;
    }
    const int64_t *starts = sb.buf, *goals = gb.buf, n_cells = r->ws->n_cells;
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
    workspace_acquire(r->ws);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < m && status >= 0; i++) {
        int64_t expanded = 0;
        costs[i] = INFINITY;
        status = route_query(r, starts[i], goals[i], &costs[i], &expanded);
        total += expanded;
        if (status > 0 && want_paths) {
            int64_t n = path_length(&r->q, starts[i], goals[i]);
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
            path_cells(&r->q, starts[i], goals[i], n, cells + 2 * used);
            used += n;
        }
        if (want_paths) ends[i] = used;
    }
    Py_END_ALLOW_THREADS
    PyThread_release_lock(r->ws->lock);
    if (status < 0) {
        PyErr_NoMemory();
        goto out;
    }
    if (!want_paths) {
        result = Py_BuildValue("LOO", (long long)total, Py_None, Py_None);
        goto out;
    }
    /* no cell at all (every goal unreachable): b"", not the None a NULL would give */
    result = Py_BuildValue("Ly#y#", (long long)total, cells ? (const char *)cells : "",
                           (Py_ssize_t)(used * 2 * (int64_t)sizeof(int64_t)), (const char *)ends,
                           (Py_ssize_t)(m * (Py_ssize_t)sizeof(int64_t)));
out:
    free(cells);
    PyMem_Free(ends);
    if (sb.obj) PyBuffer_Release(&sb);
    if (gb.obj) PyBuffer_Release(&gb);
    if (cb.obj) PyBuffer_Release(&cb);
    return result;
}

static PyMethodDef route_methods[] = {
    {"plan", (PyCFunction)(void (*)(void))route_plan, METH_FASTCALL,
     "plan(start, goal, /)\n--\n\n"
     "One query from cell start to cell goal, each a (row, col) tuple or list of ints.\n"
     "Returns a Plan (see __init__'s plan_type), False when the goal cannot be reached, or\n"
     "None when start or goal is anything but a free cell given so (the caller checks it)."},
    {"search_many", (PyCFunction)route_search_many, METH_VARARGS,
     "search_many(starts, goals, costs, want_paths, /)\n--\n\n"
     "Queries starts[i] -> goals[i] (int64 flat indices, row * cols + col) as plan() does;\n"
     "writes each cost (inf when unreachable) into costs (float64). Returns (expanded,\n"
     "cells, ends): with want_paths, cells holds every path's (row, col) pairs as int64\n"
     "bytes, one path after another, and ends the int64 cumulative cell count after each\n"
     "query; else both None."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RouteType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "planners._gridsearch.Route",
    .tp_basicsize = sizeof(Route),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc =
        "Route(workspace, kind, grid, terrain, occupancy, rows, cols, connectivity, scale,\n"
        "      plan_type)\n--\n\n"
        "One way of searching a map. kind 0: A*, grid the legal-move bits (uint8 per cell);\n"
        "kind 1: jump point search (uniform cost, 8-connected), grid the free-cell bitmaps\n"
        "(see planners.grid_backends.jump_bitmaps). terrain: float64 buffer or None (JPS\n"
        "ignores it); occupancy: one byte per cell, nonzero where blocked; scale: the\n"
        "cheapest terrain (A*: heuristic multiplier; JPS: the cost of every cell);\n"
        "workspace: the map's Workspace; plan_type: the class plan() returns.",
    .tp_new = route_new,
    .tp_dealloc = (destructor)route_dealloc,
    .tp_methods = route_methods,
};

/* Plan.path's list of (row, col) tuples from the cells new_plan packed. */
static PyObject *gridsearch_cell_list(PyObject *self, PyObject *cells) {
    (void)self;
    if (!PyBytes_Check(cells) || PyBytes_GET_SIZE(cells) % (2 * sizeof(int64_t))) {
        PyErr_SetString(PyExc_TypeError, "cell_list() takes bytes of (row, col) int64 pairs");
        return NULL;
    }
    const int64_t *flat = (const int64_t *)PyBytes_AS_STRING(cells);
    Py_ssize_t n = PyBytes_GET_SIZE(cells) / (Py_ssize_t)(2 * sizeof(int64_t));
    PyObject *path = PyList_New(n);
    if (path == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) { /* by hand: Py_BuildValue would parse a format per cell */
        PyObject *cell = PyTuple_New(2), *r = PyLong_FromLongLong(flat[2 * i]),
                 *c = PyLong_FromLongLong(flat[2 * i + 1]);
        if (cell == NULL || r == NULL || c == NULL) {
            Py_XDECREF(cell);
            Py_XDECREF(r);
            Py_XDECREF(c);
            Py_DECREF(path);
            return NULL;
        }
        PyTuple_SET_ITEM(cell, 0, r);
        PyTuple_SET_ITEM(cell, 1, c);
        PyList_SET_ITEM(path, i, cell);
    }
    return path;
}

static PyMethodDef functions[] = {
    {"cell_list", gridsearch_cell_list, METH_O,
     "cell_list(cells, /)\n--\n\n"
     "The (row, col) tuples of cells, bytes of native int64 pairs (as Plan._cells holds)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "planners._gridsearch",
    "Compiled A* and jump point search for planners.GridMap.", -1, functions,
};

PyMODINIT_FUNC PyInit__gridsearch(void) {
    if (PyType_Ready(&WorkspaceType) < 0 || PyType_Ready(&RouteType) < 0) return NULL;
    name_cells = PyUnicode_InternFromString("_cells");
    name_path = PyUnicode_InternFromString("_path");
    name_cost = PyUnicode_InternFromString("cost");
    name_expanded = PyUnicode_InternFromString("expanded");
    if (!name_cells || !name_path || !name_cost || !name_expanded) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Workspace", (PyObject *)&WorkspaceType) < 0 ||
        PyModule_AddObjectRef(m, "Route", (PyObject *)&RouteType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
