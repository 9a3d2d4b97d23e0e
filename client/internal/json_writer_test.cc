#include "client/internal/json_writer.h"

#include "common/proto_maps.h"
#include "gtest/gtest.h"
#include "proto/client.pb.h"

namespace mr {
namespace client_internal {
namespace {

TEST(JsonWriterTest, PrintsBytesAsStringsAndCountersAsAnObject) {
  mrpb::JobStatus s;
  s.set_job_id("job-000007");
  s.set_state(mrpb::JOB_FAILED);
  s.set_maps_total(3);
  s.set_submit_time_ms(1700000000000);
  s.set_error("input /in/caf\xe9.txt: No such file or directory");
  s.add_input_files("/in/caf\xe9.txt");
  s.add_input_files("/in/na\xc3\xafve \"q\".txt");
  CountersToProto({{"caf\xe9 count", 2}, {"map input records", 10}},
                  s.mutable_counters());
  mrpb::RecordLocation* r = s.add_skipped_records();
  r->set_path("/in/a.txt");
  r->set_offset(42);
  EXPECT_EQ(ToJson(s),
            R"({
 "jobId": "job-000007",
 "state": "JOB_FAILED",
 "mapsTotal": 3,
 "mapsDone": 0,
 "mapsRunning": 0,
 "reducesTotal": 0,
 "reducesDone": 0,
 "reducesRunning": 0,
 "counters": {
  "caf\udce9 count": "2",
  "map input records": "10"
 },
 "error": "input /in/caf\udce9.txt: No such file or directory",
 "submitTimeMs": "1700000000000",
 "finishTimeMs": "0",
 "inputFiles": [
  "/in/caf\udce9.txt",
  "/in/na)" "\xc3\xaf" R"(ve \"q\".txt"
 ],
 "skippedRecords": [
  {
   "path": "/in/a.txt",
   "offset": "42",
   "key": "",
   "reason": ""
  }
 ],
 "malformedRecords": [],
 "retired": false,
 "partitions": [],
 "sampled": false,
 "owner": ""
}
)");
}

TEST(JsonWriterTest, NestedMessagesAndParams) {
  mrpb::SubmitJobResponse r;
  r.set_error(mrpb::SubmitJobResponse::OK);
  r.set_job_id("job-000001");
  r.set_num_maps(8);
  EXPECT_EQ(ToJson(r), R"({
 "error": "OK",
 "message": "",
 "jobId": "job-000001",
 "numMaps": 8,
 "duplicate": false
}
)");
  mrpb::JobSpec spec;
  SetParam(&spec, "pattern", "caf\xe9");
  const std::string json = ToJson(spec);
  EXPECT_NE(json.find("\"params\": {\n  \"pattern\": \"caf\\udce9\"\n }"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace client_internal
}  // namespace mr
