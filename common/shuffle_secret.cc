#include "common/shuffle_secret.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mr {
namespace {

// Fills buf[0, n) from `read_some` (which returns bytes read, or -1 with
// errno); false on an error other than EINTR.
template <typename ReadSome>
bool FillFrom(char* buf, size_t n, ReadSome read_some) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read_some(buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += r;
  }
  return true;
}

}  // namespace

std::string NewShuffleSecret() {
  std::string secret(kShuffleSecretBytes, '\0');
  char* buf = secret.data();
  if (FillFrom(buf, secret.size(), [](char* p, size_t n) {
        return getrandom(p, n, 0);
      })) {
    return secret;
  }
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  const bool ok =
      fd >= 0 && FillFrom(buf, secret.size(), [fd](char* p, size_t n) {
        return read(fd, p, n);
      });
  if (fd >= 0) close(fd);
  if (!ok) {
    fprintf(stderr, "FATAL: no randomness for a shuffle secret: %s\n",
            strerror(errno));
    abort();
  }
  return secret;
}

bool ShuffleSecretMatches(absl::string_view expected, absl::string_view given) {
  if (expected.empty() || expected.size() != given.size()) return false;
  // Every byte is compared, whatever the first difference: the time a
  // refusal takes tells nothing of how much of the secret was right.
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i]) ^
            static_cast<unsigned char>(given[i]);
  }
  return diff == 0;
}

}  // namespace mr
