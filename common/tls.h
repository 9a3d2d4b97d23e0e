// TLS for every gRPC channel of the cluster: client -> master, worker ->
// master, worker -> worker (shuffle). Certificates come from PEM files given
// by flags (--tls_ca, --tls_cert, --tls_key); deploy/tls/make_dev_certs.sh
// makes a development set.
//
// Daemons (master, workers) hold the cluster's certificate and present it
// both as servers and as clients of each other (mutual TLS): the master's
// worker-facing RPCs and every worker's shuffle service serve only peers
// whose certificate the cluster's CA signed. Clients (mrctl) need only the
// CA, to verify the master; they authenticate with a bearer token instead.
//
// Without any of the files the cluster runs in plaintext (the local demo,
// the tests on loopback); the daemons then say so loudly in their logs.
#ifndef MR_COMMON_TLS_H_
#define MR_COMMON_TLS_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {

struct TlsFiles {
  std::string ca_file;    // the CA that signs the cluster's certificates
  std::string cert_file;  // this process's certificate chain
  std::string key_file;   // its private key
};

// Which clients a TLS server lets in.
enum class ClientCertPolicy {
  // A client may present a certificate (then it must verify against the CA)
  // or none: the master, serving both daemons and token-holding clients.
  kVerifyIfPresented,
  // Only clients with a verified certificate: the shuffle service.
  kRequire,
};

// Thread-safety: immutable after Load(); safe to share.
class TlsConfig {
 public:
  // Plaintext.
  TlsConfig() = default;

  // Reads the PEM files. All empty: plaintext. A daemon needs all three
  // (`need_identity`); a client needs the CA and may add a certificate and
  // key. The error names the flag and the file.
  static absl::StatusOr<TlsConfig> Load(const TlsFiles& files,
                                        bool need_identity);

  bool enabled() const { return !ca_pem_.empty(); }

  // REQUIRES: for TLS, has an identity (cert and key).
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
      ClientCertPolicy policy) const;

  // Presents this process's certificate when it has one.
  std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() const;

  // "TLS (mutual)" / "TLS" / "PLAINTEXT", for logs.
  std::string Describe() const;

 private:
  std::string ca_pem_;
  std::string cert_pem_;
  std::string key_pem_;
};

// OK when the cluster runs in plaintext (nothing to check), or when the peer
// of `context` presented a certificate that the cluster's CA signed.
// Otherwise UNAUTHENTICATED, naming `what` ("registering as a worker").
absl::Status RequireClusterPeer(const TlsConfig& tls,
                                const grpc::ServerContext& context,
                                const std::string& what);

// The loud warning a daemon logs at start when it runs without TLS.
void WarnIfPlaintext(const TlsConfig& tls, const std::string& daemon);

// The identity this process uses for its channels to the other daemons: set
// once at start (the worker's Init(), a task child's start) before any
// channel is made, like a flag; plaintext until then. It is process-wide
// because every channel a worker or task child opens (to the master, to a
// peer's shuffle service) presents the same certificate.
void SetClusterTls(TlsConfig tls);
const TlsConfig& ClusterTls();

// A channel to another daemon at `address`, with ClusterTls()'s credentials.
std::shared_ptr<grpc::Channel> NewClusterChannel(
    const std::string& address,
    const grpc::ChannelArguments& args = grpc::ChannelArguments());

}  // namespace mr

#endif  // MR_COMMON_TLS_H_
