#include "common/proto_maps.h"

namespace mr {

ParamMap ParamsFromProto(
    const google::protobuf::RepeatedPtrField<mrpb::Param>& params) {
  ParamMap out;
  for (const mrpb::Param& p : params) out[p.key()] = p.value();
  return out;
}

void SetParam(mrpb::JobSpec* spec, const std::string& key,
              const std::string& value) {
  for (mrpb::Param& p : *spec->mutable_params()) {
    if (p.key() == key) {
      p.set_value(value);
      return;
    }
  }
  mrpb::Param* p = spec->add_params();
  p->set_key(key);
  p->set_value(value);
}

}  // namespace mr
