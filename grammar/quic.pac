# QUIC: the packet headers (RFC 9000 §17, RFC 9369 §3 for QUIC version 2), the frames of a
# decrypted packet payload (RFC 9000 §19), and Zeek's QUIC events with the glue that raises them.
#
# What the spec does not do, the analyzer does (analyzer/src/quic/): removing header protection
# and decrypting Initial packets (RFC 9001 §5), splitting coalesced packets, reassembling CRYPTO
# data. So the long header record ends right after its Length field: `QuicLongHeader::parse`
# returns the rest of the datagram starting at the protected Packet Number, which is where the
# analyzer removes header protection and decrypts. Variable-length integers are the spec type
# `varint` (RFC 9000 §16).
#
# Events: initial, handshake, 0-RTT and unhandled-version packets are raised from the header
# itself; the Retry event from the Retry fields and the CONNECTION_CLOSE event from the frame,
# both with the header's version and connection ids as context values (`quic_version`,
# `quic_dcid`, `quic_scid`), which the analyzer fills from the packet's parsed header before it
# walks the header or the packet's frames. `QUIC::short_header_packet_threshold_crossed` is glued
# to the short header with the threshold as a context value; `QUIC::discarded_packet` has no unit
# to hang on (the analyzer counts packets whose fixed bit is 0, and decides with its own counters
# whether to raise it), so the analyzer raises it by building the variant
# `SslEvent::QuicDiscardedPacket { is_orig, total_decrypted }` itself.

## Values the QUIC analyzer supplies when it walks a QUIC header or the frames of a packet
## (`is_orig` is shared with TLS). A host that walks TLS units leaves them empty.
context {
    ## The Version field of the long header of the packet being walked (0 for none).
    quic_version: count,
    ## The Destination Connection ID of that long header.
    quic_dcid: string,
    ## The Source Connection ID of that long header.
    quic_scid: string,
    ## When non-zero, walking a short header raises
    ## QUIC::short_header_packet_threshold_crossed with this threshold.
    quic_short_header_threshold: count,
}

# ---------------------------------------------------------------------------------------
# Packet headers
# ---------------------------------------------------------------------------------------

## RFC 9000 §17.2 — a long header packet up to the end of its unprotected part: the first byte,
## the version and both connection ids, then the fields of the packet type. For Initial, 0-RTT
## and Handshake packets the record ends after the Length field, at the protected Packet Number;
## a Retry or Version Negotiation packet, or a packet of an unhandled version, takes the rest of
## the input.
##
## The packet type bits of the first byte mean different things in QUIC v1 and v2 (RFC 9369
## §3.2); `packet_type` maps them to one code for every version: 0 Initial, 1 0-RTT,
## 2 Handshake, 3 Retry. Handled versions are Zeek's: v1, v2 (0x6b3343cf), drafts 22 to 34
## (0xff000016..0xff000022) and mvfst's 0xfaceb001, 0xfaceb002, 0xfaceb00e, 0xfaceb011,
## 0xfaceb012, 0xfaceb013, all but v2 with v1's packet type bits. Version 0 is a Version
## Negotiation packet (RFC 9000 §17.2.1); any other version is unhandled.
type QuicLongHeader = record {
    ## Header Form (0x80, set for a long header), Fixed Bit (0x40), Long Packet Type (0x30) and
    ## four type-specific bits (header-protected in Initial, 0-RTT and Handshake packets).
    first_byte : uint8 &check((first_byte & 0x80) != 0);
    ## The QUIC version; 0 for Version Negotiation.
    version    : uint32;
    dcid_len   : uint8;
    ## Destination Connection ID.
    dcid       : bytestring &length = dcid_len;
    scid_len   : uint8;
    ## Source Connection ID.
    scid       : bytestring &length = scid_len;
    ## The packet type as a version-independent code: 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry
    ## (QUIC v2 encodes them as 1, 2, 3, 0: RFC 9369 §3.2).
    let packet_type : uint8 = version == 0x6b3343cf
        ? (((first_byte >> 4) & 0x03) + 3) % 4
        : (first_byte >> 4) & 0x03;
    ## True for the versions Zeek analyses (see the type's doc).
    let handled : bool = version == 0x00000001 || version == 0x6b3343cf
        || (version >= 0xff000016 && version <= 0xff000022)
        || version == 0xfaceb001 || version == 0xfaceb002 || version == 0xfaceb00e
        || version == 0xfaceb011 || version == 0xfaceb012 || version == 0xfaceb013;
    ## Which fields follow: `packet_type` for a handled version, 4 for Version Negotiation,
    ## 5 for an unhandled version.
    let form : uint8 = version == 0 ? 4 : (handled ? packet_type : 5);
    body : case form of {
        0       -> initial : QuicInitialFields;
        1       -> zero_rtt : QuicLengthField;
        2       -> handshake : QuicLengthField;
        3       -> retry : QuicRetryFields;
        4       -> version_negotiation : QuicVersionNegotiation;
        5       -> unhandled : bytestring &restofdata;
        default -> unknown : bytestring &restofdata;
    };
};

## RFC 9000 §17.2.2 — the Initial packet's fields after the connection ids, up to the protected
## Packet Number.
type QuicInitialFields = record {
    token_length : varint;
    ## The token of an earlier Retry or NEW_TOKEN frame; empty in a server's Initial.
    token        : bytestring &length = token_length;
    ## Bytes of Packet Number and payload that follow. At least 20: header protection samples
    ## 16 bytes after an assumed 4-byte Packet Number (RFC 9001 §5.4.2), as Zeek requires.
    length       : varint &check(length >= 20);
};

## RFC 9000 §17.2.3 and §17.2.4 — the Length field of a 0-RTT or Handshake packet, before the
## protected Packet Number.
type QuicLengthField = record {
    ## Bytes of Packet Number and payload that follow.
    length : varint;
};

## RFC 9000 §17.2.5 — a Retry packet's token and its Retry Integrity Tag (RFC 9001 §5.8): the
## token is everything but the last 16 bytes of the packet.
type QuicRetryFields = record {
    ## Token and tag as on the wire.
    data : bytestring &restofdata;
    ## The Retry Token (a Retry shorter than its 16-byte tag is an error).
    let retry_token : bytestring = data[0 .. len(data) - 16];
    ## The Retry Integrity Tag.
    let integrity_tag : bytestring = data[len(data) - 16 .. len(data)];
};

## RFC 9000 §17.2.1 — the versions a server supports, listed in a Version Negotiation packet.
type QuicVersionNegotiation = record {
    supported_versions : uint32[] &restofdata;
};

## RFC 9000 §17.3.1 — a 1-RTT packet's short header: the first byte and the Destination
## Connection ID, whose length the receiver must know (it is the length of a connection id it
## chose); the rest is protected.
type QuicShortHeader(dcid_len: uint8) = record {
    ## Header Form (0x80, clear for a short header), Fixed Bit, Spin Bit and protected bits.
    first_byte : uint8 &check((first_byte & 0x80) == 0);
    ## Destination Connection ID.
    dcid       : bytestring &length = dcid_len;
    ## Packet Number and payload, both protected.
    rest       : bytestring &restofdata;
};

# ---------------------------------------------------------------------------------------
# Frames (RFC 9000 §19)
# ---------------------------------------------------------------------------------------

## The frames of a decrypted packet payload (RFC 9000 §12.4).
type QuicFrames = record {
    frames : QuicFrame[] &restofdata;
};

## RFC 9000 §12.4 and §19 — one frame: its type, then the layout that type selects. An unknown
## type cannot be skipped (frames carry no length), so it takes the rest of the payload.
type QuicFrame = record {
    frame_type : varint;
    body : case frame_type of {
        0x00             -> padding : empty;
        0x01             -> ping : empty;
        0x02, 0x03       -> ack : QuicAckFrame(frame_type);
        0x04             -> reset_stream : QuicResetStreamFrame;
        0x05             -> stop_sending : QuicStopSendingFrame;
        0x06             -> crypto : QuicCryptoFrame;
        0x07             -> new_token : QuicNewTokenFrame;
        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
                         -> stream : QuicStreamFrame(frame_type);
        ## MAX_DATA (§19.9): the maximum data the connection may send, in bytes.
        0x10             -> max_data : varint;
        0x11             -> max_stream_data : QuicMaxStreamDataFrame;
        ## MAX_STREAMS (§19.11), bidirectional (0x12) or unidirectional (0x13).
        0x12, 0x13       -> max_streams : varint;
        ## DATA_BLOCKED (§19.12): the connection-level limit the sender is blocked at.
        0x14             -> data_blocked : varint;
        0x15             -> stream_data_blocked : QuicStreamDataBlockedFrame;
        ## STREAMS_BLOCKED (§19.14), bidirectional (0x16) or unidirectional (0x17).
        0x16, 0x17       -> streams_blocked : varint;
        0x18             -> new_connection_id : QuicNewConnectionIdFrame;
        ## RETIRE_CONNECTION_ID (§19.16): the sequence number of the id retired.
        0x19             -> retire_connection_id : varint;
        ## PATH_CHALLENGE (§19.17): 8 bytes of data.
        0x1a             -> path_challenge : bytestring &length = 8;
        ## PATH_RESPONSE (§19.18): the 8 bytes of the challenge answered.
        0x1b             -> path_response : bytestring &length = 8;
        0x1c, 0x1d       -> connection_close : QuicConnectionClose(frame_type);
        0x1e             -> handshake_done : empty;
        default          -> unknown : bytestring &restofdata;
    };
};

## RFC 9000 §19.3 — ACK (0x02), or ACK with ECN counts (0x03).
type QuicAckFrame(frame_type: varint) = record {
    largest_acknowledged : varint;
    ack_delay            : varint;
    ack_range_count      : varint;
    first_ack_range      : varint;
    ack_ranges           : QuicAckRange[ack_range_count];
    ecn_counts           : QuicEcnCounts &if(frame_type == 0x03);
};

## RFC 9000 §19.3.1 — one more range of acknowledged packets, below the previous one.
type QuicAckRange = record {
    ## Unacknowledged packets between this range and the previous one, minus one.
    gap              : varint;
    ## Acknowledged packets in this range, minus one.
    ack_range_length : varint;
};

## RFC 9000 §19.3.2 — ECN counts of an ACK frame of type 0x03.
type QuicEcnCounts = record {
    ect0   : varint;
    ect1   : varint;
    ecn_ce : varint;
};

## RFC 9000 §19.4 — RESET_STREAM.
type QuicResetStreamFrame = record {
    stream_id  : varint;
    error_code : varint;
    final_size : varint;
};

## RFC 9000 §19.5 — STOP_SENDING.
type QuicStopSendingFrame = record {
    stream_id  : varint;
    error_code : varint;
};

## RFC 9000 §19.6 — CRYPTO: a piece of the TLS handshake at an offset of the crypto stream.
type QuicCryptoFrame = record {
    offset : varint;
    length : varint;
    data   : bytestring &length = length;
};

## RFC 9000 §19.7 — NEW_TOKEN.
type QuicNewTokenFrame = record {
    token_length : varint;
    token        : bytestring &length = token_length;
};

## RFC 9000 §19.8 — STREAM (0x08..0x0f): the type's low bits say whether an Offset (0x04) and a
## Length (0x02) are present and whether the frame ends the stream (FIN, 0x01). Without a
## Length the data runs to the end of the packet.
type QuicStreamFrame(frame_type: varint) = record {
    stream_id : varint;
    offset    : varint &if((frame_type & 0x04) != 0);
    data      : case frame_type & 0x02 of {
        0x00    -> to_end : bytestring &restofdata;
        default -> with_length : QuicStreamData;
    };
    ## The FIN bit: the frame ends the stream.
    let fin : bool = (frame_type & 0x01) != 0;
};

## The Length and Stream Data of a STREAM frame with the LEN bit.
type QuicStreamData = record {
    length : varint;
    data   : bytestring &length = length;
};

## RFC 9000 §19.10 — MAX_STREAM_DATA.
type QuicMaxStreamDataFrame = record {
    stream_id           : varint;
    maximum_stream_data : varint;
};

## RFC 9000 §19.13 — STREAM_DATA_BLOCKED.
type QuicStreamDataBlockedFrame = record {
    stream_id           : varint;
    maximum_stream_data : varint;
};

## RFC 9000 §19.15 — NEW_CONNECTION_ID.
type QuicNewConnectionIdFrame = record {
    sequence_number       : varint;
    retire_prior_to       : varint;
    length                : uint8 &check(length >= 1 && length <= 20);
    connection_id         : bytestring &length = length;
    stateless_reset_token : bytestring &length = 16;
};

## RFC 9000 §19.19 — CONNECTION_CLOSE: 0x1c for a QUIC error, which also names the frame type
## that caused it; 0x1d for an application error.
type QuicConnectionClose(frame_type: varint) = record {
    error_code           : varint;
    ## The Frame Type field of a 0x1c frame (0 when unknown).
    error_frame_type     : varint &if(frame_type == 0x1c);
    reason_phrase_length : varint;
    ## Why the connection closed, in UTF-8 (not checked).
    reason_phrase        : bytestring &length = reason_phrase_length;
};

# ---------------------------------------------------------------------------------------
# Events: Zeek's QUIC events (module QUIC), parameter names and types as Zeek declares them.
# ---------------------------------------------------------------------------------------

## A long header Initial packet was seen (QUIC v1 or v2, or a draft or mvfst version).
event QUIC::initial_packet(
    c: connection,
    ## True when the packet came from the connection's originator.
    is_orig: bool,
    ## The packet's Version field.
    version: count,
    ## The packet's Destination Connection ID.
    dcid: string,
    ## The packet's Source Connection ID.
    scid: string
);

## A Retry packet was seen.
event QUIC::retry_packet(
    c: connection,
    ## True when the packet came from the connection's originator.
    is_orig: bool,
    ## The packet's Version field.
    version: count,
    ## The packet's Destination Connection ID.
    dcid: string,
    ## The packet's Source Connection ID.
    scid: string,
    ## The Retry Token the client must echo in its next Initial.
    retry_token: string,
    ## The 16-byte Retry Integrity Tag.
    retry_integrity_tag: string
);

## A long header Handshake packet was seen.
event QUIC::handshake_packet(
    c: connection,
    ## True when the packet came from the connection's originator.
    is_orig: bool,
    ## The packet's Version field.
    version: count,
    ## The packet's Destination Connection ID.
    dcid: string,
    ## The packet's Source Connection ID.
    scid: string
);

## A long header 0-RTT packet was seen.
event QUIC::zero_rtt_packet(
    c: connection,
    ## True when the packet came from the connection's originator.
    is_orig: bool,
    ## The packet's Version field.
    version: count,
    ## The packet's Destination Connection ID.
    dcid: string,
    ## The packet's Source Connection ID.
    scid: string
);

## A CONNECTION_CLOSE frame of type 0x1c (a QUIC-level error) was read from a decrypted
## Initial packet. Closes after the handshake are encrypted with keys a passive observer does
## not have, so they are rarely seen.
event QUIC::connection_close_frame(
    c: connection,
    ## True when the packet came from the connection's originator.
    is_orig: bool,
    ## The Version field of the packet that carried the frame.
    version: count,
    ## The Destination Connection ID of that packet.
    dcid: string,
    ## The Source Connection ID of that packet.
    scid: string,
    ## The error code: why the connection was closed.
    error_code: count,
    ## The reason phrase: more detail on the closure, possibly empty.
    reason_phrase: string
);

## A long header packet of a version the analyzer does not handle, or a Version Negotiation
## packet (version 0), was seen.
event QUIC::unhandled_version(
    c: connection,
    ## True when the packet came from the connection's originator.
    is_orig: bool,
    ## The packet's Version field.
    version: count,
    ## The packet's Destination Connection ID.
    dcid: string,
    ## The packet's Source Connection ID.
    scid: string
);

## A packet whose fixed bit is 0 was discarded, after some Initial packets of the connection
## were decrypted. Raised by the analyzer (see the top of this file).
event QUIC::discarded_packet(
    c: connection,
    ## True when the packet came from the connection's originator.
    is_orig: bool,
    ## How many packets of the connection were decrypted before this one.
    total_decrypted: count
);

## The number of short header packets seen in one direction reached a power of two.
event QUIC::short_header_packet_threshold_crossed(
    c: connection,
    ## True when the count is the originator's, false for the responder's.
    is_orig: bool,
    ## The count reached.
    threshold: count
);

on QuicLongHeader if self.form == 0
    -> event QUIC::initial_packet($conn, $is_orig, self.version, self.dcid, self.scid);
on QuicLongHeader if self.form == 1
    -> event QUIC::zero_rtt_packet($conn, $is_orig, self.version, self.dcid, self.scid);
on QuicLongHeader if self.form == 2
    -> event QUIC::handshake_packet($conn, $is_orig, self.version, self.dcid, self.scid);
on QuicLongHeader if self.form >= 4
    -> event QUIC::unhandled_version($conn, $is_orig, self.version, self.dcid, self.scid);
on QuicRetryFields -> event QUIC::retry_packet($conn, $is_orig, $quic_version, $quic_dcid,
        $quic_scid, self.retry_token, self.integrity_tag);
on QuicConnectionClose if self.frame_type == 0x1c
    -> event QUIC::connection_close_frame($conn, $is_orig, $quic_version, $quic_dcid,
        $quic_scid, self.error_code, self.reason_phrase);
on QuicShortHeader if $quic_short_header_threshold > 0
    -> event QUIC::short_header_packet_threshold_crossed($conn, $is_orig,
        $quic_short_header_threshold);
