#!/usr/bin/env bash
# Makes a development CA and the certificates a cluster needs, with openssl:
#
#   deploy/tls/make_dev_certs.sh OUT_DIR [--san NAME]... [--days N]
#
# OUT_DIR/ca.crt           the cluster's CA (give it to every daemon and client
#                          as --tls_ca; clients verify the master with it)
# OUT_DIR/ca.key           the CA's key (keep it off the cluster)
# OUT_DIR/daemon.crt/.key  the certificate master and workers present, both as
#                          servers and as clients of each other (mutual TLS):
#                          --tls_cert/--tls_key. Its subject alternative names
#                          are localhost, 127.0.0.1 and every --san (a DNS name,
#                          a wildcard such as *.mr-worker.mr.svc.cluster.local,
#                          or an IP address).
#
# For development and tests only: a production cluster gets its certificates
# from its own CA (cert-manager, a corporate PKI). Existing files are replaced.
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR [--san NAME]... [--days N]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
out=$1; shift
sans=(DNS:localhost IP:127.0.0.1)
days=365
while [[ $# -gt 0 ]]; do
  case "$1" in
    --san)
      [[ $# -ge 2 && -n "$2" ]] || usage
      if [[ "$2" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$2" == *:* ]]; then
        sans+=("IP:$2")
      else
        sans+=("DNS:$2")
      fi
      shift 2 ;;
    --days)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage
      days=$2; shift 2 ;;
    *) usage ;;
  esac
done
command -v openssl >/dev/null || { echo "$0: openssl not found (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$out"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$out/ca.key" -out "$out/ca.crt" -days "$days" \
  -subj "/O=mapreduce/CN=mapreduce dev CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$tmp/log" \
  || { cat "$tmp/log" >&2; exit 1; }

san_line=$(IFS=,; echo "${sans[*]}")
cat > "$tmp/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san_line
CNF
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$out/daemon.key" -out "$tmp/daemon.csr" \
  -subj "/O=mapreduce/CN=mapreduce daemon" 2>"$tmp/log" \
  || { cat "$tmp/log" >&2; exit 1; }
openssl x509 -req -in "$tmp/daemon.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
  -CAcreateserial -CAserial "$tmp/ca.srl" -out "$out/daemon.crt" -days "$days" \
  -extfile "$tmp/ext.cnf" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
chmod 644 "$out/ca.crt" "$out/daemon.crt"
echo "$out: ca.crt ca.key daemon.crt daemon.key (SANs: $san_line)"
