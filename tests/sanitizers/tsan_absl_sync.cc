// ThreadSanitizer annotations for Debian's uninstrumented absl::Mutex and
// absl::CondVar. Linked into every executable of the thread build only
// (MR_SANITIZE=thread, top-level CMakeLists.txt).
//
// Why: Debian's libabsl_synchronization is not built with TSan, and
// absl::Mutex synchronizes with atomics and futexes of its own, not with
// pthread calls TSan intercepts. TSan then sees no lock at all and reports
// every pair of accesses to guarded state as a race. An instrumented Abseil
// tells TSan about its locks with the __tsan_mutex_* annotations
// (ABSL_TSAN_MUTEX_* in absl's mutex.cc); this file adds the same
// annotations around the library's functions: each is defined here and
// calls the library's own, found with dlsym(RTLD_NEXT). The executable's
// definitions interpose for every caller, our code and gRPC alike
// (ENABLE_EXPORTS puts them in the dynamic symbol table).
//
// While a lock or unlock is in progress TSan ignores memory accesses, as in
// Abseil's own build: a Condition is evaluated inside the library, possibly
// by the unlocking thread, under the lock's protection. Await and the
// CondVar waits release the mutex and take it again, and are annotated as
// an unlock followed by a lock.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#define MR_STR2(x) #x
#define MR_STR(x) MR_STR2(x)

namespace {

// The Itanium-mangled name of absl::<inline namespace>::<cls>::<tail>,
// e.g. Mangled("Mutex", "4LockEv").
std::string Mangled(const char* cls, const char* tail) {
  std::string ns = MR_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  std::string c = cls;
  return "_ZN4absl" + std::to_string(ns.size()) + ns + std::to_string(c.size()) +
         c + tail;
}

// The library's definition of the named function, looked up once.
template <typename Fn>
Fn Real(const char* cls, const char* tail) {
  std::string name = Mangled(cls, tail);
  void* sym = dlsym(RTLD_NEXT, name.c_str());
  if (sym == nullptr) {
    fprintf(stderr, "tsan_absl_sync: no %s in the loaded libraries\n",
            name.c_str());
    abort();
  }
  return reinterpret_cast<Fn>(sym);
}

// The library's functions call one another (AwaitWithTimeout calls
// AwaitWithDeadline, through the PLT, so through this file): only the
// outermost call on a thread is annotated.
thread_local int annotated_depth = 0;

class Nesting {
 public:
  Nesting() { ++annotated_depth; }
  ~Nesting() { --annotated_depth; }
  Nesting(const Nesting&) = delete;
  Nesting& operator=(const Nesting&) = delete;
  bool outermost() const { return annotated_depth == 1; }
};

// Defines `real`, the library's function, and calls it straight away
// (with the arguments given) when this call is nested in an annotated one.
#define MR_REAL(Fn, cls, tail, ...)                 \
  static const Fn real = Real<Fn>(cls, tail);       \
  Nesting nesting;                                  \
  if (!nesting.outermost()) return real(__VA_ARGS__)

using MutexFn = void (*)(absl::Mutex*);
using MutexBoolFn = bool (*)(absl::Mutex*);
using CondFn = void (*)(absl::Mutex*, const absl::Condition&);
using CondTimeoutFn = bool (*)(absl::Mutex*, const absl::Condition&,
                               absl::Duration);
using CondDeadlineFn = bool (*)(absl::Mutex*, const absl::Condition&,
                                absl::Time);

// A wait that gives the mutex up and takes it again.
void BeforeRelease(absl::Mutex* mu, unsigned flags) {
  __tsan_mutex_pre_unlock(mu, flags);
}
void AfterReacquire(absl::Mutex* mu, unsigned flags) {
  __tsan_mutex_post_unlock(mu, flags);
  __tsan_mutex_pre_lock(mu, flags);
  __tsan_mutex_post_lock(mu, flags, 0);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

Mutex::~Mutex() {
  static const MutexFn real = Real<MutexFn>("Mutex", "D1Ev");
  __tsan_mutex_destroy(this, __tsan_mutex_not_static);
  real(this);
}

void Mutex::Lock() {
  MR_REAL(MutexFn, "Mutex", "4LockEv", this);
  __tsan_mutex_pre_lock(this, 0);
  real(this);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::ReaderLock() {
  MR_REAL(MutexFn, "Mutex", "10ReaderLockEv", this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
}

bool Mutex::TryLock() {
  MR_REAL(MutexBoolFn, "Mutex", "7TryLockEv", this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  bool locked = real(this);
  __tsan_mutex_post_lock(
      this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed),
      0);
  return locked;
}

bool Mutex::ReaderTryLock() {
  MR_REAL(MutexBoolFn, "Mutex", "13ReaderTryLockEv", this);
  const unsigned flags = __tsan_mutex_read_lock | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(this, flags);
  bool locked = real(this);
  __tsan_mutex_post_lock(
      this, flags | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::Unlock() {
  MR_REAL(MutexFn, "Mutex", "6UnlockEv", this);
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderUnlock() {
  MR_REAL(MutexFn, "Mutex", "12ReaderUnlockEv", this);
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

void Mutex::LockWhen(const Condition& cond) {
  MR_REAL(CondFn, "Mutex", "8LockWhenERKNS0_9ConditionE", this, cond);
  __tsan_mutex_pre_lock(this, 0);
  real(this, cond);
  __tsan_mutex_post_lock(this, 0, 0);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  MR_REAL(CondTimeoutFn, "Mutex",
          "19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE", this, cond, timeout);
  __tsan_mutex_pre_lock(this, 0);
  bool met = real(this, cond, timeout);
  __tsan_mutex_post_lock(this, 0, 0);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  MR_REAL(CondDeadlineFn, "Mutex",
          "20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE", this, cond, deadline);
  __tsan_mutex_pre_lock(this, 0);
  bool met = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, 0, 0);
  return met;
}

void Mutex::Await(const Condition& cond) {
  MR_REAL(CondFn, "Mutex", "5AwaitERKNS0_9ConditionE", this, cond);
  BeforeRelease(this, 0);
  real(this, cond);
  AfterReacquire(this, 0);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  MR_REAL(CondTimeoutFn, "Mutex",
          "16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE", this, cond, timeout);
  BeforeRelease(this, 0);
  bool met = real(this, cond, timeout);
  AfterReacquire(this, 0);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  MR_REAL(CondDeadlineFn, "Mutex",
          "17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE", this, cond, deadline);
  BeforeRelease(this, 0);
  bool met = real(this, cond, deadline);
  AfterReacquire(this, 0);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  using Fn = void (*)(CondVar*, Mutex*);
  MR_REAL(Fn, "CondVar", "4WaitEPNS0_5MutexE", this, mu);
  BeforeRelease(mu, 0);
  real(this, mu);
  AfterReacquire(mu, 0);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  using Fn = bool (*)(CondVar*, Mutex*, absl::Duration);
  MR_REAL(Fn, "CondVar", "15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE",
          this, mu, timeout);
  BeforeRelease(mu, 0);
  bool timed_out = real(this, mu, timeout);
  AfterReacquire(mu, 0);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  using Fn = bool (*)(CondVar*, Mutex*, absl::Time);
  MR_REAL(Fn, "CondVar", "16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE",
          this, mu, deadline);
  BeforeRelease(mu, 0);
  bool timed_out = real(this, mu, deadline);
  AfterReacquire(mu, 0);
  return timed_out;
}

ABSL_NAMESPACE_END
}  // namespace absl
