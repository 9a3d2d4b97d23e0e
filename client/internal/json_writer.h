// mrctl's --json: a message as JSON, in the shape of protobuf's own JSON
// mapping (lowerCamelCase names, enums by name, 64-bit integers as strings,
// every scalar and repeated field printed even when zero or empty, unset
// message fields left out), with two differences that make it fit for
// names that are byte strings:
//  - `bytes` fields are strings, not base64: a path reads as a path. Bytes
//    that are not UTF-8 are escaped as lone surrogates \udcNN (see
//    common/names.h: JsonString), so a script can get the exact bytes back.
//  - repeated mrpb.Counter and mrpb.Param fields are objects
//    ({"name": "value"}), as the maps they stand for would print.
#ifndef MR_CLIENT_INTERNAL_JSON_WRITER_H_
#define MR_CLIENT_INTERNAL_JSON_WRITER_H_

#include <string>

#include <google/protobuf/message.h>

namespace mr {
namespace client_internal {

// Indented by one space a level (as protobuf's printer does), ending in
// '\n'.
std::string ToJson(const google::protobuf::Message& msg);

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_JSON_WRITER_H_
