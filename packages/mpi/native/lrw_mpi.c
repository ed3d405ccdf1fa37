// lrw_mpi: a small N-API addon over the system's MPI (Open MPI or MPICH), for data-parallel
// training: one process per rank, started by mpirun or srun.
//
// Every call is synchronous and made from the JavaScript main thread, so MPI is initialised
// with MPI_THREAD_FUNNELED (the level actually provided is reported). Buffers are Float32Array
// or Float64Array views used in place where the operation allows it (allReduceSum, broadcast).
// Counts above INT_MAX elements are sent in chunks. Errors are fatal (MPI_ERRORS_ARE_FATAL,
// the default): a peer that disappears makes the launcher end every rank instead of a hang.
//
// Build: node scripts/build-native.mjs (mpicc -shared -fPIC -O2 -I<node>/include/node lrw_mpi.c).
#define NAPI_VERSION 8
#include <limits.h>
#include <mpi.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, NULL, "lrw_mpi: N-API call failed: " #call); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

static int provided_level = -1;

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
    int provided = 0;
    if (!mpi_ok(env, MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided),
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
  char* p = (char*)v.data;
  size_t left = v.length;
  while (left > 0) {
    int n = left > (size_t)INT_MAX ? INT_MAX : (int)left;
    if (!mpi_ok(env, MPI_Allreduce(MPI_IN_PLACE, p, n, v.type, MPI_SUM, MPI_COMM_WORLD),
                "MPI_Allreduce"))
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
    if (!mpi_ok(env, MPI_Bcast(p, n, v.type, root, MPI_COMM_WORLD), "MPI_Bcast")) return NULL;
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
  if (!mpi_ok(env, MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD),
              "MPI_Allgather")) {
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
  int rc = MPI_Allgatherv(v.data, mine, v.type, out_data, counts, displs, v.type, MPI_COMM_WORLD);
  free(counts);
  if (!mpi_ok(env, rc, "MPI_Allgatherv")) return NULL;
  return out;
}

static napi_value barrier(napi_env env, napi_callback_info info) {
  (void)info;
  if (!mpi_ready(env, "barrier")) return NULL;
  if (!mpi_ok(env, MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier")) return NULL;
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
  if (init && !fin && !mpi_ok(env, MPI_Finalize(), "MPI_Finalize")) return NULL;
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
