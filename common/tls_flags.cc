#include "common/tls_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signs the cluster's certificates. With "
          "--tls_cert and --tls_key: TLS on every connection, and mutual TLS "
          "between master and workers. Without all three: plaintext (a "
          "warning is logged).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file of this daemon's certificate (chain), signed by --tls_ca.");
ABSL_FLAG(std::string, tls_key, "", "PEM file of --tls_cert's private key.");

namespace mr {

TlsFiles TlsFilesFromFlags() {
  TlsFiles files;
  files.ca_file = absl::GetFlag(FLAGS_tls_ca);
  files.cert_file = absl::GetFlag(FLAGS_tls_cert);
  files.key_file = absl::GetFlag(FLAGS_tls_key);
  return files;
}

}  // namespace mr
