#include "client/internal/text_table.h"

#include <gtest/gtest.h>

namespace mr {
namespace client_internal {
namespace {

TEST(TextTableTest, AlignsColumnsAndTrimsLineEnds) {
  TextTable t({{"NAME"}, {"N", TextTable::kRight}, {"NOTE"}});
  t.AddRow({"a", "1000", "x"});
  t.AddRow({"longer", "7", ""});
  EXPECT_EQ(t.Render(),
            "NAME       N  NOTE\n"
            "a       1000  x\n"
            "longer     7\n");
}

TEST(TextTableTest, HeaderOnly) {
  TextTable t({{"A"}, {"B"}});
  EXPECT_EQ(t.Render(), "A  B\n");
}

}  // namespace
}  // namespace client_internal
}  // namespace mr
