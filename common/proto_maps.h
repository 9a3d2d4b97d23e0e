// Job parameters and counters cross the wire as repeated (bytes, value)
// pairs (job.proto's Param and Counter): a map<string, ...> in proto3 would
// refuse a name that is not UTF-8. These convert them to and from the
// std::map the job API and the engine use.
#ifndef MR_COMMON_PROTO_MAPS_H_
#define MR_COMMON_PROTO_MAPS_H_

#include <cstdint>
#include <map>
#include <string>

#include <google/protobuf/repeated_field.h>

#include "proto/job.pb.h"

namespace mr {

using ParamMap = std::map<std::string, std::string>;
using CounterMap = std::map<std::string, int64_t>;

// A key given twice: the last value wins (as on mrctl's command line).
ParamMap ParamsFromProto(
    const google::protobuf::RepeatedPtrField<mrpb::Param>& params);
// Sets `key` to `value` in `spec`'s params, replacing an earlier value.
void SetParam(mrpb::JobSpec* spec, const std::string& key,
              const std::string& value);

// A name given twice: its values are summed.
CounterMap CountersFromProto(
    const google::protobuf::RepeatedPtrField<mrpb::Counter>& counters);
// Replaces `*out` with `counters`, in name order.
void CountersToProto(const CounterMap& counters,
                     google::protobuf::RepeatedPtrField<mrpb::Counter>* out);

}  // namespace mr

#endif  // MR_COMMON_PROTO_MAPS_H_
