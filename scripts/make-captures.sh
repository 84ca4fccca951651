#!/usr/bin/env bash
# Regenerates the project's own TLS/DTLS captures in tests/captures/.
#
# Every capture is a real conversation between real TLS stacks (OpenSSL's
# s_server/s_client, GnuTLS's gnutls-serv/gnutls-cli) on the loopback
# interface, recorded with tcpdump. Each capture uses its own port so that a
# capture can only ever contain its own conversation, even when other programs
# use the loopback interface at the same time.
#
# Usage: scripts/make-captures.sh [OUT_DIR] [NAME...]
#   OUT_DIR defaults to tests/captures; with NAMEs only those captures are made.
# Needs: root (or CAP_NET_RAW) for tcpdump, openssl, gnutls-bin, tcpdump,
# python3, curl, ss (iproute2), timeout (coreutils); tls13-sigalgs-cert and
# tls12-heartbeat also need python3-venv and PyPI (tlslite-ng), and are skipped
# without them.
#
# The certificates are generated afresh in a temporary directory on every run,
# so regenerated captures differ byte for byte from the committed ones; the
# committed captures are the reference the tests use.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/tests/captures}
shift || true
ONLY=("$@")
# Ports below the Linux ephemeral range (32768-60999) so that no client's
# source port can collide with a capture's server port.
BASE_PORT=${CAPTURE_BASE_PORT:-24400}

for tool in openssl tcpdump gnutls-serv gnutls-cli python3 curl ss timeout; do
    command -v "$tool" >/dev/null || { echo "make-captures: $tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/make-captures.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    done
    if [ -n "${KEEP_WORK:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd) # the steps run in $WORK
cd "$WORK"

log() { echo "make-captures: $*" >&2; }

wanted() {
    local n
    [ ${#ONLY[@]} -eq 0 ] && return 0
    for n in "${ONLY[@]}"; do [ "$n" = "$1" ] && return 0; done
    return 1
}

# ---------------------------------------------------------------------------
# Certificates: a P-256 root CA, a P-256 server cert with SANs, a P-256 client
# cert, an RSA-2048 server cert (for RSA key exchange and DHE_RSA), a chain of
# four intermediates with a many-SAN leaf, and an unrelated CA for unknown_ca.
# ---------------------------------------------------------------------------
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() { # name cn
    ec_key "$1.key"
    openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem" 2>/dev/null
}

sign() { # name cn issuer serial extfile
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "$4" \
        -days 3650 -sha256 -extfile "$5" -out "$1.pem" 2>/dev/null
}

make_certs() {
    make_ca ca "Test Root CA"
    make_ca otherca "Unrelated Root CA"

    cat >server.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:server.example.test,DNS:www.example.test,IP:127.0.0.1
EOF
    cat >client.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:client.example.test
EOF
    cat >inter.ext <<'EOF'
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
EOF

    ec_key server.key
    sign server server.example.test ca 0x1001 server.ext
    ec_key client.key
    sign client client.example.test ca 0x1002 client.ext
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
    sign rsa server.example.test ca 0x1003 server.ext

    # A chain of four intermediates, then a leaf with 60 SANs.
    local issuer=ca i
    : >chain.pem
    for i in 1 2 3 4; do
        ec_key "int$i.key"
        sign "int$i" "Test Intermediate CA $i" "$issuer" "0x200$i" inter.ext
        cat "int$i.pem" >>chain.pem
        issuer=int$i
    done
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature"
        echo "extendedKeyUsage=serverAuth"
        printf 'subjectAltName=DNS:server.example.test'
        for i in $(seq 1 60); do printf ',DNS:host%02d.many-names.example.test' "$i"; done
        echo
    } >big.ext
    ec_key big.key
    sign big server.example.test int4 0x3001 big.ext

    # An OCSP response ("good") for the server certificate, signed by the CA.
    printf 'V\t491231235959Z\t\t1001\tunknown\t/CN=server.example.test\n' >index.txt
    openssl ocsp -issuer ca.pem -cert server.pem -no_nonce -reqout ocsp-req.der 2>/dev/null
    openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem \
        -reqin ocsp-req.der -respout ocsp-resp.der -ndays 3650 >/dev/null 2>&1

    # A syntactically valid (but unverifiable) SCT list for the
    # signed_certificate_timestamp extension, served with -serverinfo.
    python3 - <<'EOF'
import base64, struct
sig = bytes(range(64))
sct = bytes([0]) + bytes(range(32)) + struct.pack(">Q", 1700000000000) + struct.pack(">H", 0) \
    + bytes([4, 3]) + struct.pack(">H", len(sig)) + sig
lst = struct.pack(">H", len(sct)) + sct
body = struct.pack(">H", len(lst)) + lst
ext = struct.pack(">HH", 18, len(body)) + body
b64 = base64.encodebytes(ext).decode()
open("sct.serverinfo", "w").write(
    "-----BEGIN SERVERINFO FOR signed_certificate_timestamp-----\n" + b64
    + "-----END SERVERINFO FOR signed_certificate_timestamp-----\n")
EOF
    # s_client -ct needs a CT log list; one (made-up) log keyed with the CA's key.
    printf 'enabled_logs = test\n[test]\ndescription = Test log\nkey = %s\n' \
        "$(openssl pkey -in ca.key -pubout -outform DER | base64 -w0)" >ct-logs.cnf
}

# ---------------------------------------------------------------------------
# Capture plumbing.
# ---------------------------------------------------------------------------
CAP_PID=
CAP_NAME=
CAP_N=0

next_port() { CAP_N=$((CAP_N + 1)); PORT=$((BASE_PORT + CAP_N)); }

wait_listen() { # proto(tcp|udp) port
    local i flag=-ltn
    [ "$1" = udp ] && flag=-lun
    for i in $(seq 1 100); do
        if ss -H "$flag" "sport = :$2" | grep -q .; then return 0; fi
        sleep 0.05
    done
    log "nothing listens on $1 port $2"
    return 1
}

port_free() { # port
    ! ss -H -ltnu "sport = :$1" | grep -q .
}

start_capture() { # name port
    CAP_NAME=$1
    port_free "$2" || { log "port $2 is busy; set CAPTURE_BASE_PORT"; exit 1; }
    rm -f "$WORK/$1.pcap" "$WORK/$1.tcpdump.log"
    # --immediate-mode -U: hand over and write each packet as it arrives (the
    # default ring-buffer timeout can lose the tail of a short capture); -Z root: keep writing as root in $WORK.
    tcpdump -i lo -U --immediate-mode -Z root -s 0 -w "$WORK/$1.pcap" "host 127.0.0.1 and port $2" \
        >"$WORK/$1.tcpdump.log" 2>&1 &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 1 100); do
        grep -qs "listening on" "$WORK/$1.tcpdump.log" && return 0
        sleep 0.05
    done
    log "tcpdump did not start: $(cat "$WORK/$1.tcpdump.log")"
    exit 1
}

stop_capture() {
    # Let the last FIN/ACKs reach the capture, then stop tcpdump with SIGINT so
    # it flushes and closes the file.
    sleep 0.5
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    cp "$WORK/$CAP_NAME.pcap" "$OUT/$CAP_NAME.pcap"
    chmod 644 "$OUT/$CAP_NAME.pcap"
    log "$CAP_NAME.pcap: $(grep 'packets captured' "$WORK/$CAP_NAME.tcpdump.log" || true)"
}

# Starts an OpenSSL server in the background; it serves N connections and exits.
# -rev makes it send each received line back reversed (server application data).
SRV_PID=
ossl_server() { # naccept args...
    local n=$1
    shift
    timeout 30 openssl s_server -accept "127.0.0.1:$PORT" -naccept "$n" "$@" \
        >>"$WORK/$CAP_NAME.server.log" 2>&1 </dev/null &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
}

wait_server() {
    local i
    for i in $(seq 1 100); do
        kill -0 "$SRV_PID" 2>/dev/null || return 0
        sleep 0.05
    done
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
}

# Runs an OpenSSL client that sends "hello" and closes (close_notify) after a
# second, so TLS 1.3 session tickets and the server's reply arrive first.
# A non-zero exit is tolerated: the alert captures fail on purpose.
ossl_client() { # args...
    { echo hello; sleep 1; } | timeout 15 openssl s_client -connect "127.0.0.1:$PORT" "$@" \
        >>"$WORK/$CAP_NAME.client.log" 2>&1 || true
}

CA=(-CAfile ca.pem -verify 5)
EC_SRV=(-cert server.pem -key server.key)
RSA_SRV=(-cert rsa.pem -key rsa.key)
SNI=(-servername server.example.test)
OLD=(-cipher 'DEFAULT:@SECLEVEL=0')

# A simple OpenSSL capture: one connection, given server and client options,
# separated by "--".
simple() { # name server-args... -- client-args...
    local name=$1
    shift
    next_port
    wanted "$name" || return 0
    local s=() c=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do s+=("$1"); shift; done
    shift
    c=("$@")
    start_capture "$name" "$PORT"
    ossl_server 1 -rev "${s[@]}"
    wait_listen tcp "$PORT"
    ossl_client "${c[@]}"
    wait_server
    stop_capture
}

# Two connections from the same client, the second resuming the first.
resumed() { # name server-args... -- client-args...
    local name=$1
    shift
    next_port
    wanted "$name" || return 0
    local s=() c=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do s+=("$1"); shift; done
    shift
    c=("$@")
    start_capture "$name" "$PORT"
    ossl_server 2 -rev "${s[@]}"
    wait_listen tcp "$PORT"
    rm -f sess.pem
    ossl_client "${c[@]}" -sess_out sess.pem
    ossl_client "${c[@]}" -sess_in sess.pem
    wait_server
    stop_capture
}

make_certs

# --- Protocol versions ------------------------------------------------------
simple tls10 "${EC_SRV[@]}" -tls1 "${OLD[@]}" -- "${CA[@]}" "${SNI[@]}" -tls1 "${OLD[@]}"
simple tls11 "${EC_SRV[@]}" -tls1_1 "${OLD[@]}" -- "${CA[@]}" "${SNI[@]}" -tls1_1 "${OLD[@]}"
simple tls12 "${EC_SRV[@]}" -tls1_2 -- "${CA[@]}" "${SNI[@]}" -tls1_2
simple tls13 "${EC_SRV[@]}" -tls1_3 -- "${CA[@]}" "${SNI[@]}" -tls1_3

# --- HelloRetryRequest: the client's only key share (X25519) is not acceptable.
simple tls13-hrr "${EC_SRV[@]}" -tls1_3 -groups P-256 -- \
    "${CA[@]}" "${SNI[@]}" -tls1_3 -groups X25519:P-256

# --- Resumption -------------------------------------------------------------
resumed tls12-resume-session-id "${EC_SRV[@]}" -tls1_2 -no_ticket -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2 -no_ticket
resumed tls12-resume-ticket "${EC_SRV[@]}" -tls1_2 -- "${CA[@]}" "${SNI[@]}" -tls1_2
resumed tls13-resume-psk "${EC_SRV[@]}" -tls1_3 -- "${CA[@]}" "${SNI[@]}" -tls1_3

# TLS 1.3 0-RTT: the second connection resumes and sends early data.
early_data() {
    local name=tls13-early-data
    next_port
    wanted "$name" || return 0
    start_capture "$name" "$PORT"
    # s_server reads early data only in its default (stdin) mode, not with -rev.
    { sleep 4; } | timeout 30 openssl s_server -accept "127.0.0.1:$PORT" -naccept 2 \
        "${EC_SRV[@]}" -tls1_3 -early_data >>"$WORK/$name.server.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    wait_listen tcp "$PORT"
    rm -f sess.pem
    echo "early data" >early.txt
    ossl_client "${CA[@]}" "${SNI[@]}" -tls1_3 -sess_out sess.pem
    ossl_client "${CA[@]}" "${SNI[@]}" -tls1_3 -sess_in sess.pem -early_data early.txt
    wait_server
    stop_capture
}
early_data

# --- Key exchange -----------------------------------------------------------
simple tls12-ecdhe "${EC_SRV[@]}" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2
simple tls12-dhe "${RSA_SRV[@]}" -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256 -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
simple tls12-rsa "${RSA_SRV[@]}" -tls1_2 -cipher AES128-GCM-SHA256 -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2 -cipher AES128-GCM-SHA256

# --- Client certificates ------------------------------------------------------
simple tls12-client-cert "${EC_SRV[@]}" -tls1_2 -Verify 1 -CAfile ca.pem -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2 -cert client.pem -key client.key
simple tls13-client-cert "${EC_SRV[@]}" -tls1_3 -Verify 1 -CAfile ca.pem -- \
    "${CA[@]}" "${SNI[@]}" -tls1_3 -cert client.pem -key client.key

# --- Extensions ---------------------------------------------------------------
simple tls12-ocsp "${EC_SRV[@]}" -tls1_2 -status_file ocsp-resp.der -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2 -status
simple tls12-alpn "${EC_SRV[@]}" -tls1_2 -alpn http/1.1 -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2 -alpn h2,http/1.1
simple tls13-alpn "${EC_SRV[@]}" -tls1_3 -alpn h2 -- \
    "${CA[@]}" "${SNI[@]}" -tls1_3 -alpn h2,http/1.1
simple tls12-sni-mismatch "${EC_SRV[@]}" -tls1_2 -- \
    -servername other.example.org -tls1_2
simple tls12-no-sni "${EC_SRV[@]}" -tls1_2 -- "${CA[@]}" -noservername -tls1_2
simple tls12-sct "${EC_SRV[@]}" -tls1_2 -serverinfo sct.serverinfo -- \
    "${CA[@]}" "${SNI[@]}" -tls1_2 -ct -ctlogfile ct-logs.cnf

# --- Alerts -----------------------------------------------------------------
simple alert-handshake-failure "${EC_SRV[@]}" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -- \
    "${SNI[@]}" -tls1_2 -cipher ECDHE-ECDSA-AES256-SHA
simple alert-unknown-ca "${EC_SRV[@]}" -tls1_2 -- \
    -CAfile otherca.pem -verify 5 -verify_return_error "${SNI[@]}" -tls1_2
simple alert-unknown-ca-tls13 "${EC_SRV[@]}" -tls1_3 -- \
    -CAfile otherca.pem -verify 5 -verify_return_error "${SNI[@]}" -tls1_3

# --- A large chain (4 intermediates, 60 SANs) in 512-byte records, relayed in
# small, irregular TCP segments so records and handshake messages straddle
# segments.
large_chain() {
    local name=tls12-large-chain
    next_port
    local relay_port=$PORT
    next_port
    local srv_port=$PORT
    wanted "$name" || return 0
    cat >relay.py <<'EOF'
import socket, sys, threading, time
lport, dport = int(sys.argv[1]), int(sys.argv[2])
sizes = [int(x) for x in sys.argv[3].split(",")]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport))
ls.listen(1)
ls.settimeout(20)
c, _ = ls.accept()
s = socket.create_connection(("127.0.0.1", dport))
for x in (c, s):
    x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def pump(a, b):
    i = 0
    while True:
        data = a.recv(65536)
        if not data:
            b.shutdown(socket.SHUT_WR)
            return
        while data:
            n = sizes[i % len(sizes)]
            i += 1
            b.sendall(data[:n])
            data = data[n:]
            time.sleep(0.002)
t = [threading.Thread(target=pump, args=p) for p in ((c, s), (s, c))]
for x in t:
    x.start()
for x in t:
    x.join()
EOF
    start_capture "$name" "$relay_port"
    PORT=$srv_port
    ossl_server 1 -rev -cert big.pem -key big.key -cert_chain chain.pem -tls1_2 -max_send_frag 512
    wait_listen tcp "$srv_port"
    timeout 30 python3 relay.py "$relay_port" "$srv_port" 700,3,517,1200,5,333 &
    PIDS+=("$!")
    wait_listen tcp "$relay_port"
    PORT=$relay_port
    ossl_client "${CA[@]}" "${SNI[@]}" -tls1_2
    PORT=$srv_port
    wait_server
    stop_capture
}
large_chain

# --- DTLS ---------------------------------------------------------------------
dtls() { # name version-flag extra-server-args...
    local name=$1 ver=$2
    shift 2
    next_port
    wanted "$name" || return 0
    start_capture "$name" "$PORT"
    # s_server cannot use -rev with DTLS: it sends "world" from its stdin instead.
    { sleep 1; echo world; sleep 2; } | timeout 30 openssl s_server -accept "127.0.0.1:$PORT" \
        -naccept 1 "${EC_SRV[@]}" "$ver" "$@" >>"$WORK/$name.server.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    wait_listen udp "$PORT"
    { echo hello; sleep 2; } | timeout 15 openssl s_client -connect "127.0.0.1:$PORT" \
        "$ver" "${CA[@]}" "${SNI[@]}" "$@" >>"$WORK/$name.client.log" 2>&1 || true
    wait_server
    stop_capture
}
dtls dtls12 -dtls1_2
# A 400-byte MTU makes the server fragment its certificate handshake message.
dtls dtls12-fragmented -dtls1_2 -mtu 400
dtls dtls10 -dtls1 "${OLD[@]}"

# --- TLS on the standard HTTPS port, and plain HTTP there -----------------------
http_on_443() {
    local name=http-on-443
    wanted "$name" || return 0
    PORT=443
    start_capture "$name" 443
    mkdir -p www && echo "not TLS" >www/index.html
    timeout 20 python3 -m http.server 443 --bind 127.0.0.1 --directory www \
        >>"$WORK/$name.server.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_listen tcp 443
    timeout 10 curl -s http://127.0.0.1:443/index.html >/dev/null || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    stop_capture
}
http_on_443

# --- GnuTLS on both sides ---------------------------------------------------------
gnutls() { # name priority
    local name=$1 prio=$2
    next_port
    wanted "$name" || return 0
    start_capture "$name" "$PORT"
    timeout 30 gnutls-serv --port "$PORT" --echo --x509certfile server.pem --x509keyfile server.key \
        --priority "$prio" >>"$WORK/$name.server.log" 2>&1 </dev/null &
    local pid=$!
    PIDS+=("$pid")
    wait_listen tcp "$PORT"
    { echo hello; sleep 1; } | timeout 15 gnutls-cli --port "$PORT" --x509cafile ca.pem \
        --sni-hostname server.example.test --verify-hostname server.example.test \
        --priority "$prio" 127.0.0.1 >>"$WORK/$name.client.log" 2>&1 || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    stop_capture
}
gnutls gnutls-tls13 'NORMAL:-VERS-ALL:+VERS-TLS1.3'
gnutls gnutls-tls12 'NORMAL:-VERS-ALL:+VERS-TLS1.2'

# --- tlslite-ng (pure-Python TLS) as the client: signature_algorithms_cert -------
# Neither OpenSSL 3.0's nor GnuTLS 3.7's client sends signature_algorithms_cert
# (extension 50). tlslite-ng, from PyPI, is installed in a venv under $WORK; where
# it cannot be installed this capture is skipped with a message and the rest stand.
TLSLITE_VERSION=0.8.2
# Makes the venv with tlslite-ng once per run; false (with a SKIPPED message) when
# it cannot be made. The venv's python is $WORK/tlslite-venv/bin/python.
tlslite_venv() { # capture-name
    local name=$1
    [ -x "$WORK/tlslite-venv/bin/python" ] &&
        "$WORK/tlslite-venv/bin/python" -c 'import tlslite' 2>/dev/null && return 0
    if ! { python3 -m venv "$WORK/tlslite-venv" >"$WORK/$name.pip.log" 2>&1 &&
        "$WORK/tlslite-venv/bin/pip" install -q "tlslite-ng==$TLSLITE_VERSION" \
            >>"$WORK/$name.pip.log" 2>&1; }; then
        log "SKIPPED $name: could not install tlslite-ng $TLSLITE_VERSION from PyPI into a venv" \
            "(needs python3-venv and access to PyPI): $(tail -n 3 "$WORK/$name.pip.log")"
        return 1
    fi
}
sigalgs_cert() {
    local name=tls13-sigalgs-cert
    next_port
    wanted "$name" || return 0
    local py=$WORK/tlslite-venv/bin/python
    tlslite_venv "$name" || return 0
    cat >sigalgs_cert_client.py <<'EOF'
# A TLS 1.3 client (tlslite-ng) whose ClientHello carries signature_algorithms_cert
# (extension 50): tlslite-ng has the extension class but its client does not send it on
# its own, so the message is given the extension just before tlslite-ng writes it.
# (tlslite-ng does not validate the server certificate; nothing here depends on it.)
import socket, sys
from tlslite import TLSConnection, HandshakeSettings
from tlslite.constants import ExtensionType, SignatureScheme
from tlslite.extensions import SignatureAlgorithmsCertExtension
from tlslite.messages import ClientHello

CERT_SIGALGS = [SignatureScheme.ecdsa_secp256r1_sha256, SignatureScheme.ecdsa_secp384r1_sha384,
                SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pkcs1_sha256,
                SignatureScheme.rsa_pkcs1_sha384]

class Conn(TLSConnection):
    def _sendMsg(self, msg, *args, **kwargs):
        if isinstance(msg, ClientHello) and \
                msg.getExtension(ExtensionType.signature_algorithms_cert) is None:
            ext = SignatureAlgorithmsCertExtension().create(CERT_SIGALGS)
            i = next(i for i, e in enumerate(msg.extensions)
                     if e.extType == ExtensionType.signature_algorithms)
            msg.extensions.insert(i + 1, ext)
        return super()._sendMsg(msg, *args, **kwargs)

port, name = int(sys.argv[1]), sys.argv[2]
settings = HandshakeSettings()
settings.minVersion = (3, 4)
settings.maxVersion = (3, 4)
sock = socket.create_connection(("127.0.0.1", port))
conn = Conn(sock)
# Wait for the server's close_notify before closing the socket.
conn.closeSocket = False
conn.handshakeClientCert(serverName=name, settings=settings)
print("version", conn.version, "cipher", conn.getCipherName(), file=sys.stderr)
conn.write(b"hello\n")
print("reply", bytes(conn.read(max=6, min=6)), file=sys.stderr)
conn.close()
sock.close()
EOF
    start_capture "$name" "$PORT"
    ossl_server 1 -rev "${EC_SRV[@]}" -tls1_3
    wait_listen tcp "$PORT"
    timeout 15 "$py" sigalgs_cert_client.py "$PORT" server.example.test \
        >>"$WORK/$name.client.log" 2>&1 || log "$name: client failed: $(tail -n 3 "$WORK/$name.client.log")"
    wait_server
    stop_capture
}
sigalgs_cert

# --- Heartbeat (RFC 6520), in clear and encrypted: tlslite-ng on both sides -------
# A passive analyzer reads a heartbeat only in clear, i.e. before the sender's
# ChangeCipherSpec. GnuTLS 3.7 (`--heartbeat`) refuses to send or accept one while a
# handshake is in progress (gnutls_heartbeat_allowed), OpenSSL 3.0 has no heartbeat
# support at all; tlslite-ng answers a heartbeat_request whenever the extension was
# negotiated, so its client can send one in the middle of the handshake (where a
# Heartbleed probe sits) and its server answers it in clear.
heartbeat() {
    local name=tls12-heartbeat
    next_port
    wanted "$name" || return 0
    local py=$WORK/tlslite-venv/bin/python
    tlslite_venv "$name" || return 0
    cat >heartbeat.py <<'EOF'
# A TLS 1.2 heartbeat (RFC 6520) conversation between a tlslite-ng client and a tlslite-ng
# server. Both offer the heartbeat extension in peer_allowed_to_send mode. The client sends one
# heartbeat_request in clear in the middle of the handshake (after the server's hello flight,
# right before its ClientKeyExchange), which the server answers in clear: these are the
# heartbeats a passive analyzer can read (the Heartbleed probe's position). After the handshake
# the client sends a second heartbeat_request, answered in the encrypted record layer, then
# "hello\n" (the server answers "olleh\n") and close_notify.
import socket, sys
from tlslite import TLSConnection, HandshakeSettings, X509CertChain, parsePEMKey
from tlslite.constants import HeartbeatMessageType
from tlslite.messages import ClientKeyExchange, Heartbeat

def settings():
    s = HandshakeSettings()
    s.minVersion = (3, 3)
    s.maxVersion = (3, 3)
    s.use_heartbeat_extension = True
    return s

def server(port, cert, key):
    chain = X509CertChain()
    chain.parsePemList(open(cert).read())
    key = parsePEMKey(open(key).read(), private=True)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(20)
    sock, _ = ls.accept()
    conn = TLSConnection(sock)
    conn.handshakeServer(certChain=chain, privateKey=key, settings=settings())
    print("server: version", conn.version, "cipher", conn.getCipherName(), file=sys.stderr)
    line = bytes(conn.read(max=6, min=6))
    conn.write(line[:-1][::-1] + b"\n")
    # Reads until the client's close_notify (answered with the server's own).
    while conn.read():
        pass
    conn.close()

responses = []

class Client(TLSConnection):
    sent_clear = False
    def _sendMsg(self, msg, *args, **kwargs):
        if isinstance(msg, ClientKeyExchange) and not self.sent_clear:
            self.sent_clear = True
            ping = Heartbeat().create(HeartbeatMessageType.heartbeat_request,
                                      bytearray(b"ping in clear"), 16)
            for result in super()._sendMsg(ping):
                yield result
        for result in super()._sendMsg(msg, *args, **kwargs):
            yield result

def client(port, name):
    s = settings()
    s.heartbeat_response_callback = lambda m: responses.append(bytes(m.payload))
    sock = socket.create_connection(("127.0.0.1", port))
    conn = Client(sock)
    conn.closeSocket = False
    conn.handshakeClientCert(serverName=name, settings=s)
    print("client: version", conn.version, "cipher", conn.getCipherName(), file=sys.stderr)
    conn.send_heartbeat_request(bytearray(b"encrypted ping"), 16)
    conn.write(b"hello\n")
    print("client: reply", bytes(conn.read(max=6, min=6)), file=sys.stderr)
    print("client: heartbeat responses", responses, file=sys.stderr)
    conn.close()
    sock.close()
    if len(responses) != 2:
        sys.exit("expected two heartbeat responses")

if sys.argv[1] == "server":
    server(int(sys.argv[2]), sys.argv[3], sys.argv[4])
else:
    client(int(sys.argv[2]), sys.argv[3])
EOF
    start_capture "$name" "$PORT"
    timeout 30 "$py" heartbeat.py server "$PORT" server.pem server.key \
        >>"$WORK/$name.server.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    wait_listen tcp "$PORT"
    timeout 15 "$py" heartbeat.py client "$PORT" server.example.test \
        >>"$WORK/$name.client.log" 2>&1 || log "$name: client failed: $(tail -n 3 "$WORK/$name.client.log")"
    wait_server
    stop_capture
}
heartbeat

# --- Flipped roles: the TCP responder is the TLS client -----------------------------
# Python's ssl module (OpenSSL) on both sides: the listening side wraps the accepted
# socket as a TLS client, the connecting side as the TLS server.
flipped() {
    local name=tls13-flipped
    next_port
    wanted "$name" || return 0
    cat >flipped.py <<'EOF'
# A TCP connection whose roles are the other way round from TLS's: the side that listens and
# accepts the connection (TCP responder) is the TLS client and sends the ClientHello; the side
# that connects (TCP originator) is the TLS server. Python's ssl module (OpenSSL) on both sides,
# TLS 1.3 without session tickets (num_tickets = 0); the TLS client sends "hello\n", the TLS
# server answers "olleh\n", then both send close_notify.
import socket, ssl, sys

def acceptor(port, cafile, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cafile)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(20)
    sock, _ = ls.accept()
    tls = ctx.wrap_socket(sock, server_side=False, server_hostname=name)
    print("acceptor (TLS client):", tls.version(), tls.cipher()[0], file=sys.stderr)
    tls.sendall(b"hello\n")
    print("acceptor: reply", tls.recv(6), file=sys.stderr)
    tls.unwrap().close()

def connector(port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.num_tickets = 0
    ctx.load_cert_chain(cert, key)
    sock = socket.create_connection(("127.0.0.1", port))
    tls = ctx.wrap_socket(sock, server_side=True)
    print("connector (TLS server):", tls.version(), tls.cipher()[0], file=sys.stderr)
    line = tls.recv(6)
    tls.sendall(line[:-1][::-1] + b"\n")
    tls.unwrap().close()

if sys.argv[1] == "acceptor":
    acceptor(int(sys.argv[2]), sys.argv[3], sys.argv[4])
else:
    connector(int(sys.argv[2]), sys.argv[3], sys.argv[4])
EOF
    start_capture "$name" "$PORT"
    timeout 30 python3 flipped.py acceptor "$PORT" ca.pem server.example.test \
        >>"$WORK/$name.acceptor.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    wait_listen tcp "$PORT"
    timeout 15 python3 flipped.py connector "$PORT" server.pem server.key \
        >>"$WORK/$name.connector.log" 2>&1 || log "$name: connector failed: $(tail -n 3 "$WORK/$name.connector.log")"
    wait_server
    stop_capture
}
flipped

log "done: $(find "$OUT" -maxdepth 1 -name "*.pcap" | wc -l) captures in $OUT"
