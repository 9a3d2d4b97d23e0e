#include "client/internal/progress_printer.h"

#include <sstream>

#include <gtest/gtest.h>

namespace mr {
namespace client_internal {
namespace {

mrpb::JobStatus Progress(uint32_t md, uint32_t mt, uint32_t rd, uint32_t rt) {
  mrpb::JobStatus s;
  s.set_maps_done(md);
  s.set_maps_total(mt);
  s.set_reduces_done(rd);
  s.set_reduces_total(rt);
  return s;
}

TEST(ProgressPrinterTest, PlainPrintsALinePerChange) {
  std::ostringstream out;
  ProgressPrinter p(&out, /*live=*/false);
  p.Update(Progress(0, 8, 0, 4));
  p.Update(Progress(0, 8, 0, 4));
  p.Update(Progress(5, 8, 0, 4));
  p.Update(Progress(8, 8, 4, 4));
  p.Finish();
  EXPECT_EQ(out.str(),
            "maps 0/8 reduces 0/4\n"
            "maps 5/8 reduces 0/4\n"
            "maps 8/8 reduces 4/4\n");
}

TEST(ProgressPrinterTest, LiveRedrawsOneLine) {
  std::ostringstream out;
  ProgressPrinter p(&out, /*live=*/true, /*bar_width=*/12);
  p.Update(Progress(0, 0, 0, 0));
  p.Update(Progress(7, 8, 0, 4));
  p.Update(Progress(7, 8, 0, 4));
  p.Update(Progress(8, 8, 4, 4));
  p.Finish();
  EXPECT_EQ(out.str(),
            "\r[............] maps 0/0  reduces 0/0"
            "\r[#######.....] maps 7/8  reduces 0/4"
            "\r[############] maps 8/8  reduces 4/4\n");
}

TEST(ProgressPrinterTest, LiveBlanksALongerPreviousLine) {
  std::ostringstream out;
  ProgressPrinter p(&out, /*live=*/true, /*bar_width=*/4);
  p.Update(Progress(10, 10, 0, 10));
  p.Update(Progress(1, 2, 0, 1));  // a restarted master reports fewer digits
  p.Finish();
  EXPECT_EQ(out.str(),
            "\r[##..] maps 10/10  reduces 0/10"
            "\r[#...] maps 1/2  reduces 0/1   \n");
}

TEST(ProgressPrinterTest, LiveFinishWithoutUpdatePrintsNothing) {
  std::ostringstream out;
  ProgressPrinter p(&out, /*live=*/true);
  p.Finish();
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace client_internal
}  // namespace mr
