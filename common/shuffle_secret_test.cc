#include "common/shuffle_secret.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace mr {
namespace {

TEST(ShuffleSecretTest, SecretsAreRandomAndFullSize) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string s = NewShuffleSecret();
    ASSERT_EQ(s.size(), kShuffleSecretBytes);
    EXPECT_TRUE(seen.insert(s).second) << "a secret came twice";
  }
}

TEST(ShuffleSecretTest, MatchesOnlyTheSameBytes) {
  const std::string a = NewShuffleSecret();
  std::string b = a;
  EXPECT_TRUE(ShuffleSecretMatches(a, b));
  b.back() ^= 1;
  EXPECT_FALSE(ShuffleSecretMatches(a, b));
  b = a;
  b.front() ^= 0x80;
  EXPECT_FALSE(ShuffleSecretMatches(a, b));
  EXPECT_FALSE(ShuffleSecretMatches(a, a.substr(0, a.size() - 1)));
  EXPECT_FALSE(ShuffleSecretMatches(a, ""));
  // No secret expected: nothing matches, not even nothing.
  EXPECT_FALSE(ShuffleSecretMatches("", ""));
}

}  // namespace
}  // namespace mr
