// lrw_mpi: a small N-API addon over the system's MPI (Open MPI or MPICH), for data-parallel
// training: one process per rank, started by mpirun or srun.
//
// The blocking calls are made from the JavaScript main thread. allReduceSumAsync hands a buffer
// to a dedicated communication thread that sums the buffers of a FIFO one after the other
// (see comm_poll_us for how it waits), and resolves one Promise per buffer on the main thread (a
// napi threadsafe function). Open MPI's nonblocking collectives (MPI_Iallreduce) make progress
// only inside MPI calls, and the main thread is busy in JavaScript (e.g. running backward)
// while the reduction should proceed, so a thread of its own that sits in MPI is what overlaps.
// Only one thread is ever inside MPI at a time: every blocking call first drains the queue (waits
// until the communication thread is idle), so MPI_THREAD_SERIALIZED is enough; MPI is
// initialised asking for it, and where the library provides less the asynchronous call throws
// (code MPI_THREAD_LEVEL) and callers keep to the blocking path. LRW_MPI_THREAD_LEVEL=funneled
// (or multiple) changes the level asked for.
//
// Buffers are Float32Array or Float64Array views used in place where the operation allows it
// (allReduceSum, allReduceSumAsync, broadcast). Counts above INT_MAX elements are sent in
// chunks. Errors are fatal (MPI_ERRORS_ARE_FATAL, the default): a peer that disappears makes
// the launcher end every rank instead of a hang.
//
// Build: node scripts/build-native.mjs (mpicc -shared -fPIC -O2 -I<node>/include/node lrw_mpi.c).
#define NAPI_VERSION 8
#include <limits.h>
#include <mpi.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, NULL, "lrw_mpi: N-API call failed: " #call); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

static int provided_level = -1;

// waits until the communication thread is idle (defined with it, below)
static void comm_drain(void);

// How a rank waits for its peers. Open MPI's and MPICH's blocking calls spin while a peer is not
// there yet; where every core runs a rank, or the trainer's main thread runs beside the
// communication thread, or other jobs run, a spinning wait takes the core from the work that
// the peer is waiting for. Two ways round it, chosen by the library:
// - Open MPI: its blocking calls (the tuned collectives; its nonblocking ones, libnbc, moved
//   large sums at about half their bandwidth here), with its own `mpi_yield_when_idle` turned
//   on before MPI_Init unless the user set OMPI_MCA_mpi_yield_when_idle: the progress loop then
//   yields the core (sched_yield) whenever a pass finds nothing to do.
// - other libraries (MPICH): the nonblocking form (MPI_Iallreduce, MPI_Iallgatherv, MPI_Ibcast,
//   MPI_Ibarrier) tested in a loop that yields the core between tests.
// Where nothing else wants the core a yield returns at once, so both run at the blocking call's
// speed. LRW_MPI_POLL_US=N > 0 tests every N microseconds and sleeps in between (fewer
// wake-ups, much less bandwidth: each sleep stalls the transfer); 0 makes every call MPI's
// blocking one as it comes.
#define POLL_YIELD (-1L)
#ifdef OPEN_MPI
static long comm_poll_us = 0;
#else
static long comm_poll_us = POLL_YIELD;
#endif

// Waits for `req` as described above; returns MPI's code.
static int wait_polled(MPI_Request* req) {
  struct timespec nap = {0, (comm_poll_us > 0 ? comm_poll_us : 0) * 1000L};
  for (;;) {
    int done = 0;
    int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS || done) return rc;
    if (comm_poll_us == POLL_YIELD) sched_yield();
    else nanosleep(&nap, NULL);
  }
}

static int allreduce_sum(void* p, int n, MPI_Datatype type) {
  if (comm_poll_us == 0) return MPI_Allreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, MPI_COMM_WORLD);
  MPI_Request req;
  int rc = MPI_Iallreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, MPI_COMM_WORLD, &req);
  return rc != MPI_SUCCESS ? rc : wait_polled(&req);
}

static int bcast(void* p, int n, MPI_Datatype type, int root) {
  if (comm_poll_us == 0) return MPI_Bcast(p, n, type, root, MPI_COMM_WORLD);
  MPI_Request req;
  int rc = MPI_Ibcast(p, n, type, root, MPI_COMM_WORLD, &req);
  return rc != MPI_SUCCESS ? rc : wait_polled(&req);
}

static int allgather(const void* in, int n, MPI_Datatype in_type, void* out, int m,
                     MPI_Datatype out_type) {
  if (comm_poll_us == 0) return MPI_Allgather(in, n, in_type, out, m, out_type, MPI_COMM_WORLD);
  MPI_Request req;
  int rc = MPI_Iallgather(in, n, in_type, out, m, out_type, MPI_COMM_WORLD, &req);
  return rc != MPI_SUCCESS ? rc : wait_polled(&req);
}

static int allgatherv(const void* in, int n, MPI_Datatype type, void* out, const int* counts,
                      const int* displs) {
  if (comm_poll_us == 0)
    return MPI_Allgatherv(in, n, type, out, counts, displs, type, MPI_COMM_WORLD);
  MPI_Request req;
  int rc = MPI_Iallgatherv(in, n, type, out, counts, displs, type, MPI_COMM_WORLD, &req);
  return rc != MPI_SUCCESS ? rc : wait_polled(&req);
}

static int barrier_wait(void) {
  if (comm_poll_us == 0) return MPI_Barrier(MPI_COMM_WORLD);
  MPI_Request req;
  int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
  return rc != MPI_SUCCESS ? rc : wait_polled(&req);
}

static napi_value undefined_value(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static napi_value make_int(napi_env env, int64_t x) {
  napi_value v;
  napi_create_int64(env, x, &v);
  return v;
}

static napi_value make_string(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static int mpi_ready(napi_env env, const char* op) {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (!init || fin) {
    char msg[200];
    snprintf(msg, sizeof msg, "lrw_mpi: %s: MPI is %s", op,
             fin ? "already finalized" : "not initialised (call init() first)");
    napi_throw_error(env, "MPI_NOT_READY", msg);
    return 0;
  }
  return 1;
}

static int mpi_ok(napi_env env, int rc, const char* op) {
  if (rc == MPI_SUCCESS) return 1;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  char msg[MPI_MAX_ERROR_STRING + 64];
  snprintf(msg, sizeof msg, "lrw_mpi: %s failed: %s", op, text);
  napi_throw_error(env, "MPI_ERROR", msg);
  return 0;
}

static const char* level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "single";
    case MPI_THREAD_FUNNELED: return "funneled";
    case MPI_THREAD_SERIALIZED: return "serialized";
    case MPI_THREAD_MULTIPLE: return "multiple";
    default: return "unknown";
  }
}

// A Float32Array or Float64Array argument: its data, length and MPI datatype.
typedef struct {
  void* data;
  size_t length;
  size_t elem;
  MPI_Datatype type;
  napi_typedarray_type kind;
  napi_value buffer;
  size_t byte_offset;
} float_view;

static int get_float_view(napi_env env, napi_value value, const char* op, float_view* out) {
  bool is_ta = false;
  napi_is_typedarray(env, value, &is_ta);
  if (is_ta) {
    napi_typedarray_type kind;
    size_t length, offset;
    void* data;
    napi_value buffer;
    if (napi_get_typedarray_info(env, value, &kind, &length, &data, &buffer, &offset) == napi_ok &&
        (kind == napi_float32_array || kind == napi_float64_array)) {
      out->data = data;
      out->length = length;
      out->kind = kind;
      out->buffer = buffer;
      out->byte_offset = offset;
      out->elem = kind == napi_float32_array ? 4 : 8;
      out->type = kind == napi_float32_array ? MPI_FLOAT : MPI_DOUBLE;
      return 1;
    }
  }
  char msg[160];
  snprintf(msg, sizeof msg, "lrw_mpi: %s expects a Float32Array or Float64Array", op);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return 0;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv,
                    const char* op) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    char msg[160];
    snprintf(msg, sizeof msg, "lrw_mpi: %s expects %zu argument(s)", op, want);
    napi_throw_type_error(env, "ERR_MISSING_ARGS", msg);
    return 0;
  }
  return 1;
}

// init() -> { rank, size, threadLevel, library }; a second call returns the same.
static napi_value init(napi_env env, napi_callback_info info) {
  (void)info;
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (fin) {
    napi_throw_error(env, "MPI_NOT_READY", "lrw_mpi: init: MPI was finalized and cannot start again");
    return NULL;
  }
  if (!init) {
    const char* poll = getenv("LRW_MPI_POLL_US");
    if (poll && *poll) {
      char* end = NULL;
      long us = strtol(poll, &end, 10);
      if (*end != '\0' || us < 0 || us > 1000000) {
        napi_throw_range_error(env, "MPI_POLL_US",
                               "lrw_mpi: LRW_MPI_POLL_US must be a whole number of microseconds "
                               "in [0, 1000000] (0: MPI's blocking calls; unset: test and yield)");
        return NULL;
      }
      comm_poll_us = us;
    }
#ifdef OPEN_MPI
    if (comm_poll_us == 0) setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
#endif
    int provided = 0;
    // LRW_MPI_THREAD_LEVEL=funneled asks for less (to run without the communication thread)
    const char* want = getenv("LRW_MPI_THREAD_LEVEL");
    int required = MPI_THREAD_SERIALIZED;
    if (want && strcmp(want, "funneled") == 0) required = MPI_THREAD_FUNNELED;
    if (want && strcmp(want, "multiple") == 0) required = MPI_THREAD_MULTIPLE;
    if (!mpi_ok(env, MPI_Init_thread(NULL, NULL, required, &provided),
                "MPI_Init_thread"))
      return NULL;
    provided_level = provided;
  } else if (provided_level < 0) {
    MPI_Query_thread(&provided_level);
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  // the first line only (Open MPI adds the build details after it)
  for (int i = 0; i < len; i++) {
    if (version[i] == '\n' || version[i] == ',') {
      version[i] = '\0';
      break;
    }
  }
  char host[MPI_MAX_PROCESSOR_NAME];
  int hlen = 0;
  MPI_Get_processor_name(host, &hlen);
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  napi_set_named_property(env, obj, "rank", make_int(env, rank));
  napi_set_named_property(env, obj, "size", make_int(env, size));
  napi_set_named_property(env, obj, "threadLevel", make_string(env, level_name(provided_level)));
  napi_set_named_property(env, obj, "library", make_string(env, version));
  napi_set_named_property(env, obj, "processor", make_string(env, host));
  return obj;
}

// state() -> "uninitialized" | "initialized" | "finalized"
static napi_value state(napi_env env, napi_callback_info info) {
  (void)info;
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return make_string(env, fin ? "finalized" : init ? "initialized" : "uninitialized");
}

// allReduceSum(view): element-wise sum over ranks, in place.
static napi_value all_reduce_sum(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  float_view v;
  if (!get_args(env, info, 1, argv, "allReduceSum") || !mpi_ready(env, "allReduceSum") ||
      !get_float_view(env, argv[0], "allReduceSum", &v))
    return NULL;
  comm_drain();
  char* p = (char*)v.data;
  size_t left = v.length;
  while (left > 0) {
    int n = left > (size_t)INT_MAX ? INT_MAX : (int)left;
    if (!mpi_ok(env, allreduce_sum(p, n, v.type), "MPI_Allreduce"))
      return NULL;
    p += (size_t)n * v.elem;
    left -= (size_t)n;
  }
  return undefined_value(env);
}

// broadcast(view, root): root's values on every rank, in place.
static napi_value broadcast(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float_view v;
  int32_t root = 0;
  if (!get_args(env, info, 2, argv, "broadcast") || !mpi_ready(env, "broadcast") ||
      !get_float_view(env, argv[0], "broadcast", &v))
    return NULL;
  comm_drain();
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (napi_get_value_int32(env, argv[1], &root) != napi_ok || root < 0 || root >= size) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "lrw_mpi: broadcast: root is not a rank");
    return NULL;
  }
  char* p = (char*)v.data;
  size_t left = v.length;
  while (left > 0) {
    int n = left > (size_t)INT_MAX ? INT_MAX : (int)left;
    if (!mpi_ok(env, bcast(p, n, v.type, root), "MPI_Bcast")) return NULL;
    p += (size_t)n * v.elem;
    left -= (size_t)n;
  }
  return undefined_value(env);
}

// allGather(view) -> a new array of the same kind: every rank's values in rank order (the
// lengths may differ between ranks).
static napi_value all_gather(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  float_view v;
  if (!get_args(env, info, 1, argv, "allGather") || !mpi_ready(env, "allGather") ||
      !get_float_view(env, argv[0], "allGather", &v))
    return NULL;
  comm_drain();
  if (v.length > (size_t)INT_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "lrw_mpi: allGather: more than INT_MAX values");
    return NULL;
  }
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int* counts = calloc((size_t)size * 2, sizeof(int));
  if (!counts) {
    napi_throw_error(env, NULL, "lrw_mpi: allGather: out of memory");
    return NULL;
  }
  int* displs = counts + size;
  int mine = (int)v.length;
  if (!mpi_ok(env, allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT), "MPI_Allgather")) {
    free(counts);
    return NULL;
  }
  size_t total = 0;
  for (int r = 0; r < size; r++) {
    if (total > (size_t)INT_MAX) break;
    displs[r] = (int)total;
    total += (size_t)counts[r];
  }
  if (total > (size_t)INT_MAX) {
    free(counts);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                           "lrw_mpi: allGather: more than INT_MAX values in all");
    return NULL;
  }
  void* out_data = NULL;
  napi_value out_buffer, out;
  if (napi_create_arraybuffer(env, total * v.elem, &out_data, &out_buffer) != napi_ok ||
      napi_create_typedarray(env, v.kind, total, out_buffer, 0, &out) != napi_ok) {
    free(counts);
    napi_throw_error(env, NULL, "lrw_mpi: allGather: cannot allocate the result");
    return NULL;
  }
  int rc = allgatherv(v.data, mine, v.type, out_data, counts, displs);
  free(counts);
  if (!mpi_ok(env, rc, "MPI_Allgatherv")) return NULL;
  return out;
}

static napi_value barrier(napi_env env, napi_callback_info info) {
  (void)info;
  if (!mpi_ready(env, "barrier")) return NULL;
  comm_drain();
  if (!mpi_ok(env, barrier_wait(), "MPI_Barrier")) return NULL;
  return undefined_value(env);
}

// ---- the communication thread (allReduceSumAsync) ------------------------------------------

typedef struct job {
  struct job* next;
  char* data;
  size_t length;
  size_t elem;
  MPI_Datatype type;
  napi_ref keep;          // the typed array, alive until the job is settled (main thread)
  napi_deferred deferred; // its Promise
  int rc;                 // MPI's return code, set by the communication thread
} job;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work;   // signalled when a job is queued or the thread should stop
  pthread_cond_t idle;   // signalled when the queue is empty and no job runs
  pthread_t thread;
  int started;
  int stopping;
  int running;           // a job is inside MPI_Allreduce
  job* head;
  job* tail;
  napi_threadsafe_function done;  // settles finished jobs on the main thread
  size_t in_flight;      // jobs queued or running whose Promise is not settled (main thread)
  int32_t* progress;     // optional watchdog cells: [counter, busy] (a SharedArrayBuffer)
  napi_ref progress_ref;
} comm = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void* comm_main(void* arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&comm.lock);
    while (!comm.head && !comm.stopping) pthread_cond_wait(&comm.work, &comm.lock);
    if (!comm.head) {  // stopping with nothing left
      pthread_mutex_unlock(&comm.lock);
      return NULL;
    }
    job* j = comm.head;
    comm.head = j->next;
    if (!comm.head) comm.tail = NULL;
    comm.running = 1;
    pthread_mutex_unlock(&comm.lock);

    char* p = j->data;
    size_t left = j->length;
    j->rc = MPI_SUCCESS;
    while (left > 0 && j->rc == MPI_SUCCESS) {
      int n = left > (size_t)INT_MAX ? INT_MAX : (int)left;
      j->rc = allreduce_sum(p, n, j->type);
      p += (size_t)n * j->elem;
      left -= (size_t)n;
    }
    // the watchdog sees the progress here, not when the (maybe busy) main thread settles it
    if (comm.progress) {
      __atomic_fetch_sub(&comm.progress[1], 1, __ATOMIC_SEQ_CST);
      __atomic_fetch_add(&comm.progress[0], 1, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_lock(&comm.lock);
    comm.running = 0;
    if (!comm.head) pthread_cond_broadcast(&comm.idle);
    pthread_mutex_unlock(&comm.lock);
    napi_call_threadsafe_function(comm.done, j, napi_tsfn_blocking);
  }
}

// On the main thread: resolves or rejects a finished job's Promise.
static void comm_settle(napi_env env, napi_value js_cb, void* context, void* data) {
  (void)js_cb;
  (void)context;
  job* j = (job*)data;
  if (env != NULL) {
    if (j->rc == MPI_SUCCESS) {
      napi_resolve_deferred(env, j->deferred, undefined_value(env));
    } else {
      char text[MPI_MAX_ERROR_STRING];
      int len = 0;
      MPI_Error_string(j->rc, text, &len);
      char msg[MPI_MAX_ERROR_STRING + 64];
      snprintf(msg, sizeof msg, "lrw_mpi: MPI_Allreduce (allReduceSumAsync) failed: %s", text);
      napi_value error, code;
      napi_create_string_utf8(env, "MPI_ERROR", NAPI_AUTO_LENGTH, &code);
      napi_create_error(env, code, make_string(env, msg), &error);
      napi_reject_deferred(env, j->deferred, error);
    }
    napi_delete_reference(env, j->keep);
    if (--comm.in_flight == 0) napi_unref_threadsafe_function(env, comm.done);
  }
  free(j);
}

// Blocks the caller until the communication thread has no job (queued or running).
static void comm_drain(void) {
  if (!comm.started) return;
  pthread_mutex_lock(&comm.lock);
  while (comm.head || comm.running) pthread_cond_wait(&comm.idle, &comm.lock);
  pthread_mutex_unlock(&comm.lock);
}

static int comm_start(napi_env env) {
  if (comm.started) return 1;
  napi_value name;
  napi_create_string_utf8(env, "lrw_mpi allReduceSumAsync", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, comm_settle,
                                      &comm.done) != napi_ok) {
    napi_throw_error(env, NULL, "lrw_mpi: cannot create the communication thread's callback");
    return 0;
  }
  napi_unref_threadsafe_function(env, comm.done);  // only jobs in flight keep Node alive
  if (pthread_create(&comm.thread, NULL, comm_main, NULL) != 0) {
    napi_release_threadsafe_function(comm.done, napi_tsfn_abort);
    napi_throw_error(env, NULL, "lrw_mpi: cannot start the communication thread");
    return 0;
  }
  comm.started = 1;
  return 1;
}

// Stops the communication thread after its last job (before MPI_Finalize).
static void comm_stop(void) {
  if (!comm.started) return;
  pthread_mutex_lock(&comm.lock);
  comm.stopping = 1;
  pthread_cond_signal(&comm.work);
  pthread_mutex_unlock(&comm.lock);
  pthread_join(comm.thread, NULL);
  napi_release_threadsafe_function(comm.done, napi_tsfn_release);
  comm.started = 0;
}

// allReduceSumAsync(view) -> Promise<void>: the element-wise sum over ranks written into `view`
// by the communication thread; jobs run in the order they are queued (the same order on every
// rank, as for any collective). `view` must not be touched until the Promise settles.
static napi_value all_reduce_sum_async(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  float_view v;
  if (!get_args(env, info, 1, argv, "allReduceSumAsync") ||
      !mpi_ready(env, "allReduceSumAsync") ||
      !get_float_view(env, argv[0], "allReduceSumAsync", &v))
    return NULL;
  if (provided_level < MPI_THREAD_SERIALIZED) {
    char msg[240];
    snprintf(msg, sizeof msg,
             "lrw_mpi: allReduceSumAsync needs MPI_THREAD_SERIALIZED, but this MPI library "
             "provides only MPI_THREAD_%s",
             provided_level == MPI_THREAD_SINGLE ? "SINGLE" : "FUNNELED");
    napi_throw_error(env, "MPI_THREAD_LEVEL", msg);
    return NULL;
  }
  if (!comm_start(env)) return NULL;
  job* j = calloc(1, sizeof(job));
  if (!j) {
    napi_throw_error(env, NULL, "lrw_mpi: allReduceSumAsync: out of memory");
    return NULL;
  }
  j->data = (char*)v.data;
  j->length = v.length;
  j->elem = v.elem;
  j->type = v.type;
  napi_value promise;
  if (napi_create_reference(env, argv[0], 1, &j->keep) != napi_ok ||
      napi_create_promise(env, &j->deferred, &promise) != napi_ok) {
    free(j);
    napi_throw_error(env, NULL, "lrw_mpi: allReduceSumAsync: N-API call failed");
    return NULL;
  }
  if (comm.in_flight++ == 0) napi_ref_threadsafe_function(env, comm.done);
  pthread_mutex_lock(&comm.lock);
  if (comm.tail) comm.tail->next = j;
  else comm.head = j;
  comm.tail = j;
  pthread_cond_signal(&comm.work);
  pthread_mutex_unlock(&comm.lock);
  return promise;
}

// drain(): returns once every queued allReduceSumAsync has left MPI (their Promises settle
// on the main thread afterwards).
static napi_value drain(napi_env env, napi_callback_info info) {
  (void)info;
  comm_drain();
  return undefined_value(env);
}

// setProgressCells(int32array | null): cells [counter, busy] of the watchdog (a view of a
// SharedArrayBuffer) that the communication thread updates atomically when it finishes a job
// (busy - 1, counter + 1); the caller counts the job in (busy + 1, counter + 1, and a notify
// that wakes the watchdog) before it queues it.
static napi_value set_progress_cells(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv, "setProgressCells")) return NULL;
  comm_drain();  // no job may see the cells change under it
  if (comm.progress_ref) {
    napi_delete_reference(env, comm.progress_ref);
    comm.progress_ref = NULL;
  }
  comm.progress = NULL;
  napi_valuetype t;
  napi_typeof(env, argv[0], &t);
  if (t == napi_null || t == napi_undefined) return undefined_value(env);
  bool is_ta = false;
  napi_is_typedarray(env, argv[0], &is_ta);
  napi_typedarray_type kind;
  size_t length = 0;
  void* data = NULL;
  if (!is_ta ||
      napi_get_typedarray_info(env, argv[0], &kind, &length, &data, NULL, NULL) != napi_ok ||
      kind != napi_int32_array || length < 2 || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "lrw_mpi: setProgressCells expects an Int32Array of at least 2 cells");
    return NULL;
  }
  CHECK(napi_create_reference(env, argv[0], 1, &comm.progress_ref));
  comm.progress = (int32_t*)data;
  return undefined_value(env);
}

// abort(code): ends every rank of the job (MPI_Abort); does not return.
static napi_value abort_job(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t code = 1;
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &code);
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  fflush(stdout);
  fflush(stderr);
  if (init && !fin) MPI_Abort(MPI_COMM_WORLD, code);
  exit(code);
}

static napi_value finalize(napi_env env, napi_callback_info info) {
  (void)info;
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) {
    comm_drain();
    comm_stop();
    if (!mpi_ok(env, MPI_Finalize(), "MPI_Finalize")) return NULL;
  }
  return undefined_value(env);
}

// wtime() -> seconds (MPI_Wtime), for benchmarks.
static napi_value wtime(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_double(env, MPI_Wtime(), &v);
  return v;
}

static napi_value module_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, init, NULL, NULL, NULL, napi_default, NULL},
      {"state", NULL, state, NULL, NULL, NULL, napi_default, NULL},
      {"allReduceSum", NULL, all_reduce_sum, NULL, NULL, NULL, napi_default, NULL},
      {"allReduceSumAsync", NULL, all_reduce_sum_async, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, drain, NULL, NULL, NULL, napi_default, NULL},
      {"setProgressCells", NULL, set_progress_cells, NULL, NULL, NULL, napi_default, NULL},
      {"allGather", NULL, all_gather, NULL, NULL, NULL, napi_default, NULL},
      {"broadcast", NULL, broadcast, NULL, NULL, NULL, napi_default, NULL},
      {"barrier", NULL, barrier, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, abort_job, NULL, NULL, NULL, napi_default, NULL},
      {"finalize", NULL, finalize, NULL, NULL, NULL, napi_default, NULL},
      {"wtime", NULL, wtime, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
