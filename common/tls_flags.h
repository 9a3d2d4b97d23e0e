// The daemons' TLS flags (--tls_ca, --tls_cert, --tls_key), defined once for
// mr-master and mr-worker. mrctl has its own command line (client/).
#ifndef MR_COMMON_TLS_FLAGS_H_
#define MR_COMMON_TLS_FLAGS_H_

#include "common/tls.h"

namespace mr {

TlsFiles TlsFilesFromFlags();

}  // namespace mr

#endif  // MR_COMMON_TLS_FLAGS_H_
