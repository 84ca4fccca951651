# The record layers: TLS (RFC 8446 §5, RFC 5246 §6.2), DTLS (RFC 6347 §4.1, RFC 9147 §4),
# SSLv2 (the SSLv2 draft), and the contents that are not handshake messages.
#
# The analyzer frames records itself (it has to buffer partial records across segments) and
# then parses the contents with the types below; the handshake contents are in handshake.pac.

## RFC 8446 §5.1 / RFC 5246 §6.2.1 — TLSPlaintext (and the same header for TLSCiphertext):
## a 5-byte header and a fragment bounded by its 16-bit length.
type TlsRecord = record {
    content_type : ContentType;
    version      : ProtocolVersion;
    length       : uint16;
    fragment     : bytestring &length = length;
};

## RFC 6347 §4.1 — DTLSPlaintext: the TLS header plus an epoch and a 48-bit sequence number.
type DtlsRecord = record {
    content_type    : ContentType;
    version         : ProtocolVersion;
    epoch           : uint16;
    sequence_number : uint48;
    length          : uint16;
    fragment        : bytestring &length = length;
};

## RFC 9147 §4 — DTLS 1.3 unified header for protected records. The first byte is 001CSLEE:
## C = a connection id follows (its length was negotiated, so the analyzer passes it in),
## S = the sequence number is 16 bits instead of 8, L = a 16-bit length is present (otherwise
## the record runs to the end of the datagram), EE = low bits of the epoch.
type DtlsUnifiedHeader(cid_length: uint8) = record {
    flags           : uint8 &check((flags & 0xe0) == 0x20);
    connection_id   : bytestring &length = cid_length &if((flags & 0x10) != 0);
    sequence_number : case (flags & 0x08) != 0 of {
        true    -> seq16 : uint16;
        default -> seq8  : uint8;
    };
    # The arm without a length comes first so that `default` is the record and not
    # generated as an Unknown arm (what a `bytestring &restofdata` default becomes).
    body            : case (flags & 0x04) == 0 of {
        true    -> to_end      : bytestring &restofdata;
        default -> with_length : DtlsUnifiedPayload;
    };
    let epoch_bits  : uint8 = flags & 0x03;
};

## RFC 9147 §4 — the encrypted payload of a unified-header record that carries its length.
type DtlsUnifiedPayload = record {
    length    : uint16;
    encrypted : bytestring &length = length;
};

## RFC 5246 §7.1 — ChangeCipherSpec: a single byte that must be 1.
type ChangeCipherSpec = record {
    cs_type : uint8 &check(cs_type == 1);
};

## RFC 5246 §7.2 — one alert. A record may carry several.
type Alert = record {
    level       : AlertLevel;
    description : AlertDescription;
};

## RFC 5246 §7.2 — the contents of an alert record: alerts until the record ends.
type AlertRecord = record {
    alerts : Alert[] &restofdata;
};

## RFC 6520 §4 — HeartbeatMessage. The payload is everything after the claimed length: a
## malicious request (Heartbleed) claims more than it carries, and both numbers are reported.
type Heartbeat = record {
    heartbeat_type : HeartbeatMessageType;
    payload_length : uint16;
    payload        : bytestring &restofdata;
} &exportsourcedata;

## RFC 8446 §5.2 / RFC 5246 §6.2.3 — application data, opaque to us.
type ApplicationData = record {
    data : bytestring &restofdata;
};

## SSLv2 draft §2.1 — record header with the high bit of the first byte set: a 15-bit length
## and no padding. (A clear high bit means a 3-byte header with padding; see SSLv2RecordPadded.)
type SSLv2Record = record {
    length_high : uint8 &check((length_high & 0x80) != 0);
    length_low  : uint8;
    let length  : uint16 = ((length_high & 0x7f) << 8) | length_low;
    message     : SSLv2Message &length = length;
};

## SSLv2 draft §2.1 — 3-byte record header: a 14-bit length, then the number of padding
## bytes at the end of the record (which belong to the encrypted payload).
type SSLv2RecordPadded = record {
    length_high    : uint8 &check((length_high & 0x80) == 0);
    length_low     : uint8;
    let length     : uint16 = ((length_high & 0x3f) << 8) | length_low;
    # The padding is the tail of the record's data, so it cannot be longer than the record.
    padding_length : uint8 &check(padding_length <= length);
    message        : SSLv2Message &length = length;
};

## SSLv2 draft §2.5-2.6 — a message: its type, then its body.
type SSLv2Message = record {
    msg_type : SSLv2MessageType;
    body     : case msg_type of {
        SSLv2MessageType::client_hello      -> client_hello      : SSLv2ClientHello;
        SSLv2MessageType::server_hello      -> server_hello      : SSLv2ServerHello;
        SSLv2MessageType::client_master_key -> client_master_key : SSLv2ClientMasterKey;
        SSLv2MessageType::error             -> error             : SSLv2Error;
        default                             -> unknown           : bytestring &restofdata;
    };
};

## SSLv2 draft §2.5 — CLIENT-HELLO: three lengths, then the cipher kinds (3 bytes each),
## the session id to resume (0 or 16 bytes), and the challenge (16 to 32 bytes).
type SSLv2ClientHello = record {
    client_version       : ProtocolVersion;
    cipher_specs_length  : uint16;
    session_id_length    : uint16;
    challenge_length     : uint16;
    cipher_specs         : SSLv2CipherSpec[] &length = cipher_specs_length;
    session_id           : bytestring &length = session_id_length;
    challenge            : bytestring &length = challenge_length;
};

## SSLv2 draft §2.6 — SERVER-HELLO: the server's certificate, the cipher kinds it accepts
## (its first choice first), and a connection id that serves as the server's random.
type SSLv2ServerHello = record {
    session_id_hit       : uint8;
    certificate_type     : uint8;
    server_version       : ProtocolVersion;
    certificate_length   : uint16;
    cipher_specs_length  : uint16 &check(cipher_specs_length >= 3);
    connection_id_length : uint16;
    certificate          : bytestring &length = certificate_length;
    # The first cipher kind is what Zeek reports as the chosen cipher.
    first_cipher_spec    : SSLv2CipherSpec;
    other_cipher_specs   : SSLv2CipherSpec[] &length = cipher_specs_length - 3;
    connection_id        : bytestring &length = connection_id_length;
};

## SSLv2 draft §2.5 — CLIENT-MASTER-KEY: the chosen cipher kind and the master key, partly in
## clear and partly encrypted with the server's public key.
type SSLv2ClientMasterKey = record {
    cipher_kind          : SSLv2CipherSpec;
    clear_key_length     : uint16;
    encrypted_key_length : uint16;
    key_arg_length       : uint16;
    clear_key            : bytestring &length = clear_key_length;
    encrypted_key        : bytestring &length = encrypted_key_length;
    key_arg              : bytestring &length = key_arg_length;
};

## SSLv2 draft §2.7 — ERROR.
type SSLv2Error = record {
    error_code : uint16;
};
