#include "master/path_claims.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

using Kind = PathClaims::Conflict::Kind;

PathClaims::Paths Job(const std::string& output, const std::string& staging,
                      std::vector<std::string> inputs,
                      std::vector<std::string> dirs = {}) {
  PathClaims::Paths p;
  p.output = output;
  p.staging = staging;
  p.inputs = std::move(inputs);
  p.input_dirs = std::move(dirs);
  return p;
}

TEST(PathClaimsTest, OwnOutputMustNotHoldAnInputNorLieInAnInputDirectory) {
  EXPECT_TRUE(PathClaims::CheckOwn(Job("/o", "/.o.j.staging", {"/in/a"}, {"/in"})).ok());

  PathClaims::Conflict c = PathClaims::CheckOwn(Job("/d", "/.d.j.staging", {"/d/a"}));
  EXPECT_EQ(c.kind, Kind::kPathsOverlap);
  EXPECT_EQ(c.message, "the output /d holds the input /d/a");

  c = PathClaims::CheckOwn(Job("/in/out", "/in/.out.j.staging", {"/in/a"}, {"/in"}));
  EXPECT_EQ(c.kind, Kind::kPathsOverlap);
  EXPECT_EQ(c.message, "the output /in/out lies inside the input directory /in");

  c = PathClaims::CheckOwn(Job("/in/a", "/in/.a.j.staging", {"/in/a"}));
  EXPECT_EQ(c.kind, Kind::kPathsOverlap);
  EXPECT_EQ(c.message, "the output /in/a is one of the inputs");

  // "/data2" is not inside "/data".
  EXPECT_TRUE(PathClaims::CheckOwn(Job("/data2", "/.data2.j.staging", {"/data/a"},
                                       {"/data"}))
                  .ok());
}

TEST(PathClaimsTest, RunningOutputsMayNeitherBeEqualNorNest) {
  PathClaims claims;
  claims.Add("job-000001", Job("/r/out", "/r/.out.job-000001.staging", {"/in/a"}));

  PathClaims::Conflict c =
      claims.Check(Job("/r/out", "/r/.out.job-000002.staging", {"/in/b"}));
  EXPECT_EQ(c.kind, Kind::kOutputInUse);
  EXPECT_EQ(c.message, "the output /r/out is also the output of running job job-000001");

  c = claims.Check(Job("/r/out/sub", "/r/out/.sub.job-000002.staging", {"/in/b"}));
  EXPECT_EQ(c.kind, Kind::kOutputInUse);
  EXPECT_EQ(c.message,
            "the output /r/out/sub lies inside /r/out, the output of running job "
            "job-000001");

  c = claims.Check(Job("/r", "/.r.job-000002.staging", {"/in/b"}));
  EXPECT_EQ(c.kind, Kind::kOutputInUse);
  EXPECT_EQ(c.message,
            "the output /r holds /r/out, the output of running job job-000001");

  // Siblings are fine, "/r/out2" included.
  EXPECT_TRUE(claims.Check(Job("/r/out2", "/r/.out2.job-000002.staging", {"/in/b"})).ok());

  claims.Remove("job-000001");
  EXPECT_TRUE(claims.Check(Job("/r/out", "/r/.out.job-000002.staging", {"/in/b"})).ok());
}

TEST(PathClaimsTest, InputsMustNotLieInARunningOutputNorBeHeldByANewOutput) {
  PathClaims claims;
  claims.Add("job-000001",
             Job("/r/out", "/r/.out.job-000001.staging", {"/data/z", "/data/a"}));

  PathClaims::Conflict c = claims.Check(
      Job("/x", "/.x.job-000002.staging", {"/data/b", "/r/out/part-r-00000"}));
  EXPECT_EQ(c.kind, Kind::kPathsOverlap);
  EXPECT_EQ(c.message,
            "the input /r/out/part-r-00000 lies inside /r/out, the output of "
            "running job job-000001");

  c = claims.Check(Job("/x", "/.x.job-000002.staging",
                       {"/r/.out.job-000001.staging/part-r-00000"}));
  EXPECT_EQ(c.kind, Kind::kPathsOverlap);
  EXPECT_EQ(c.message,
            "the input /r/.out.job-000001.staging/part-r-00000 lies inside "
            "/r/.out.job-000001.staging, the staging directory of running job "
            "job-000001");

  // The new output would replace a directory holding a running job's input.
  c = claims.Check(Job("/data", "/.data.job-000002.staging", {"/in/b"}));
  EXPECT_EQ(c.kind, Kind::kPathsOverlap);
  EXPECT_EQ(c.message, "the output /data holds /data/a, an input of running job job-000001");

  // Reading what a running job reads is fine; so is a path that only shares
  // a prefix.
  EXPECT_TRUE(claims.Check(Job("/x", "/.x.job-000002.staging",
                               {"/data/a", "/r/out-old/part-r-00000", "/r/out.txt"}))
                  .ok());
  EXPECT_TRUE(claims.Check(Job("/dat", "/.dat.job-000002.staging", {"/in/b"})).ok());
}

}  // namespace
}  // namespace mr
