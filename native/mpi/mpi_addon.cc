// graft_mpi: the collectives graft's data-parallel training needs, on MPI (Open MPI from Debian), as an optional
// addon of its own (built only where MPI is installed; see binding.gyp and scripts/mpi-flags.mjs).
//
// Threads: MPI is initialized with MPI_THREAD_FUNNELED and every call comes from Node's main thread (the kernels'
// thread pool and Node's worker threads never call MPI). Every collective is non-blocking underneath
// (MPI_Iallreduce / MPI_Ibcast / MPI_Ibarrier) and completed by polling MPI_Test with a deadline, so a rank that
// died makes the others fail with an error instead of hanging (the watchdog); the blocking JS calls are
// start + wait. Open MPI progresses a non-blocking collective only inside MPI calls, so the trainer calls test()
// between backward steps to move the started buckets along.
#include <mpi.h>
#include <napi.h>
#include <dlfcn.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

struct Pending {
  MPI_Request request = MPI_REQUEST_NULL;
  Napi::ObjectReference buffer;  // keeps the typed array alive while MPI writes into it
  float* data = nullptr;
  size_t length = 0;
  float scale = 1.0f;
  std::string what;
};

bool initialized = false;
bool finalized = false;
int worldRank = 0, worldSize = 1;
double defaultTimeout = 300.0;  // seconds a collective may take before the watchdog fails it
int nextHandle = 1;
std::unordered_map<int, Pending> pending;

std::string errorString(int code) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return std::string(msg, len);
}

void check(Napi::Env env, int code, const char* what) {
  if (code != MPI_SUCCESS) throw Napi::Error::New(env, std::string("MPI ") + what + " failed: " + errorString(code));
}

void requireInit(Napi::Env env) {
  if (!initialized || finalized) throw Napi::Error::New(env, "graft_mpi: MPI is not initialized (call init() first)");
}

// Polls one request until it completes or `timeout` seconds pass; true when it completed.
bool poll(Napi::Env env, MPI_Request* req, double timeout, const char* what) {
  auto start = std::chrono::steady_clock::now();
  int spins = 0;
  for (;;) {
    int done = 0;
    check(env, MPI_Test(req, &done, MPI_STATUS_IGNORE), what);
    if (done) return true;
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > timeout) return false;
    if (++spins > 1000) {
      struct timespec ts = {0, 50000};  // 50 us: a waiting rank leaves its core to the others on the host
      nanosleep(&ts, nullptr);
    }
  }
}

std::string timeoutMessage(const std::string& what, double timeout) {
  return "graft_mpi: rank " + std::to_string(worldRank) + " of " + std::to_string(worldSize) + ": " + what +
         " did not complete within " + std::to_string(static_cast<int>(timeout)) +
         " s (GRAFT_MPI_TIMEOUT); another rank has died or stopped";
}

double timeoutArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsNumber()) return info[i].As<Napi::Number>().DoubleValue();
  return defaultTimeout;
}

Napi::Float32Array floatArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected a Float32Array");
  return info[i].As<Napi::Float32Array>();
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (finalized) throw Napi::Error::New(env, "graft_mpi: MPI was finalized and cannot start again");
  if (!initialized) {
    // Open MPI loads its components as plugins that need libmpi's symbols global; Node opened this addon locally
    dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    int provided = 0;
    check(env, MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &worldRank);
    MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
    initialized = true;
  }
  if (info.Length() > 0 && info[0].IsNumber()) defaultTimeout = info[0].As<Napi::Number>().DoubleValue();
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", worldRank);
  out.Set("size", worldSize);
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  out.Set("host", std::string(name, len));
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  MPI_Get_library_version(lib, &len);
  std::string libv(lib, len);
  size_t nl = libv.find_first_of("\n,");
  out.Set("library", nl == std::string::npos ? libv : libv.substr(0, nl));
  out.Set("standard", std::to_string(major) + "." + std::to_string(minor));
  return out;
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  if (initialized && !finalized) {
    for (auto& [id, p] : pending) MPI_Request_free(&p.request);
    pending.clear();
    MPI_Finalize();
    finalized = true;
  }
  return info.Env().Undefined();
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  return info.Env().Undefined();
}

void applyScale(Pending& p) {
  if (p.scale != 1.0f)
    for (size_t i = 0; i < p.length; i++) p.data[i] *= p.scale;
}

// iallreduce(buf: Float32Array, scale = 1): starts an in-place sum over all ranks (times scale on completion)
Napi::Value Iallreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireInit(env);
  Napi::Float32Array buf = floatArg(info, 0, "iallreduce");
  Pending p;
  p.data = buf.Data();
  p.length = buf.ElementLength();
  p.scale = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().FloatValue() : 1.0f;
  p.what = "the all-reduce of " + std::to_string(p.length) + " floats";
  check(env,
        MPI_Iallreduce(MPI_IN_PLACE, p.data, static_cast<int>(p.length), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                       &p.request),
        "Iallreduce");
  p.buffer = Napi::Persistent(buf.As<Napi::Object>());
  int id = nextHandle++;
  pending.emplace(id, std::move(p));
  return Napi::Number::New(env, id);
}

Pending& findPending(Napi::Env env, const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, std::string(fn) + ": expected a handle");
  auto it = pending.find(info[0].As<Napi::Number>().Int32Value());
  if (it == pending.end()) throw Napi::Error::New(env, std::string(fn) + ": unknown or completed handle");
  return it->second;
}

// test(handle): whether a started all-reduce completed (then its result is in the buffer); progresses it
Napi::Value Test(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireInit(env);
  Pending& p = findPending(env, info, "test");
  int done = 0;
  check(env, MPI_Test(&p.request, &done, MPI_STATUS_IGNORE), "Test");
  if (done) {
    applyScale(p);
    pending.erase(info[0].As<Napi::Number>().Int32Value());
  }
  return Napi::Boolean::New(env, done != 0);
}

// wait(handle, timeoutSeconds?): completes a started all-reduce, or throws when the watchdog's deadline passes
Napi::Value Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireInit(env);
  Pending& p = findPending(env, info, "wait");
  double timeout = timeoutArg(info, 1);
  if (!poll(env, &p.request, timeout, "Wait")) throw Napi::Error::New(env, timeoutMessage(p.what, timeout));
  applyScale(p);
  pending.erase(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

// allreduce(buf: Float32Array, scale = 1, timeoutSeconds?): in-place sum over all ranks, times scale
Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireInit(env);
  Napi::Float32Array buf = floatArg(info, 0, "allreduce");
  float scale = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().FloatValue() : 1.0f;
  double timeout = timeoutArg(info, 2);
  MPI_Request req;
  check(env,
        MPI_Iallreduce(MPI_IN_PLACE, buf.Data(), static_cast<int>(buf.ElementLength()), MPI_FLOAT, MPI_SUM,
                       MPI_COMM_WORLD, &req),
        "Iallreduce");
  if (!poll(env, &req, timeout, "Allreduce"))
    throw Napi::Error::New(env, timeoutMessage("an all-reduce of " + std::to_string(buf.ElementLength()) + " floats", timeout));
  if (scale != 1.0f)
    for (size_t i = 0; i < buf.ElementLength(); i++) buf.Data()[i] *= scale;
  return env.Undefined();
}

// broadcast(buf: TypedArray, root = 0, timeoutSeconds?): root's bytes into every rank's buffer
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireInit(env);
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "broadcast: expected a typed array");
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  int root = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  double timeout = timeoutArg(info, 2);
  uint8_t* data = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  MPI_Request req;
  check(env, MPI_Ibcast(data, static_cast<int>(arr.ByteLength()), MPI_BYTE, root, MPI_COMM_WORLD, &req), "Ibcast");
  if (!poll(env, &req, timeout, "Broadcast"))
    throw Napi::Error::New(env, timeoutMessage("a broadcast of " + std::to_string(arr.ByteLength()) + " bytes", timeout));
  return env.Undefined();
}

// barrier(timeoutSeconds?)
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireInit(env);
  double timeout = timeoutArg(info, 0);
  MPI_Request req;
  check(env, MPI_Ibarrier(MPI_COMM_WORLD, &req), "Ibarrier");
  if (!poll(env, &req, timeout, "Barrier")) throw Napi::Error::New(env, timeoutMessage("a barrier", timeout));
  return env.Undefined();
}

Napi::Value Rank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), worldRank); }
Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), worldSize); }

Napi::Object ModuleInit(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("rank", Napi::Function::New(env, Rank));
  exports.Set("size", Napi::Function::New(env, Size));
  exports.Set("allreduce", Napi::Function::New(env, Allreduce));
  exports.Set("iallreduce", Napi::Function::New(env, Iallreduce));
  exports.Set("test", Napi::Function::New(env, Test));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  return exports;
}

}  // namespace

NODE_API_MODULE(graft_mpi, ModuleInit)
