// Whether this binary was built with a sanitizer (tests/sanitize.sh,
// tests/fuzz.sh): the few places whose behaviour must differ ask here.
#ifndef MR_COMMON_SANITIZERS_H_
#define MR_COMMON_SANITIZERS_H_

#ifndef __has_feature
#define __has_feature(x) 0
#endif

#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define MR_TSAN 1
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace mr {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

// A happens-before edge that ThreadSanitizer cannot see by itself: what a
// thread did before TsanRelease(p) happens before what another thread does
// after a later TsanAcquire(p). For handoffs made inside uninstrumented
// libraries, such as gRPC running a callback reactor's reactions one after
// another on its own threads; no-ops in every other build.
inline void TsanRelease(void* p) {
#ifdef MR_TSAN
  __tsan_release(p);
#endif
}
inline void TsanAcquire(void* p) {
#ifdef MR_TSAN
  __tsan_acquire(p);
#endif
}

}  // namespace mr

#endif  // MR_COMMON_SANITIZERS_H_
