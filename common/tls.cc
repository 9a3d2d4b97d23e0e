#include "common/tls.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/logging.h"

namespace mr {

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag,
                                    const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFileToString(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": cannot read ", path, ": ", pem.status().message()));
  }
  if (pem->find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": ", path, " is not a PEM file"));
  }
  return pem;
}

}  // namespace

absl::StatusOr<TlsConfig> TlsConfig::Load(const TlsFiles& files,
                                          bool need_identity) {
  TlsConfig config;
  if (files.ca_file.empty() && files.cert_file.empty() &&
      files.key_file.empty()) {
    return config;
  }
  if (files.ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert/--tls_key need --tls_ca (the CA that signs the cluster's "
        "certificates)");
  }
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key go together");
  }
  if (need_identity && files.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs --tls_ca, --tls_cert and --tls_key: the daemon presents "
        "its certificate to clients and to the other daemons");
  }
  auto ca = ReadPem("tls_ca", files.ca_file);
  if (!ca.ok()) return ca.status();
  config.ca_pem_ = std::move(*ca);
  if (!files.cert_file.empty()) {
    auto cert = ReadPem("tls_cert", files.cert_file);
    if (!cert.ok()) return cert.status();
    auto key = ReadPem("tls_key", files.key_file);
    if (!key.ok()) return key.status();
    config.cert_pem_ = std::move(*cert);
    config.key_pem_ = std::move(*key);
  }
  return config;
}

std::shared_ptr<grpc::ServerCredentials> TlsConfig::ServerCredentials(
    ClientCertPolicy policy) const {
  if (!enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      policy == ClientCertPolicy::kRequire
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ca_pem_;
  options.pem_key_cert_pairs.push_back({key_pem_, cert_pem_});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> TlsConfig::ChannelCredentials()
    const {
  if (!enabled()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem_;
  options.pem_private_key = key_pem_;
  options.pem_cert_chain = cert_pem_;
  return grpc::SslCredentials(options);
}

std::string TlsConfig::Describe() const {
  if (!enabled()) return "PLAINTEXT";
  return cert_pem_.empty() ? "TLS" : "TLS (mutual)";
}

absl::Status RequireClusterPeer(const TlsConfig& tls,
                                const grpc::ServerContext& context,
                                const std::string& what) {
  if (!tls.enabled()) return absl::OkStatus();
  // With TLS, a peer identity exists only when the client presented a
  // certificate and the handshake verified it against the CA.
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) return absl::OkStatus();
  return absl::UnauthenticatedError(absl::StrCat(
      what, " needs the cluster's certificate (mutual TLS); ", context.peer(),
      " presented none"));
}

void WarnIfPlaintext(const TlsConfig& tls, const std::string& daemon) {
  if (tls.enabled()) return;
  MR_LOG(WARNING)
      << "*** " << daemon << " runs WITHOUT TLS: every RPC, job and shuffle "
      << "byte travels in the clear and any process that reaches this port "
      << "can join the cluster. Fine for a local demo on loopback; give "
      << "--tls_ca, --tls_cert and --tls_key anywhere else "
      << "(deploy/tls/make_dev_certs.sh). ***";
}

namespace {
TlsConfig* cluster_tls = nullptr;
}  // namespace

void SetClusterTls(TlsConfig tls) {
  delete cluster_tls;
  cluster_tls = new TlsConfig(std::move(tls));
}

const TlsConfig& ClusterTls() {
  static const TlsConfig* const plaintext = new TlsConfig();
  return cluster_tls != nullptr ? *cluster_tls : *plaintext;
}

std::shared_ptr<grpc::Channel> NewClusterChannel(
    const std::string& address, const grpc::ChannelArguments& args) {
  return grpc::CreateCustomChannel(address, ClusterTls().ChannelCredentials(),
                                   args);
}

}  // namespace mr
