// Whether this binary was built with a sanitizer (tests/sanitize.sh,
// tests/fuzz.sh): the few places whose behaviour must differ ask here.
#ifndef MR_COMMON_SANITIZERS_H_
#define MR_COMMON_SANITIZERS_H_

#ifndef __has_feature
#define __has_feature(x) 0
#endif

namespace mr {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

}  // namespace mr

#endif  // MR_COMMON_SANITIZERS_H_
