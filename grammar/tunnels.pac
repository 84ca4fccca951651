# Tunnel headers: the encapsulations Zeek's packet analysis decapsulates (GRE with PPTP and
# ERSPAN, VXLAN, Geneve, GTPv1-U, AYIYA, Teredo). IP-in-IP has no header of its own (the inner
# IP header follows the outer one) and is not here.
#
# The spec describes the layouts; the decisions Zeek makes on them (which flags are refused with
# which weird, what counts as truncated, what is forwarded where, the tunnel depth) are the
# analyzer's (analyzer/src/capture/tunnel.rs), which parses each header with the records below and
# continues with the rest of the input. No events are raised from tunnel headers: tunnels show up
# in tunnel.log (written by the analyzer), not as `ssl_*` events.

# ---------------------------------------------------------------------------------------
# GRE (RFC 2784, RFC 2890 key and sequence number; RFC 2637 enhanced GRE for PPTP)
# ---------------------------------------------------------------------------------------

## RFC 2784 §2 and RFC 2890 §2 — the GRE header: flags and version, the protocol type, then the
## optional checksum, key, sequence number and (enhanced GRE, RFC 2637 §4.1) acknowledgement
## number, each present when its flag is set. The routing flag of RFC 1701 is not followed
## (RFC 2784 deprecates it; Zeek refuses such packets with the weird `gre_routing`).
type GreHeader = record {
    ## C (0x8000), R (0x4000), K (0x2000), S (0x1000), reserved (0x0f78, with A = 0x0080 in
    ## enhanced GRE) and the version (0x0007).
    flags_ver  : uint16;
    ## The payload's EtherType (0x0800 IPv4, 0x86dd IPv6, 0x6558 Ethernet, 0x88be ERSPAN I/II,
    ## 0x22eb ERSPAN III, 0x880b PPP in enhanced GRE).
    proto_type : uint16;
    ## 0 for GRE, 1 for PPTP's enhanced GRE; others are refused.
    let version          : uint8 = flags_ver & 0x0007;
    ## C: the checksum word is present.
    let checksum_present : bool = (flags_ver & 0x8000) != 0;
    ## R: RFC 1701's routing (refused).
    let routing_present  : bool = (flags_ver & 0x4000) != 0;
    ## K: the key is present.
    let key_present      : bool = (flags_ver & 0x2000) != 0;
    ## S: the sequence number is present (with ERSPAN's protocol type: type II, not I).
    let seq_present      : bool = (flags_ver & 0x1000) != 0;
    ## Enhanced GRE's acknowledgement flag.
    let ack_present      : bool = (flags_ver & 0x0080) != 0;
    ## Reserved flag bits Zeek refuses (`unknown_gre_flags`).
    let reserved_flags   : uint16 = flags_ver & 0x0078;
    ## Checksum and the reserved word after it.
    checksum : uint32 &if(checksum_present);
    ## RFC 2890's key (enhanced GRE: payload length and call id).
    key      : uint32 &if(key_present);
    ## RFC 2890's sequence number.
    seq      : uint32 &if(seq_present);
    ## Enhanced GRE's acknowledgement number.
    ack      : uint32 &if(ack_present);
};

## RFC 2637 §4.1 — what follows enhanced GRE in PPTP: a PPP header in HDLC-like framing.
type PptpPppHeader = record {
    ## Address 0xff and control 0x03.
    address_control : uint16;
    ## The PPP protocol: 0x0021 IPv4, 0x0057 IPv6.
    ppp_protocol    : uint16;
};

## ERSPAN type II (draft-foschiano-erspan §4.1): 8 bytes after GRE, then the mirrored Ethernet
## frame.
type ErspanIIHeader = record {
    ## Version (4 bits, 1 for type II) and VLAN (12 bits).
    ver_vlan       : uint16;
    ## CoS (3), encapsulation type (2), truncated (1), session id (10).
    cos_en_session : uint16;
    ## Reserved (12) and index (20).
    reserved_index : uint32;
    ## 1 for type II.
    let erspan_version : uint8 = ver_vlan >> 12;
    ## The mirroring session.
    let session_id     : uint16 = cos_en_session & 0x03ff;
};

## ERSPAN type III (draft-foschiano-erspan §4.2): 12 bytes after GRE, then 8 bytes of
## platform-specific subheader when the O flag (the last bit) is set, then the mirrored Ethernet
## frame.
type ErspanIIIHeader = record {
    ## Version (4 bits, 2 for type III) and VLAN (12 bits).
    ver_vlan       : uint16;
    ## CoS (3), BSO (2), truncated (1), session id (10).
    cos_bso_session : uint16;
    ## Timestamp.
    timestamp      : uint32;
    ## Security group tag.
    sgt            : uint16;
    ## P, frame type, hardware id, direction, granularity and O (the last bit).
    flags          : uint16;
    ## 2 for type III.
    let erspan_version : uint8 = ver_vlan >> 12;
    ## The mirroring session.
    let session_id     : uint16 = cos_bso_session & 0x03ff;
    ## An optional platform-specific subheader follows.
    let has_platform   : bool = (flags & 0x0001) != 0;
    platform : uint64 &if(has_platform);
};

# ---------------------------------------------------------------------------------------
# UDP encapsulations
# ---------------------------------------------------------------------------------------

## RFC 7348 §5 — the VXLAN header; an Ethernet frame follows.
type VxlanHeader = record {
    ## R R R R I R R R: the I flag (0x08) says the VNI is valid; Zeek refuses a header without it.
    flags     : uint8;
    reserved1 : uint24;
    ## VXLAN network identifier.
    vni       : uint24;
    reserved2 : uint8;
    ## The I flag.
    let i_flag : bool = (flags & 0x08) != 0;
};

## RFC 8926 §3.4 — the Geneve header with its options; the payload's EtherType is
## `protocol_type`.
type GeneveHeader = record {
    ## Version (2 bits, 0) and the options' length in 4-byte words (6 bits).
    ver_opt_len   : uint8;
    ## O (control packet), C (critical options present), reserved.
    flags         : uint8;
    ## The payload's EtherType (0x6558 Ethernet, 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP).
    protocol_type : uint16;
    ## Virtual network identifier.
    vni           : uint24;
    reserved      : uint8;
    ## 0 is the only version; Zeek refuses others (`geneve_invalid_version`).
    let version     : uint8 = ver_opt_len >> 6;
    ## Bytes of options after the fixed 8 bytes.
    let options_len : uint16 = (ver_opt_len & 0x3f) * 4;
    ## The options as on the wire (each a `GeneveOption`); Zeek checks only that they fit.
    options : bytestring &length = options_len;
};

## RFC 8926 §3.5 — one Geneve option.
type GeneveOption = record {
    option_class : uint16;
    ## C (0x80, critical) and the type (7 bits).
    option_type  : uint8;
    ## Reserved (3 bits) and the data's length in 4-byte words (5 bits).
    rsvd_len     : uint8;
    ## The option's data.
    data         : bytestring &length = (rsvd_len & 0x1f) * 4;
    ## The C bit of the type: a receiver that does not know the option must drop the packet.
    let critical : bool = (option_type & 0x80) != 0;
};

## 3GPP TS 29.281 §5.1 — the GTPv1-U header, its optional sequence/N-PDU/next-extension word,
## then (when E is set) extension headers, each a `GtpV1ExtHeader`.
type GtpV1Header = record {
    ## Version (3 bits), PT (1), reserved (1), E (1), S (1), PN (1).
    flags    : uint8;
    ## 255 for a G-PDU (user data); 16 to 21 are PDP context messages.
    msg_type : uint8;
    ## Bytes after the mandatory 8-byte header (not checked, as in Zeek).
    length   : uint16;
    ## Tunnel endpoint identifier.
    teid     : uint32;
    ## 1 for GTPv1 (others are a violation).
    let version         : uint8 = flags >> 5;
    ## Protocol type: 1 GTP, 0 GTP' (not decapsulated).
    let pt_flag         : bool = (flags & 0x10) != 0;
    ## Extension headers follow.
    let e_flag          : bool = (flags & 0x04) != 0;
    ## A sequence number is present.
    let s_flag          : bool = (flags & 0x02) != 0;
    ## An N-PDU number is present.
    let pn_flag         : bool = (flags & 0x01) != 0;
    ## Any of E, S, PN: the optional word is present.
    let has_opt         : bool = (flags & 0x07) != 0;
    ## The Length field (kept for callers; Zeek does not check it against the datagram).
    let declared_length : uint16 = length;
    opt : GtpV1OptHeader &if(has_opt);
};

## The optional word of the GTPv1 header.
type GtpV1OptHeader = record {
    seq       : uint16;
    n_pdu     : uint8;
    ## The type of the first extension header (0: none).
    next_type : uint8;
};

## 3GPP TS 29.281 §5.2 — one extension header: its length in 4-byte words (the length byte and
## the next-type byte included), contents, and the next extension header's type (0 ends the
## chain).
type GtpV1ExtHeader = record {
    ext_length : uint8 &check(ext_length > 0);
    contents   : bytestring &length = ext_length * 4 - 2;
    next_type  : uint8;
};

## AYIYA (draft-massar-v6ops-ayiya §5): identity and signature of variable length, then the
## payload whose IP protocol is `next_header`.
type AyiyaHeader = record {
    ## Identity length (4 bits, as a power of two) and identity type (4 bits).
    id_len_type  : uint8;
    ## Signature length (4 bits, in 4-byte words) and hash method (4 bits).
    sig_len_hash : uint8;
    ## Authentication method (4 bits) and opcode (4 bits; 1 forwards a packet).
    auth_opcode  : uint8;
    ## The payload's IP protocol (4 IPv4, 41 IPv6).
    next_header  : uint8;
    epoch_time   : uint32;
    ## Bytes of identity.
    let identity_len  : uint16 = 1 << (id_len_type >> 4);
    ## Bytes of signature.
    let signature_len : uint8 = (sig_len_hash >> 4) * 4;
    ## 1 (forward) carries a packet; others carry none.
    let op_code       : uint8 = auth_opcode & 0x0f;
    identity  : bytestring &length = identity_len;
    signature : bytestring &length = signature_len;
};

## RFC 4380 §5.1.1 — the Teredo origin indication: indicator 0x0000, then the client's mapped
## port and IPv4 address, each XORed with all ones.
type TeredoOriginIndication = record {
    indicator       : uint16 &check(indicator == 0);
    obfuscated_port : uint16;
    obfuscated_addr : uint32;
    ## The client's mapped UDP port.
    let origin_port : uint16 = obfuscated_port ^ 0xffff;
    ## The client's mapped IPv4 address.
    let origin_addr : uint32 = obfuscated_addr ^ 0xffffffff;
};

## RFC 4380 §5.1.1 — the Teredo authentication encapsulation: indicator 0x0001, the client
## identifier and authentication value with their lengths, a nonce and the confirmation byte.
type TeredoAuthentication = record {
    indicator    : uint16 &check(indicator == 1);
    id_len       : uint8;
    au_len       : uint8;
    client_id    : bytestring &length = id_len;
    auth_value   : bytestring &length = au_len;
    nonce        : uint64;
    confirmation : uint8;
};
