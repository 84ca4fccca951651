# An event in a Zeek module: the Zeek name keeps the prefix, the variant joins it in CamelCase
# (`QUIC::initial_packet` -> `QuicInitialPacket`).
type Packet = record {
    version : uint32;
};
## Raised for every packet.
## version: the packet's version.
event QUIC::initial_packet(c: connection, version: count);
on Packet -> event QUIC::initial_packet($conn, self.version);
